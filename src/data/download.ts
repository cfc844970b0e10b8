/**
 * Downloading one file for `dlt data fetch`: to a temporary file in the cache folder,
 * checked against the MD5 its authors publish, and only then renamed into place, so a
 * file under its real name in the cache has always been verified.
 *
 * A transfer that breaks is retried a few times. When the server answers a Range request
 * with 206 and a Content-Range starting where the partial file ends, the download goes
 * on from there; a server that answers 200 instead (no Range support, or the file
 * changed, as If-Range tells it) sends the whole file and the download starts over.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunError } from '../errors.js';

/** What a download tells its user; the CLI shows it as a progress bar or as plain lines. */
export interface DownloadReporter {
  /** A transfer of `label` starts at byte `from`; `total` is the file's size when the server says. */
  start(label: string, url: string, total: number | undefined, from: number): void;
  /** `received` bytes of the file are on disk or on their way. */
  progress(received: number): void;
  /** The transfer ended (whether or not it succeeded); the bar, if any, goes away. */
  stop(): void;
  /** Something went wrong and dlt will try again, or try elsewhere. */
  warn(message: string): void;
  info(message: string): void;
}

/** A reporter that says nothing (library use, tests). */
export const quietReporter: DownloadReporter = {
  start: () => {},
  progress: () => {},
  stop: () => {},
  warn: () => {},
  info: () => {},
};

export interface DownloadOptions {
  reporter?: DownloadReporter;
  /** Further attempts at one URL after a broken or failed transfer. */
  retries?: number;
  /** Wait before the first retry; doubled for each further one. */
  retryDelayMs?: number;
  /** A connection that carries no byte for this long counts as broken. */
  idleTimeoutMs?: number;
}

const DEFAULTS = { retries: 4, retryDelayMs: 1000, idleTimeoutMs: 30_000 };
const MAX_REDIRECTS = 10;

export interface DownloadResult {
  url: string;
  bytes: number;
}

/**
 * Downloads one file to `dest`, trying `urls` in order, and renames it into place only
 * when its MD5 is `md5`.
 *
 * @throws RunError when every URL failed: the last one's reason (HTTP status, connection
 *   failure after the retries, or checksum mismatch with expected and actual MD5) and URL.
 */
export async function downloadVerified(urls: readonly string[], dest: string, md5: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const o: Required<DownloadOptions> = {
    reporter: options.reporter ?? quietReporter,
    retries: options.retries ?? DEFAULTS.retries,
    retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
  };
  const label = path.basename(dest);
  const temp = path.join(path.dirname(dest), `.${label}.${process.pid}.part`);
  const failures: string[] = [];
  let mismatches = 0;
  try {
    for (let i = 0; i < urls.length; i++) {
      const url = urls[i]!;
      const hasFallback = i < urls.length - 1;
      let bytes: number;
      try {
        bytes = await downloadFrom(url, temp, label, o, hasFallback);
      } catch (err) {
        if (!(err instanceof TransferFailed)) throw err;
        failures.push(`${url}: ${err.message}`);
        if (hasFallback) o.reporter.warn(`${label}: ${err.message} at ${url}; trying ${urls[i + 1]}`);
        continue;
      }
      const got = await md5File(temp);
      if (got !== md5) {
        rmSync(temp, { force: true });
        const why = `checksum mismatch: expected md5 ${md5}, got ${got} (${bytes} bytes); the downloaded file was removed`;
        failures.push(`${url}: ${why}`);
        mismatches++;
        if (hasFallback) o.reporter.warn(`${label}: ${why}; trying ${urls[i + 1]}`);
        continue;
      }
      renameSync(temp, dest);
      return { url, bytes };
    }
  } finally {
    rmSync(temp, { force: true });
  }
  const message =
    failures.length === 1
      ? `could not download ${label} from ${failures[0]}`
      : `could not download ${label}:\n${failures.map((f) => `  ${f}`).join('\n')}`;
  // When no server answered usefully, a copy fetched some other way is just as good.
  const hint =
    mismatches === 0 ? `\ncheck the network, or put ${label} into ${path.dirname(dest)} by hand: dlt data fetch checks its md5 and keeps it` : '';
  throw new RunError(message + hint);
}

/** A transfer from one URL failed for good (the message says why). */
class TransferFailed extends Error {}

/** A failure worth another attempt: a broken connection, a timeout, a 5xx. */
class Transient extends Error {
  constructor(
    message: string,
    /** True when no response arrived at all (the host is unreachable). */
    readonly beforeResponse = false,
  ) {
    super(message);
  }
}

/**
 * Downloads `url` into `temp`, resuming or restarting after broken transfers.
 * @param hasFallback another URL follows: a host that does not answer at all is left at once.
 * @returns the file's size.
 */
async function downloadFrom(url: string, temp: string, label: string, o: Required<DownloadOptions>, hasFallback: boolean): Promise<number> {
  writeFileSync(temp, '');
  let received = 0;
  let total: number | undefined;
  // Sent as If-Range, so that a file changed between attempts comes whole (200), not spliced.
  let validator: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const headers: Record<string, string> = { 'user-agent': 'dlt', 'accept-encoding': 'identity' };
      if (received > 0) {
        headers.range = `bytes=${received}-`;
        if (validator) headers['if-range'] = validator;
      }
      const response = await get(url, headers, o.idleTimeoutMs);
      const status = response.statusCode ?? 0;
      let append = false;
      if (status === 206 && received > 0) {
        const range = parseContentRange(response.headers['content-range']);
        if (!range || range.start !== received) {
          response.destroy();
          received = 0;
          throw new Transient(`the server resumed at the wrong place (Content-Range: ${response.headers['content-range'] ?? 'none'})`);
        }
        append = true;
        total = range.total ?? total;
      } else if (status === 200) {
        if (received > 0) o.reporter.info(`${label}: the server sent the whole file again instead of the rest (no Range support); starting over`);
        received = 0;
        const length = Number(response.headers['content-length']);
        total = response.headers['content-length'] !== undefined && Number.isSafeInteger(length) ? length : undefined;
        const etag = response.headers.etag;
        validator = etag && !etag.startsWith('W/') ? etag : response.headers['last-modified'];
      } else if (status === 416 && total !== undefined && received === total) {
        // The previous attempt had every byte but broke before it could tell.
        response.resume();
        return received;
      } else {
        response.resume();
        const why = `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
        if (status >= 500 || status === 408 || status === 429) throw new Transient(why);
        throw new TransferFailed(why);
      }

      o.reporter.start(label, url, total, received);
      const out = createWriteStream(temp, { flags: append ? 'a' : 'w' });
      let sent = received;
      const count = async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          sent += chunk.length;
          o.reporter.progress(sent);
          yield chunk;
        }
      };
      try {
        await pipeline(response, count, out);
      } catch (err) {
        // The stream may have held bytes it never wrote: only the file's size counts.
        if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
        received = statSync(temp).size;
        throw new Transient(`the connection broke after ${received}${total !== undefined ? ` of ${total}` : ''} bytes (${messageOf(err)})`);
      } finally {
        o.reporter.stop();
      }
      received = statSync(temp).size;
      if (total !== undefined && received !== total) {
        throw new Transient(`the connection closed after ${received} of ${total} bytes`);
      }
      return received;
    } catch (err) {
      if (!(err instanceof Transient)) throw err;
      if (err.beforeResponse && hasFallback) throw new TransferFailed(err.message);
      if (attempt >= o.retries) throw new TransferFailed(`${err.message}; gave up after ${attempt + 1} attempts`);
      const how = received > 0 ? `resuming at byte ${received}` : 'trying again';
      o.reporter.warn(`${label}: ${err.message}; ${how} (attempt ${attempt + 2} of ${o.retries + 1})`);
      await sleep(o.retryDelayMs * 2 ** attempt);
    }
  }
}

/** GET `url`, following redirects; resolves on the final response's headers. */
async function get(url: string, headers: Record<string, string>, idleTimeoutMs: number): Promise<http.IncomingMessage> {
  let current = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await request(current, headers, idleTimeoutMs);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      response.resume();
      current = new URL(location, current);
      continue;
    }
    return response;
  }
  throw new TransferFailed(`more than ${MAX_REDIRECTS} redirects`);
}

function request(url: URL, headers: Record<string, string>, idleTimeoutMs: number): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new TransferFailed(`unsupported URL scheme ${url.protocol} (only http and https)`));
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = client.get(url, { headers }, (response) => {
      responded = true;
      resolve(response);
    });
    // Idle on the socket, before or during the body: destroy it, which fails the body stream too.
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data for ${Math.round(idleTimeoutMs / 1000)} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (responded) return; // the body stream reports it
      // A name that does not resolve will not resolve in a second either (EAI_AGAIN might).
      reject(err.code === 'ENOTFOUND' ? new TransferFailed(err.message) : new Transient(err.message, true));
    });
  });
}

/** `bytes <start>-<end>/<total or *>` */
function parseContentRange(header: string | undefined): { start: number; total: number | undefined } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** The MD5 of a file, lower-case hex. */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
