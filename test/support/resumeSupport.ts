/**
 * Helpers for the resume, crash, signal, corruption and NaN tests: running the CLI
 * asynchronously (so a test can signal or kill it), and comparing two run directories
 * bit for bit while ignoring the wall-clock fields.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { readSafetensors } from '../../src/snapshot/safetensors.js';
import { type CliResult, dlt, launcher, repoRoot } from './cli.js';

export const bin = path.join(repoRoot, 'bin', 'dlt.js');

/** Fields of metrics.jsonl records and summary.json that measure wall-clock time. */
const CLOCK_METRICS = ['samples_per_s', 'seconds'];
const CLOCK_SUMMARY = ['wall_seconds', 'train_seconds', 'samples_per_s'];
/** State fields of a snapshot that depend on wall-clock time. */
const CLOCK_STATE = ['train_seconds'];

/** `dlt train`, returning the CLI result and the run directory (first stdout line). */
export function trainRun(
  config: string,
  out: string,
  cwd: string,
  env: Record<string, string> = {},
  extra: string[] = [],
): CliResult & { runDir: string } {
  const r = dlt(['train', config, '--out', out, ...extra], cwd, env);
  return { ...r, runDir: r.stdout.split('\n')[0]! };
}

/** Fail with the whole output when a CLI run did not end as expected. */
export function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves when the process has exited (code, or the signal that ended it). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Start the CLI without waiting for it, stdout and stderr collected. */
export function spawnDlt(args: string[], cwd: string, env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [launcher(env), ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', DLT_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until `check` holds, polling; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Deterministic delays for the kill tests (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file under `dir` (hidden ones too), relative path → sha256 of its bytes. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const full = path.join(dir, r);
      if (statSync(full).isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(r);
      } else {
        out[r] = sha256(readFileSync(full));
      }
    }
  };
  walk('');
  return out;
}

/**
 * A snapshot reduced to what exactness is about: each tensor as dtype, shape and the
 * sha256 of its raw bytes; the state without wall-clock fields; format and config.
 */
export function snapshotFingerprint(file: string): {
  tensors: Record<string, string>;
  state: Record<string, unknown>;
  format: string | undefined;
  config: unknown;
} {
  const { tensors, metadata } = readSafetensors(file);
  const fp: Record<string, string> = {};
  for (const [name, t] of tensors) {
    fp[name] = `${t.dtype}[${t.shape.join(',')}] ${sha256(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`;
  }
  const state = JSON.parse(metadata.get('state') ?? 'null') as Record<string, unknown>;
  for (const k of CLOCK_STATE) delete state[k];
  // The hash of metrics.jsonl's last record: an epoch record holds clock fields. (Its
  // record count stays; the hash is checked against the run's own file instead.)
  const withoutHash = (position: unknown) => (typeof position === 'object' && position !== null ? { ...position, last_sha256: 'clock' } : position);
  state.metrics = withoutHash(state.metrics);
  if (typeof state.last_good === 'object' && state.last_good !== null)
    state.last_good = { ...state.last_good, metrics: withoutHash(Reflect.get(state.last_good, 'metrics')) };
  return { tensors: fp, state, format: metadata.get('format'), config: JSON.parse(metadata.get('config') ?? 'null') };
}

/** The parsed state JSON of a snapshot, as written. */
export function snapshotState(file: string): Record<string, unknown> & { epoch: number; batch: number; step: number } {
  return JSON.parse(readSafetensors(file).metadata.get('state')!);
}

/** metrics.jsonl records without the wall-clock fields. */
export function metricsWithoutClock(runDir: string): Record<string, unknown>[] {
  const text = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      for (const k of CLOCK_METRICS) delete record[k];
      return record;
    });
}

/** summary.json without the wall-clock fields and the run's own path. */
export function summaryWithoutClock(runDir: string): Record<string, unknown> {
  const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  for (const k of [...CLOCK_SUMMARY, 'run_dir']) delete summary[k];
  return summary;
}

/** Snapshot files of a run directory, relative: snapshots/*.safetensors and best.safetensors. */
export function snapshotFiles(runDir: string): string[] {
  const files = readdirSync(path.join(runDir, 'snapshots'))
    .filter((f) => f.endsWith('.safetensors') && !f.startsWith('.'))
    .map((f) => path.join('snapshots', f));
  if (existsSync(path.join(runDir, 'best.safetensors'))) files.push('best.safetensors');
  return files.sort();
}

/**
 * The resumed run equals the uninterrupted one: the same snapshot files with the same
 * tensors bit for bit and the same state (wall clock aside), the same metrics records
 * and the same summary.
 */
export function expectSameRun(resumed: string, reference: string, what = 'resumed run'): void {
  expect(snapshotFiles(resumed), `${what}: snapshot files`).toEqual(snapshotFiles(reference));
  for (const f of snapshotFiles(reference)) {
    expect(snapshotFingerprint(path.join(resumed, f)), `${what}: ${f}`).toEqual(snapshotFingerprint(path.join(reference, f)));
  }
  expect(metricsWithoutClock(resumed), `${what}: metrics.jsonl`).toEqual(metricsWithoutClock(reference));
  // The final snapshot was taken after the last record was written: its position in the log is the file's end.
  const latest = path.join(resumed, 'snapshots', 'latest.safetensors');
  const lines = readFileSync(path.join(resumed, 'metrics.jsonl'), 'utf8').split('\n').slice(0, -1);
  expect(snapshotState(latest).metrics, `${what}: the log position`).toEqual({ records: lines.length, last_sha256: sha256(lines.at(-1) ?? '') });
  expect(summaryWithoutClock(resumed), `${what}: summary.json`).toEqual(summaryWithoutClock(reference));
}

/** Only the final parameters and optimiser slots (latest.safetensors tensors). */
export function expectSameFinalTensors(resumed: string, reference: string, what = 'resumed run'): void {
  const latest = path.join('snapshots', 'latest.safetensors');
  expect(snapshotFingerprint(path.join(resumed, latest)).tensors, `${what}: final tensors`).toEqual(
    snapshotFingerprint(path.join(reference, latest)).tensors,
  );
}
