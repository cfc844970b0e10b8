import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  layoutTensors,
  type NamedTensor,
  readSafetensors,
  writeSafetensors,
} from '../src/snapshot/safetensors.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { pythonWith } from './support/pythonEnv.js';

const FILE = 'run/snapshots/step-10.safetensors';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dlt-safetensors-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** One tensor of every dtype, plus a scalar and an empty tensor. */
function sampleTensors(): NamedTensor[] {
  return [
    { name: 'param/dense_1/weight', dtype: 'F32', shape: [2, 3], data: Float32Array.from([0.1, -2.5, 1e-30, 3.4e38, -0, 7]) },
    { name: 'param/dense_1/bias', dtype: 'F64', shape: [3], data: Float64Array.from([Math.PI, -1e-300, 2 ** 60]) },
    { name: 'counts', dtype: 'I32', shape: [2, 2], data: Int32Array.from([-2147483648, -1, 0, 2147483647]) },
    { name: 'mask', dtype: 'U8', shape: [5], data: Uint8Array.from([0, 1, 127, 128, 255]) },
    { name: 'scalar', dtype: 'F64', shape: [], data: Float64Array.from([-42.125]) },
    { name: 'empty', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
  ];
}

const sampleMetadata = { format: 'dlt-snapshot', version: '1', config: '{"seed":1,"note":"héllo ✓"}' };

/** The raw bytes of a typed array, for bit-exact comparison (keeps -0 apart from 0). */
function bytesOf(a: NamedTensor['data']): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** A safetensors file assembled by hand, so that tests can write any header at all. */
function rawFile(header: string | object, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(file: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(file.subarray(8, 8 + length)) };
}

/** Decode `bytes`, expecting an InputError that names the file; returns it. */
function decodeError(bytes: Uint8Array): InputError {
  let caught: unknown;
  try {
    decodeSafetensors(bytes, FILE);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const error = caught as InputError;
  expect(error.file).toBe(FILE);
  expect(error.message).toContain('snapshots/'); // every message says what to do next
  return error;
}

describe('encode and decode', () => {
  it('round-trips every dtype, a scalar, an empty tensor and the metadata through a file', () => {
    const path = join(dir, 'a.safetensors');
    const tensors = sampleTensors();
    writeSafetensors(path, tensors, sampleMetadata);
    const back = readSafetensors(path);

    expect([...back.tensors.keys()]).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      const r = back.tensors.get(t.name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(r.data.constructor).toBe(t.data.constructor);
      expect(r.data.length).toBe(t.data.length);
      expect(bytesOf(r.data)).toEqual(bytesOf(t.data));
    }
    expect(Object.is(back.tensors.get('param/dense_1/weight')!.data[4], -0)).toBe(true);

    // The metadata as given: the container adds nothing (a snapshot's checksum is the snapshot layer's).
    expect(Object.fromEntries(back.metadata)).toEqual(sampleMetadata);
    // The entries and data region, for a checksum over them.
    const dataRegion = new Uint8Array(tensors.flatMap((t) => bytesOf(t.data)));
    expect(Array.from(back.data)).toEqual(Array.from(dataRegion));
    expect(back.entries.map((e) => [e.name, e.offsets])).toEqual(layoutTensors(tensors).entries.map((e) => [e.name, e.offsets]));
  });

  it('writes tensors in the given order, contiguous, little-endian', () => {
    const file = encodeSafetensors(
      [
        { name: 'b', dtype: 'I32', shape: [1], data: Int32Array.from([0x01020304]) },
        { name: 'a', dtype: 'U8', shape: [2], data: Uint8Array.from([9, 8]) },
      ],
      {},
    );
    const { length, text } = headerOf(file);
    const header = JSON.parse(text);
    expect(Object.keys(header)).toEqual(['__metadata__', 'b', 'a']);
    expect(header.b.data_offsets).toEqual([0, 4]);
    expect(header.a.data_offsets).toEqual([4, 6]);
    expect(Array.from(file.subarray(8 + length))).toEqual([4, 3, 2, 1, 9, 8]);
  });

  it('pads the header with spaces so the data region starts on a multiple of 8', () => {
    for (let extra = 0; extra < 16; extra++) {
      const file = encodeSafetensors(sampleTensors(), { note: 'x'.repeat(extra) });
      const { length, text } = headerOf(file);
      expect((8 + length) % 8).toBe(0);
      expect(text.trimEnd().endsWith('}')).toBe(true);
      expect(text.length - text.trimEnd().length).toBeLessThan(8);
      expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
      expect(decodeSafetensors(file, FILE).metadata.get('note')).toBe('x'.repeat(extra));
    }
  });

  it('decodes from a buffer at an unaligned offset, into arrays that do not alias it', () => {
    const file = encodeSafetensors(sampleTensors(), {});
    const backing = new Uint8Array(file.length + 3);
    backing.set(file, 3);
    const bytes = backing.subarray(3);
    const back = decodeSafetensors(bytes, FILE);
    const bias = back.tensors.get('param/dense_1/bias')!;
    expect(Array.from(bias.data)).toEqual([Math.PI, -1e-300, 2 ** 60]);
    bytes.fill(0);
    expect(bias.data[0]).toBe(Math.PI);
  });

  it('keeps a sha256 entry given in the metadata as it is: what it covers is for the stored format to say', () => {
    const file = encodeSafetensors(sampleTensors(), { sha256: 'not-a-hash' });
    expect(decodeSafetensors(file, FILE).metadata.get('sha256')).toBe('not-a-hash');
  });

  it('accepts a file without metadata or checksum (as other writers produce)', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const back = decodeSafetensors(rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data), FILE);
    expect(Array.from(back.tensors.get('w')!.data)).toEqual([1.5, -2]);
    expect(back.metadata.size).toBe(0);
  });

  it('rejects programmer errors with a plain Error when encoding', () => {
    const t = (name: string): NamedTensor => ({ name, dtype: 'F32', shape: [1], data: new Float32Array(1) });
    expect(() => encodeSafetensors([t('w'), t('w')], {})).toThrow(/duplicate tensor name "w"/);
    expect(() => encodeSafetensors([t('__metadata__')], {})).toThrow(/reserved/);
    expect(() => encodeSafetensors([{ ...t('w'), shape: [2] }], {})).toThrow(/2 elements\) but 1 values/);
    expect(() => encodeSafetensors([{ ...t('w'), dtype: 'F64' }], {})).toThrow(/declared F64 but holds a Float32Array/);
    expect(() => encodeSafetensors([{ ...t('w'), shape: [-1] }], {})).toThrow(/integers ≥ 0/);
    try {
      encodeSafetensors([t('w'), t('w')], {});
    } catch (err) {
      expect(err).not.toBeInstanceOf(InputError); // the caller's bug, not the user's input
    }
  });
});

describe('damaged files are rejected with an InputError that says what to do', () => {
  it('an empty file', () => {
    expect(decodeError(new Uint8Array(0)).message).toContain('the file is empty');
  });

  it('a file shorter than the 8-byte length', () => {
    expect(decodeError(new Uint8Array(5)).message).toContain('too short');
  });

  it('a file truncated inside the tensor data', () => {
    const file = encodeSafetensors(sampleTensors(), sampleMetadata);
    expect(decodeError(file.subarray(0, file.length - 3)).message).toContain('truncated');
  });

  it('a file truncated inside the header', () => {
    const file = encodeSafetensors(sampleTensors(), sampleMetadata);
    expect(decodeError(file.subarray(0, 40)).message).toMatch(/header claims \d+ bytes .* truncated/);
  });

  it('a header length far beyond the file, before allocating anything', () => {
    const file = new Uint8Array(16);
    new DataView(file.buffer).setBigUint64(0, 2n ** 40n, true);
    const started = performance.now();
    const error = decodeError(file);
    expect(performance.now() - started).toBeLessThan(100);
    expect(error.message).toContain('claims 1099511627776 bytes but the file has only 8 bytes');
  });

  it('a header that is not JSON', () => {
    expect(decodeError(rawFile('{"w": {"dtype": "F32",')).message).toContain('not valid JSON');
  });

  it('a header that is not UTF-8', () => {
    const file = rawFile('{"ab": 1}');
    file[10] = 0xff; // never valid in UTF-8
    expect(decodeError(file).message).toContain('not valid UTF-8');
  });

  it('a header that is JSON but not an object', () => {
    expect(decodeError(rawFile('[1, 2]')).message).toContain('not a JSON object');
    expect(decodeError(rawFile('null')).message).toContain('not a JSON object');
  });

  it('overlapping tensors', () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    expect(decodeError(rawFile(header, new Uint8Array(12))).message).toContain('tensors "a" and "b" overlap');
  });

  it('a gap between tensors, and bytes after the last one', () => {
    const gap = {
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
    };
    expect(decodeError(rawFile(gap, new Uint8Array(12))).message).toContain('gap');
    const trailing = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    expect(decodeError(rawFile(trailing, new Uint8Array(8))).message).toContain('trailing data');
  });

  it('a byte length that does not match shape × dtype', () => {
    const header = { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } };
    expect(decodeError(rawFile(header, new Uint8Array(8))).message).toContain('wrong byte length');
  });

  it('offsets past the data region, or with begin after end', () => {
    const past = { a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] } };
    expect(decodeError(rawFile(past, new Uint8Array(4))).message).toContain('ends at byte 8');
    const backwards = { a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } };
    expect(decodeError(rawFile(backwards, new Uint8Array(4))).message).toContain('begin after end');
  });

  it('malformed tensor entries', () => {
    const cases: [unknown, string][] = [
      [{ dtype: 'BF16', shape: [1], data_offsets: [0, 2] }, 'dtype "BF16"'],
      [{ dtype: 'toString', shape: [1], data_offsets: [0, 4] }, 'dtype "toString"'],
      [{ shape: [1], data_offsets: [0, 4] }, 'dtype missing'],
      [{ dtype: 'F32', shape: [-1], data_offsets: [0, 4] }, 'has shape [-1]'],
      [{ dtype: 'F32', shape: [1.5], data_offsets: [0, 4] }, 'has shape [1.5]'],
      [{ dtype: 'F32', shape: '1', data_offsets: [0, 4] }, 'has shape "1"'],
      [{ dtype: 'F32', shape: [1], data_offsets: [0] }, 'data_offsets [0]'],
      [{ dtype: 'F32', shape: [1], data_offsets: [0, '4'] }, 'data_offsets [0,"4"]'],
      [[1, 2], 'is not a JSON object'],
    ];
    for (const [entry, fragment] of cases) {
      expect(decodeError(rawFile({ a: entry }, new Uint8Array(4))).message).toContain(fragment);
    }
  });

  it('metadata that is not a map of strings', () => {
    expect(decodeError(rawFile({ __metadata__: { version: 1 } })).message).toContain('metadata "version" is not a string');
    expect(decodeError(rawFile({ __metadata__: ['a'] })).message).toContain('"__metadata__" in the header is not a JSON object');
  });

  it('a missing file or a folder', () => {
    expect(() => readSafetensors(join(dir, 'nope.safetensors'))).toThrow(/no such file/);
    expect(() => readSafetensors(dir)).toThrow(InputError);
  });
});

describe('keys that look like prototypes are plain data', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(Object.hasOwn(Object.prototype, 'dtype')).toBe(false);
  });

  it('"__proto__" and "constructor" in a hand-written header', () => {
    const header =
      '{"__metadata__": {"__proto__": "m1", "constructor": "m2"},' +
      ' "__proto__": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2], "polluted": true},' +
      ' "constructor": {"dtype": "U8", "shape": [1], "data_offsets": [2, 3]}}';
    const back = decodeSafetensors(rawFile(header, Uint8Array.from([1, 2, 3])), FILE);
    expect([...back.tensors.keys()]).toEqual(['__proto__', 'constructor']);
    expect(Array.from(back.tensors.get('__proto__')!.data)).toEqual([1, 2]);
    expect(Array.from(back.tensors.get('constructor')!.data)).toEqual([3]);
    expect(back.metadata.get('__proto__')).toBe('m1');
    expect(back.metadata.get('constructor')).toBe('m2');
  });

  it('"__proto__" as a tensor name and metadata key survives a round trip', () => {
    const metadata: Record<string, string> = {};
    Object.defineProperty(metadata, '__proto__', { value: 'meta', enumerable: true });
    const file = encodeSafetensors([{ name: '__proto__', dtype: 'F32', shape: [1], data: Float32Array.from([2]) }], metadata);
    expect(headerOf(file).text).toContain('"__proto__":{"dtype":"F32"');
    const back = decodeSafetensors(file, FILE);
    expect(back.tensors.get('__proto__')!.data[0]).toBe(2);
    expect(back.metadata.get('__proto__')).toBe('meta');
  });
});

describe('writeFileAtomic', () => {
  const leftovers = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  it('replaces the content and leaves no temp file', () => {
    const path = join(dir, 'snap.bin');
    writeFileAtomic(path, 'first');
    writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['snap.bin']);
  });

  it('fails when the folder does not exist, naming the file it was to write', () => {
    const target = join(dir, 'missing', 'snap.bin');
    expect(() => writeFileAtomic(target, 'x')).toThrow(InputError);
    expect(() => writeFileAtomic(target, 'x')).toThrow(/cannot write: no such file or folder/);
    try {
      writeFileAtomic(target, 'x');
    } catch (err) {
      expect(err instanceof InputError && err.file).toBe(target);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the old file and removes the temp file when writing the data fails', () => {
    const path = join(dir, 'snap.bin');
    writeFileSync(path, 'old');
    expect(() => writeFileAtomic(path, 123 as unknown as string)).toThrow();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(leftovers()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['snap.bin']);
  });

  it('removes the temp file when the rename fails', () => {
    const path = join(dir, 'taken');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x'); // a non-empty folder cannot be renamed over
    expect(() => writeFileAtomic(path, 'new')).toThrow();
    expect(leftovers()).toEqual([]);
    expect(readFileSync(join(path, 'inside'), 'utf8')).toBe('x');
  });
});

// Interop: the files must load in Python, with the real safetensors package (from pip, in
// the interop venv: test/support/pythonEnv.ts; Debian has no python3-safetensors), and,
// as a second opinion on the byte layout, with an independent numpy reader (struct +
// json + frombuffer) in /usr/bin/python3 wherever numpy is.
const SYSTEM_PYTHON = '/usr/bin/python3';
const hasNumpy = spawnSync(SYSTEM_PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const venv = pythonWith({ 'safetensors.numpy': 'safetensors', numpy: 'numpy' });
const noSafetensors = 'missing' in venv ? venv.missing : undefined;
if (noSafetensors) console.warn(`test/safetensors.test.ts: the safetensors check is skipped: ${noSafetensors}`);

/** Run a Python script on `path` and parse what it prints as JSON. */
function runPython(script: string, path: string, python = SYSTEM_PYTHON): unknown {
  const result = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout);
}

/** The sample tensors as Python prints them (every value as a double, which JSON carries exactly). */
function expectedFromPython(): Record<string, { dtype: string; shape: number[]; values: number[] }> {
  const numpyName = { F32: 'float32', F64: 'float64', I32: 'int32', U8: 'uint8' } as const;
  return Object.fromEntries(sampleTensors().map((t) => [t.name, { dtype: numpyName[t.dtype], shape: t.shape, values: Array.from(t.data) }]));
}

describe('Python interop', () => {
  it.skipIf(noSafetensors !== undefined)(
    `loads with the safetensors package's load_file and safe_open${noSafetensors ? ` — skipped: ${noSafetensors}` : ''}`,
    () => {
      const path = join(dir, 'interop.safetensors');
      writeSafetensors(path, sampleTensors(), sampleMetadata);
      const script = [
        'import json, sys',
        'from safetensors import safe_open',
        'from safetensors.numpy import load_file',
        'tensors = load_file(sys.argv[1])',
        "with safe_open(sys.argv[1], framework='np') as f: metadata = f.metadata()",
        'out = {n: {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.reshape(-1).tolist()} for n, a in tensors.items()}',
        'print(json.dumps({"tensors": out, "metadata": metadata}))',
      ].join('\n');
      const got = runPython(script, path, (venv as { python: string }).python) as { tensors: unknown; metadata: Record<string, string> };
      expect(got.tensors).toEqual(expectedFromPython());
      expect(got.metadata).toEqual(sampleMetadata);
    },
  );

  it.skipIf(!hasNumpy)('parses with a separate numpy reader (needs numpy in /usr/bin/python3)', () => {
    const path = join(dir, 'interop.safetensors');
    writeSafetensors(path, sampleTensors(), sampleMetadata);
    const script = [
      'import json, struct, sys',
      'import numpy as np',
      'raw = open(sys.argv[1], "rb").read()',
      '(n,) = struct.unpack("<Q", raw[:8])',
      'assert (8 + n) % 8 == 0, "data region not aligned"',
      'header = json.loads(raw[8:8 + n].decode("utf-8"))',
      'data = raw[8 + n:]',
      'meta = header.pop("__metadata__")',
      'kinds = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "U8": "u1"}',
      'out = {}',
      'for name, e in header.items():',
      '    b, end = e["data_offsets"]',
      '    a = np.frombuffer(data[b:end], dtype=kinds[e["dtype"]]).reshape(e["shape"])',
      '    out[name] = {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.reshape(-1).tolist()}',
      'print(json.dumps({"tensors": out, "metadata": meta}))',
    ].join('\n');
    const got = runPython(script, path, (venv as { python: string }).python) as { tensors: unknown; metadata: Record<string, string> };
    expect(got.tensors).toEqual(expectedFromPython());
    expect(got.metadata).toMatchObject(sampleMetadata);
  });
});
