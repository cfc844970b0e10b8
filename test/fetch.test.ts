import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../src/data/catalog.js';
import { type DownloadReporter, downloadVerified, fetchDataset } from '../src/data/fetch.js';
import { extractTarGz } from '../src/data/tar.js';
import { InputError, RunError } from '../src/errors.js';
import { type CliResult, expectInputError, repoRoot, tempDir } from './support/cli.js';

// ---------------------------------------------------------------- test data

/** Bytes that differ everywhere from their neighbours, so a splice at the wrong place shows. */
function pseudoRandomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** One ustar header block plus the padded data: the layout src/data/tar.ts documents. */
function tarEntry(name: string, body: string | Uint8Array, type = '0', prefix = ''): Buffer {
  const data = Buffer.from(body);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A pax extended header naming the next entry `name`. */
function paxEntry(name: string): Buffer {
  const body = (length: number) => `${length} path=${name}\n`;
  let length = body(0).length;
  while (body(length).length !== length) length = body(length).length;
  return tarEntry('PaxHeaders/x', body(length), 'x');
}

const tarGz = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

const big = pseudoRandomBytes(300_000, 1); // several chunks, so a transfer can break in the middle
const small = pseudoRandomBytes(1000, 2);
const batch = pseudoRandomBytes(5000, 3);
const archive = tarGz(
  tarEntry('set/', '', '5'),
  tarEntry('set/one.bin', batch),
  tarEntry('two.bin', 'second', '0', 'set'), // name split into prefix + name
  tarEntry('set/link', '', '2'), // a symlink: skipped
);

const FILES: Record<string, Buffer> = { 'big.bin': big, 'small.bin': small, 'set.tar.gz': archive };

// ---------------------------------------------------------------- the server

interface Logged {
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
  status: number;
}

/**
 * GET /<scenario>/<dataset>/<file> serves FILES[file] the way the scenario says. Each
 * scenario's behaviour can depend on how often that exact path has been asked for.
 */
const scenarios: Record<string, (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, nth: number) => void> = {
  good: (req, res, body) => serveRange(req, res, body),
  norange: (_req, res, body) => serveWhole(res, body),
  bad: (_req, res, body) => serveWhole(res, Buffer.from(body.map((b) => b ^ 0xff))),
  missing: (_req, res) => {
    res.writeHead(404, 'Not Found').end('no such file');
  },
  // The socket dies half-way through the first response; later requests are served well.
  'drop-once': (req, res, body, nth) => (nth === 1 ? dropHalfway(res, body) : serveRange(req, res, body)),
  'drop-once-norange': (_req, res, body, nth) => (nth === 1 ? dropHalfway(res, body) : serveWhole(res, body)),
  'drop-always': (_req, res, body) => dropHalfway(res, body),
  // Headers and a few bytes, then silence: only the idle timeout ends it.
  'stall-once': (req, res, body, nth) => {
    if (nth > 1) return serveRange(req, res, body);
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, 100));
  },
  'error-once': (req, res, body, nth) => (nth === 1 ? res.writeHead(503).end() : serveRange(req, res, body)),
  // 302 with a relative Location, then 307 with an absolute one, then the file.
  redirect: (req, res) => {
    res.writeHead(302, { location: `/redirect2${req.url!.slice('/redirect'.length)}` }).end();
  },
  redirect2: (req, res) => {
    res.writeHead(307, { location: `${baseUrl}/good${req.url!.slice('/redirect2'.length)}` }).end();
  },
  'redirect-loop': (req, res) => {
    res.writeHead(301, { location: req.url! }).end();
  },
};

const ETAG = '"v1"';

function serveWhole(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-length': body.length, etag: ETAG });
  res.end(body);
}

function serveRange(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (!m || (ifRange !== undefined && ifRange !== ETAG)) {
    serveWhole(res, body);
    return;
  }
  const start = Number(m[1]);
  res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, etag: ETAG });
  res.end(body.subarray(start));
}

function dropHalfway(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-length': body.length, etag: ETAG });
  res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
}

const log: Logged[] = [];
const counts = new Map<string, number>();
let server: http.Server;
let baseUrl = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const nth = (counts.get(url) ?? 0) + 1;
    counts.set(url, nth);
    const [, scenario = '', , file = ''] = url.split('/');
    // 'close', not 'finish': a response whose socket was destroyed never finishes.
    res.on('close', () =>
      log.push({ path: url, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, status: res.statusCode }),
    );
    const handler = scenarios[scenario];
    // Any other name (the real datasets' files, asked for through the CLI) gets `big`.
    const body = FILES[file] ?? big;
    if (!handler) return void res.writeHead(404).end();
    handler(req, res, body, nth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const tmp = tempDir('dlt-fetch-');
afterAll(() => tmp.cleanup());

let caseNo = 0;
/** A fresh folder, and URL paths no earlier test has asked for (the server counts per path). */
function fresh(): { dir: string; dataset: string } {
  caseNo++;
  const dir = path.join(tmp.dir, `case-${caseNo}`);
  mkdirSync(dir, { recursive: true });
  return { dir, dataset: `ds${caseNo}` };
}

const url = (scenario: string, dataset: string, file: string) => `${baseUrl}/${scenario}/${dataset}/${file}`;
const requestsFor = (dataset: string) => log.filter((l) => l.path.split('/')[2] === dataset);

/** Remembers what a download said. */
function recorder(): DownloadReporter & { lines: string[]; starts: { from: number; total: number | undefined }[] } {
  const lines: string[] = [];
  const starts: { from: number; total: number | undefined }[] = [];
  return {
    lines,
    starts,
    start: (label, u, total, from) => {
      starts.push({ from, total });
      lines.push(`start ${label} ${u} from ${from}`);
    },
    progress: () => {},
    stop: () => {},
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

const quick = { retryDelayMs: 5, idleTimeoutMs: 400, retries: 3 };

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

/** Nothing but `names` in `dir`: no temporary files left behind. */
function expectOnly(dir: string, names: string[]): void {
  expect(readdirSync(dir).sort()).toEqual([...names].sort());
}

beforeEach(() => {
  log.length = 0;
});

// ---------------------------------------------------------------- downloads

describe('downloadVerified', () => {
  it('downloads a good file, verifies it and renames it into place', async () => {
    const { dir, dataset } = fresh();
    const dest = path.join(dir, 'big.bin');
    const result = await downloadVerified([url('good', dataset, 'big.bin')], dest, md5(big), quick);
    expect(result).toEqual({ url: url('good', dataset, 'big.bin'), bytes: big.length });
    expect(readFileSync(dest).equals(big)).toBe(true);
    expectOnly(dir, ['big.bin']);
  });

  it('removes a file whose checksum is wrong and says expected, got and where from', async () => {
    const { dir, dataset } = fresh();
    const source = url('bad', dataset, 'small.bin');
    const err = await rejection(downloadVerified([source], path.join(dir, 'small.bin'), md5(small), quick));
    expect(err).toBeInstanceOf(RunError);
    expect(err.message).toBe(
      `could not download small.bin from ${source}: checksum mismatch: expected md5 ${md5(small)}, got ${md5(small.map((b) => b ^ 0xff))} (1000 bytes); the downloaded file was removed`,
    );
    expectOnly(dir, []);
  });

  it('resumes a dropped transfer with a Range request and verifies the whole', async () => {
    const { dir, dataset } = fresh();
    const said = recorder();
    const dest = path.join(dir, 'big.bin');
    await downloadVerified([url('drop-once', dataset, 'big.bin')], dest, md5(big), { ...quick, reporter: said });
    expect(readFileSync(dest).equals(big)).toBe(true);
    const requests = requestsFor(dataset);
    expect(requests).toHaveLength(2);
    // The second request asks for the rest, tied to the first's ETag, and gets 206.
    const half = big.length >> 1;
    expect(requests[1]).toMatchObject({ range: `bytes=${half}-`, ifRange: ETAG, status: 206 });
    expect(said.starts).toEqual([
      { from: 0, total: big.length },
      { from: half, total: big.length },
    ]);
    expect(said.lines.some((l) => l.startsWith('warn big.bin: the connection broke after') && l.includes(`resuming at byte ${half}`))).toBe(true);
    expectOnly(dir, ['big.bin']);
  });

  it('starts over when the server ignores Range and sends the whole file again', async () => {
    const { dir, dataset } = fresh();
    const said = recorder();
    const dest = path.join(dir, 'big.bin');
    await downloadVerified([url('drop-once-norange', dataset, 'big.bin')], dest, md5(big), { ...quick, reporter: said });
    expect(readFileSync(dest).equals(big)).toBe(true);
    const requests = requestsFor(dataset);
    expect(requests.map((r) => r.status)).toEqual([200, 200]);
    expect(requests[1]!.range).toBe(`bytes=${big.length >> 1}-`);
    expect(said.lines.some((l) => l.includes('no Range support') && l.includes('starting over'))).toBe(true);
  });

  it('gives up after the retries with the reason and the URL, leaving nothing behind', async () => {
    const { dir, dataset } = fresh();
    const source = url('drop-always', dataset, 'big.bin');
    const err = await rejection(downloadVerified([source], path.join(dir, 'big.bin'), md5(big), quick));
    expect(err).toBeInstanceOf(RunError);
    expect(err.message).toMatch(
      new RegExp(
        `^could not download big\\.bin from ${escapeRegExp(source)}: the connection broke after \\d+ of ${big.length} bytes .*; gave up after 4 attempts`,
      ),
    );
    expect(err.message).toContain(`put big.bin into ${dir} by hand`);
    expect(requestsFor(dataset)).toHaveLength(4);
    expectOnly(dir, []);
  });

  it('retries a server error (503) and a connection that goes silent', async () => {
    for (const scenario of ['error-once', 'stall-once']) {
      const { dir, dataset } = fresh();
      const dest = path.join(dir, 'small.bin');
      await downloadVerified([url(scenario, dataset, 'small.bin')], dest, md5(small), quick);
      expect(readFileSync(dest).equals(small), scenario).toBe(true);
    }
  });

  it('follows redirects (302 relative, 307 absolute) and gives up on a loop', async () => {
    const { dir, dataset } = fresh();
    const dest = path.join(dir, 'small.bin');
    await downloadVerified([url('redirect', dataset, 'small.bin')], dest, md5(small), quick);
    expect(readFileSync(dest).equals(small)).toBe(true);
    expect(requestsFor(dataset).map((r) => [r.path.split('/')[1], r.status])).toEqual([
      ['redirect', 302],
      ['redirect2', 307],
      ['good', 200],
    ]);
    const err = await rejection(downloadVerified([url('redirect-loop', dataset, 'small.bin')], `${dest}2`, md5(small), quick));
    expect(err.message).toContain('more than 10 redirects');
  });

  it('does not retry a 404, and moves on to the next URL', async () => {
    const { dir, dataset } = fresh();
    const said = recorder();
    const dest = path.join(dir, 'small.bin');
    const missing = url('missing', dataset, 'small.bin');
    const good = url('good', dataset, 'small.bin');
    const result = await downloadVerified([missing, good], dest, md5(small), { ...quick, reporter: said });
    expect(result.url).toBe(good);
    expect(said.lines).toContain(`warn small.bin: HTTP 404 Not Found at ${missing}; trying ${good}`);
    expect(requestsFor(dataset).map((r) => r.status)).toEqual([404, 200]);

    const err = await rejection(downloadVerified([missing], `${dest}2`, md5(small), quick));
    expect(err.message).toContain(`could not download small.bin2 from ${missing}: HTTP 404 Not Found`);
  });

  it('moves on from a host that does not answer at all when there is another URL', async () => {
    const { dir, dataset } = fresh();
    // A port that was just free again refuses the connection.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const said = recorder();
    const result = await downloadVerified(
      [`http://127.0.0.1:${port}/small.bin`, url('good', dataset, 'small.bin')],
      path.join(dir, 'small.bin'),
      md5(small),
      { ...quick, reporter: said },
    );
    expect(result.url).toBe(url('good', dataset, 'small.bin'));
    // No retries at the dead host: one warning, straight to the next URL.
    expect(said.lines.filter((l) => l.startsWith('warn'))).toEqual([
      expect.stringMatching(new RegExp(`^warn small\\.bin: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} at `)),
    ]);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------- datasets

/** A made-up catalog entry served by the test server (the real ones carry real MD5s). */
function entry(name: string, files: Record<string, Buffer>, archiveOf?: { file: string; folder: string; required: string[] }): CatalogEntry {
  return {
    name: name as CatalogEntry['name'],
    title: name,
    homepage: baseUrl,
    downloads: Object.entries(files).map(([file, body]) => ({ file, urls: ['http://127.0.0.1:9/never-used'], md5: md5(body) })),
    archive: archiveOf && { file: archiveOf.file, folder: archiveOf.folder },
    required: archiveOf ? archiveOf.required : Object.keys(files),
    systemDirs: [],
    spec: (dir) => ({ format: 'cifar10', path: dir, split: 'train' }),
  };
}

describe('fetchDataset', () => {
  it('downloads every file into <cache>/<name>, then skips files already there with the right MD5', async () => {
    const { dir, dataset } = fresh();
    const env = { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/good` };
    const e = entry(dataset, { 'big.bin': big, 'small.bin': small });
    const first = await fetchDataset(e, { ...quick, env });
    expect(first).toEqual({
      name: dataset,
      dir: path.join(dir, dataset),
      files: [
        { file: 'big.bin', status: 'downloaded', bytes: big.length },
        { file: 'small.bin', status: 'downloaded', bytes: small.length },
      ],
      unpacked: 0,
    });
    expect(readFileSync(path.join(dir, dataset, 'small.bin')).equals(small)).toBe(true);

    log.length = 0;
    const second = await fetchDataset(e, { ...quick, env });
    expect(second.files.map((f) => f.status)).toEqual(['present', 'present']);
    expect(log).toHaveLength(0);
  });

  it('downloads again a file in the cache whose MD5 is wrong', async () => {
    const { dir, dataset } = fresh();
    const env = { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/good` };
    mkdirSync(path.join(dir, dataset));
    writeFileSync(path.join(dir, dataset, 'small.bin'), 'damaged');
    const said = recorder();
    const summary = await fetchDataset(entry(dataset, { 'small.bin': small }), { ...quick, env, reporter: said });
    expect(summary.files[0]!.status).toBe('downloaded');
    expect(readFileSync(path.join(dir, dataset, 'small.bin')).equals(small)).toBe(true);
    expect(said.lines.some((l) => l.startsWith(`warn small.bin: the copy in the cache has md5 ${md5(Buffer.from('damaged'))}`))).toBe(true);
  });

  it('unpacks a verified tar.gz into the cache and removes the archive', async () => {
    const { dir, dataset } = fresh();
    const env = { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/good` };
    const e = entry(dataset, { 'set.tar.gz': archive }, { file: 'set.tar.gz', folder: 'set', required: ['set/one.bin', 'set/two.bin'] });
    const summary = await fetchDataset(e, { ...quick, env });
    expect(summary.unpacked).toBe(2);
    const home = path.join(dir, dataset);
    expectOnly(home, ['set']);
    expectOnly(path.join(home, 'set'), ['one.bin', 'two.bin']);
    expect(readFileSync(path.join(home, 'set', 'one.bin')).equals(batch)).toBe(true);
    expect(readFileSync(path.join(home, 'set', 'two.bin'), 'utf8')).toBe('second');

    log.length = 0;
    const again = await fetchDataset(e, { ...quick, env });
    expect(again.files).toEqual([]);
    expect(log).toHaveLength(0);
  });

  it('fails when the archive lacks a file the dataset needs, and keeps nothing half-unpacked', async () => {
    const { dir, dataset } = fresh();
    const env = { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/good` };
    const e = entry(dataset, { 'set.tar.gz': archive }, { file: 'set.tar.gz', folder: 'set', required: ['set/one.bin', 'set/three.bin'] });
    const err = await rejection(fetchDataset(e, { ...quick, env }));
    expect(err).toBeInstanceOf(RunError);
    expect(err.message).toContain('does not hold set/three.bin');
    // The verified archive stays, so the next fetch need not download it again.
    expectOnly(path.join(dir, dataset), ['set.tar.gz']);
  });

  it('removes partial downloads left by a process that is gone', async () => {
    const { dir, dataset } = fresh();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    mkdirSync(path.join(dir, dataset));
    writeFileSync(path.join(dir, dataset, `.small.bin.${gone}.part`), 'half');
    mkdirSync(path.join(dir, dataset, `.unpack-${gone}-abc`));
    await fetchDataset(entry(dataset, { 'small.bin': small }), { ...quick, env: { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/good` } });
    expectOnly(path.join(dir, dataset), ['small.bin']);
  });
});

// ---------------------------------------------------------------- tar

describe('extractTarGz', () => {
  it('writes regular files, honours the ustar prefix and pax paths, and skips links', async () => {
    const { dir } = fresh();
    const file = path.join(dir, 'a.tar.gz');
    const longName = `deep/${'n'.repeat(120)}.bin`;
    writeFileSync(
      file,
      tarGz(
        tarEntry('top/a.txt', 'alpha'),
        tarEntry('b.txt', 'beta', '0', 'top/sub'),
        tarEntry('top/l', '', '2'),
        paxEntry(longName),
        tarEntry('short-stand-in', 'long'),
      ),
    );
    const out = path.join(dir, 'out');
    const files = await extractTarGz(file, out);
    expect(files).toEqual([
      { path: 'top/a.txt', bytes: 5 },
      { path: 'top/sub/b.txt', bytes: 4 },
      { path: longName, bytes: 4 },
    ]);
    expect(readFileSync(path.join(out, 'top/sub/b.txt'), 'utf8')).toBe('beta');
    expect(readFileSync(path.join(out, longName), 'utf8')).toBe('long');
    expect(existsSync(path.join(out, 'top/l'))).toBe(false);
  });

  it('refuses members whose path is absolute or climbs out of the target', async () => {
    for (const name of ['../escape.txt', 'ok/../../escape.txt', '/tmp/escape.txt']) {
      const { dir } = fresh();
      const file = path.join(dir, 'evil.tar.gz');
      writeFileSync(file, tarGz(tarEntry(name, 'gotcha')));
      const err = await rejection(extractTarGz(file, path.join(dir, 'out')));
      expect(err, name).toBeInstanceOf(InputError);
      expect((err as InputError).format()).toBe(`${file}: refusing archive member "${name}": its path is absolute or leaves the target folder`);
      expect(existsSync(path.join(dir, 'escape.txt'))).toBe(false);
    }
  });

  it('rejects a damaged header, a cut-short archive and a file that is not gzip', async () => {
    const { dir } = fresh();
    const damaged = tarEntry('a.txt', 'alpha');
    damaged[0] = 'b'.charCodeAt(0); // the name changes, the checksum does not
    writeFileSync(path.join(dir, 'damaged.tar.gz'), tarGz(damaged));
    expect((await rejection(extractTarGz(path.join(dir, 'damaged.tar.gz'), path.join(dir, 'o1')))).message).toMatch(
      /^damaged tar header at byte 0: checksum \d+ but the header sums to \d+$/,
    );

    writeFileSync(path.join(dir, 'short.tar.gz'), gzipSync(tarEntry('a.bin', batch).subarray(0, 2000)));
    expect((await rejection(extractTarGz(path.join(dir, 'short.tar.gz'), path.join(dir, 'o2')))).message).toContain('cut short inside a.bin');

    writeFileSync(path.join(dir, 'plain.tar.gz'), 'not gzip at all');
    const err = await rejection(extractTarGz(path.join(dir, 'plain.tar.gz'), path.join(dir, 'o3')));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^not a readable \.tar\.gz/);
  });

  // An archive made by the system's tar (GNU tar on Debian), with a name too long for
  // the 100-byte field, as a check on the reader beyond this file's own writer.
  const hasTar = spawnSync('tar', ['--version']).status === 0;
  it.skipIf(!hasTar)('reads an archive made by the tar program', async () => {
    const { dir } = fresh();
    const src = path.join(dir, 'src');
    const longName = `${'x'.repeat(150)}.bin`;
    mkdirSync(path.join(src, 'cifar-10-batches-bin'), { recursive: true });
    writeFileSync(path.join(src, 'cifar-10-batches-bin', 'data_batch_1.bin'), batch);
    writeFileSync(path.join(src, 'cifar-10-batches-bin', longName), 'long');
    const made = spawnSync('tar', ['czf', path.join(dir, 'made.tar.gz'), '-C', src, 'cifar-10-batches-bin']);
    expect(made.status, made.stderr.toString()).toBe(0);
    const files = await extractTarGz(path.join(dir, 'made.tar.gz'), path.join(dir, 'out'));
    expect(files.map((f) => f.path).sort()).toEqual(['cifar-10-batches-bin/data_batch_1.bin', `cifar-10-batches-bin/${longName}`]);
    expect(readFileSync(path.join(dir, 'out', 'cifar-10-batches-bin', 'data_batch_1.bin')).equals(batch)).toBe(true);
  });
});

// ---------------------------------------------------------------- the CLI

/**
 * Run the built CLI without a TTY. Asynchronous, unlike test/support/cli.ts's dlt(): the
 * server answering it lives in this process and must keep running meanwhile.
 */
function dltAsync(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'dlt.js'), ...args], {
      cwd: tmp.dir,
      env: { ...process.env, NO_COLOR: '1', DLT_DEBUG: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('dlt data fetch', () => {
  const FASHION_TRAIN_IMAGES_MD5 = '8d4fb7e6c68d591d4c3dfef9ec88bf0d';

  it('exits 1 with expected and actual MD5 and the URL when the checksum is wrong, keeping nothing', async () => {
    const { dir } = fresh();
    const r = await dltAsync(['data', 'fetch', 'fashion-mnist'], { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/bad` });
    const source = `${baseUrl}/bad/fashion-mnist/train-images-idx3-ubyte.gz`;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`train-images-idx3-ubyte.gz: downloading ${source}`);
    expect(r.stderr).toBe(
      `error: could not download train-images-idx3-ubyte.gz from ${source}: checksum mismatch: expected md5 ${FASHION_TRAIN_IMAGES_MD5}, ` +
        `got ${md5(big.map((b) => b ^ 0xff))} (${big.length} bytes); the downloaded file was removed\n`,
    );
    expectOnly(path.join(dir, 'fashion-mnist'), []);
  });

  it('resumes a dropped transfer (and still refuses the wrong bytes)', async () => {
    const { dir } = fresh();
    const r = await dltAsync(['data', 'fetch', 'mnist'], { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/drop-once` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /warning: train-images-idx3-ubyte\.gz: the connection broke after \d+ of 300000 bytes .*; resuming at byte 150000 \(attempt 2 of 5\)/,
    );
    expect(r.stdout).toContain('train-images-idx3-ubyte.gz: resuming at byte 150000 of');
    expect(r.stderr).toContain('checksum mismatch: expected md5 f68b3c2dcbeaaa9fbdd348bbdeb94873');
    expect(r.stderr).toContain(`got ${md5(big)}`);
    expectOnly(path.join(dir, 'mnist'), []);
  });

  it('exits 1 on a 404, naming the URL', async () => {
    const { dir } = fresh();
    const r = await dltAsync(['data', 'fetch', 'cifar10'], { DLT_DATA: dir, DLT_DATA_MIRROR: `${baseUrl}/missing/` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: could not download cifar-10-binary.tar.gz from ${baseUrl}/missing/cifar10/cifar-10-binary.tar.gz: HTTP 404 Not Found`,
    );
  });

  it('exits 2 with a did-you-mean for an unknown name, downloading nothing', async () => {
    log.length = 0;
    const r = await dltAsync(['data', 'fetch', 'cifar-10'], { DLT_DATA: tmp.dir, DLT_DATA_MIRROR: `${baseUrl}/good` });
    expect(expectInputError(r)).toBe('error: unknown dataset "cifar-10" (known: mnist, fashion-mnist, cifar10); did you mean "cifar10"?\n');
    expect(log).toHaveLength(0);
  });
});

describe('dlt data list', () => {
  it('shows what is present and where, as a table and as JSON', async () => {
    const { dir } = fresh();
    mkdirSync(path.join(dir, 'mnist'));
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      writeFileSync(path.join(dir, 'mnist', f), '');
    }
    const table = await dltAsync(['data', 'list'], { DLT_DATA: dir });
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe(`cache folder: ${dir}`);
    expect(lines).toContain(`mnist          present  cache   ${path.join(dir, 'mnist')}`);
    expect(lines).toContain('cifar10        missing  -       -');
    expect(table.stdout).toContain('dlt data fetch cifar10');

    const json = await dltAsync(['data', 'list', '--json'], { DLT_DATA: dir });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.cache_dir).toBe(dir);
    const byName = Object.fromEntries(parsed.datasets.map((d: { name: string }) => [d.name, d]));
    expect(Object.keys(byName).sort()).toEqual(['cifar10', 'fashion-mnist', 'mnist']);
    expect(byName.mnist).toMatchObject({ present: true, location: 'cache', path: path.join(dir, 'mnist') });
    expect(byName.cifar10).toMatchObject({ present: false, location: null, path: null });
    expect(byName.cifar10.looked_in[0]).toMatchObject({ path: path.join(dir, 'cifar10'), kind: 'cache' });
    expect(byName.cifar10.looked_in[0].missing).toHaveLength(6);
  });
});
