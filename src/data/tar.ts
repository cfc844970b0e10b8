/**
 * Unpacking a gzip-compressed tar archive (CIFAR-10 ships as cifar-10-binary.tar.gz),
 * streamed through Node's zlib so a 170 MB archive never sits in memory whole.
 *
 * Layout of a tar stream: a sequence of entries, each one 512-byte header block followed
 * by the entry's data padded with zeros to a multiple of 512 bytes; two all-zero blocks
 * end the archive. Header fields (ASCII, numbers in octal, NUL- or space-terminated):
 *   0   name[100]     124 size[12]      148 chksum[8]    156 typeflag[1]
 *   257 magic[6]      "ustar\0" (POSIX) or "ustar " (GNU, followed by " \0")
 *   345 prefix[155]   POSIX only: prepended to name with a "/"
 * The checksum is the sum of all 512 header bytes with the chksum field read as spaces.
 *
 * Only regular files are written. Directories are created as files need them; links,
 * devices and FIFOs are skipped, so nothing in an archive can point outside the target.
 * Long names in pax ("x") or GNU ("L") headers are honoured, because a tool may use them
 * even for short names. A path that is absolute or climbs out with ".." is refused.
 */
import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

const BLOCK = 512;

/** One regular file written by {@link extractTarGz}. */
export interface TarFile {
  /** Path inside the archive (and below the target folder), with "/" separators. */
  readonly path: string;
  readonly bytes: number;
}

/**
 * Unpacks the regular files of `archive` (a .tar.gz) below `target`, creating folders as
 * needed.
 *
 * @returns the files written, in archive order.
 * @throws InputError naming `archive` when it is not gzip, not a ustar archive, damaged,
 *   cut short, or names a path outside `target`.
 */
export async function extractTarGz(archive: string, target: string): Promise<TarFile[]> {
  const reader = new TarReader(archive, path.resolve(target));
  // The reader's own error, kept: pipeline reports it as an AbortError of the streams it tears down.
  let readerError: unknown;
  try {
    await pipeline(createReadStream(archive), createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        try {
          reader.push(chunk);
        } catch (err) {
          readerError = err;
          throw err;
        }
      }
    });
  } catch (caught) {
    reader.abort();
    const err = readerError ?? caught;
    if (err instanceof InputError) throw err;
    const code = err instanceof Error && 'code' in err ? err.code : undefined;
    if (err instanceof Error && (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'Z_STREAM_ERROR')) {
      throw new InputError(`not a readable .tar.gz: ${err.message}; delete the file and download it again`, archive);
    }
    throw err;
  }
  reader.finish();
  return reader.files;
}

type State =
  | { kind: 'header' }
  | { kind: 'data'; remaining: number; padding: number; sink: Sink }
  | { kind: 'padding'; remaining: number }
  | { kind: 'end' };

/** Where an entry's data goes: a file, memory (pax and GNU long-name headers), or nowhere. */
type Sink = { kind: 'file'; fd: number; entry: TarFile } | { kind: 'memory'; chunks: Buffer[]; use: 'pax' | 'longname' } | { kind: 'skip' };

/** A push parser over the decompressed tar stream. */
class TarReader {
  readonly files: TarFile[] = [];
  private state: State = { kind: 'header' };
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the tar stream consumed so far, for messages. */
  private offset = 0;
  /** A name from a pax or GNU long-name header, for the next entry only. */
  private pendingName: string | undefined;

  constructor(
    private readonly archive: string,
    private readonly target: string,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const state = this.state;
      if (state.kind === 'end') return; // whatever follows the end marker is padding
      if (state.kind === 'header') {
        const take = Math.min(BLOCK - this.headerFill, chunk.length - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader();
          this.offset += BLOCK;
        }
      } else if (state.kind === 'data') {
        const take = Math.min(state.remaining, chunk.length - pos);
        this.consume(state.sink, chunk.subarray(pos, pos + take));
        pos += take;
        state.remaining -= take;
        this.offset += take;
        if (state.remaining === 0) {
          this.close(state.sink);
          this.state = state.padding > 0 ? { kind: 'padding', remaining: state.padding } : { kind: 'header' };
        }
      } else {
        const take = Math.min(state.remaining, chunk.length - pos);
        pos += take;
        state.remaining -= take;
        this.offset += take;
        if (state.remaining === 0) this.state = { kind: 'header' };
      }
    }
  }

  /** The stream has ended: it must not end inside an entry. */
  finish(): void {
    const state = this.state;
    if (state.kind === 'data') {
      const name = state.sink.kind === 'file' ? state.sink.entry.path : 'an entry';
      this.abort();
      throw new InputError(`the archive is cut short inside ${name}; delete it and download it again`, this.archive);
    }
    if (state.kind === 'header' && this.headerFill > 0) {
      throw new InputError('the archive is cut short inside a header block; delete it and download it again', this.archive);
    }
  }

  /** Close an open output file after a failure. */
  abort(): void {
    if (this.state.kind === 'data' && this.state.sink.kind === 'file') closeSync(this.state.sink.fd);
    this.state = { kind: 'end' };
  }

  private readHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      // The first of the two zero blocks that end an archive.
      this.state = { kind: 'end' };
      return;
    }
    const magic = h.toString('latin1', 257, 262);
    if (magic !== 'ustar') {
      throw new InputError(`not a ustar tar archive: no "ustar" magic in the header at byte ${this.offset}`, this.archive);
    }
    const stored = octal(h.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (stored !== sum) {
      throw new InputError(`damaged tar header at byte ${this.offset}: checksum ${stored} but the header sums to ${sum}`, this.archive);
    }
    if (h[124]! & 0x80) {
      throw new InputError(`an entry at byte ${this.offset} is larger than 8 GiB (base-256 size); not supported`, this.archive);
    }
    const size = octal(h.subarray(124, 136));
    const posix = h.toString('latin1', 257, 263) === 'ustar\0';
    const prefix = posix ? cString(h.subarray(345, 500)) : '';
    const headerName = prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100));
    const type = String.fromCharCode(h[156]!);

    let sink: Sink;
    if (type === 'x') {
      sink = { kind: 'memory', chunks: [], use: 'pax' };
    } else if (type === 'L') {
      sink = { kind: 'memory', chunks: [], use: 'longname' };
    } else if (type === '0' || type === '\0' || type === '7') {
      // '7' is a contiguous file: an ordinary file for every purpose here.
      const name = this.pendingName ?? headerName;
      this.pendingName = undefined;
      sink = this.openFile(name, size);
    } else {
      // Directories, links, devices, FIFOs, global pax headers: nothing to write.
      if (type !== 'g') this.pendingName = undefined;
      sink = { kind: 'skip' };
    }
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) {
      this.close(sink);
      this.state = { kind: 'header' };
    } else {
      this.state = { kind: 'data', remaining: size, padding, sink };
    }
  }

  private openFile(name: string, size: number): Sink {
    const file = this.safePath(name);
    mkdirSync(path.dirname(file), { recursive: true });
    const entry: TarFile = { path: path.relative(this.target, file).split(path.sep).join('/'), bytes: size };
    return { kind: 'file', fd: openSync(file, 'w'), entry };
  }

  /** The absolute output path of an archive member, refusing any that leaves the target. */
  private safePath(name: string): string {
    const parts = name.split('/');
    if (name.includes('\0') || name.startsWith('/') || /^[A-Za-z]:/.test(name) || parts.includes('..')) {
      throw new InputError(`refusing archive member "${name}": its path is absolute or leaves the target folder`, this.archive);
    }
    const file = path.resolve(this.target, ...parts.filter((p) => p !== '' && p !== '.'));
    if (!file.startsWith(this.target + path.sep)) {
      throw new InputError(`refusing archive member "${name}": its path is absolute or leaves the target folder`, this.archive);
    }
    return file;
  }

  private consume(sink: Sink, bytes: Buffer): void {
    if (sink.kind === 'file') {
      let written = 0;
      while (written < bytes.length) written += writeSync(sink.fd, bytes, written, bytes.length - written);
    } else if (sink.kind === 'memory') {
      sink.chunks.push(Buffer.from(bytes));
    }
  }

  private close(sink: Sink): void {
    if (sink.kind === 'file') {
      closeSync(sink.fd);
      this.files.push(sink.entry);
    } else if (sink.kind === 'memory') {
      const data = Buffer.concat(sink.chunks);
      if (sink.use === 'longname') this.pendingName = cString(data);
      else {
        const pax = paxPath(data);
        if (pax !== undefined) this.pendingName = pax;
      }
    }
  }
}

/** A NUL-terminated (or full-width) ASCII field. */
function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? field.length : end);
}

/** An octal number field, padded with spaces or NULs. */
function octal(field: Buffer): number {
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  if (!/^[0-7]*$/.test(text)) return NaN;
  return text === '' ? 0 : parseInt(text, 8);
}

/**
 * The `path` record of a pax extended header. Records are "<length> <key>=<value>\n",
 * where length counts the bytes of the whole record, so a value may hold newlines.
 */
function paxPath(data: Buffer): string | undefined {
  let found: string | undefined;
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const length = space < 0 ? NaN : Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > data.length) break;
    const record = data.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') found = record.slice(eq + 1);
    pos += length;
  }
  return found;
}
