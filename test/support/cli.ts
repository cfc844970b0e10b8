import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repoRoot, 'bin', 'dlt.js');
/** bin/dlt.js, or with DLT_INTERRUPT_AT_STEP set the test launcher that stops training at that step. */
export function launcher(env: Record<string, string>): string {
  return env.DLT_INTERRUPT_AT_STEP === undefined ? bin : path.join(repoRoot, 'test', 'support', 'dlt-stop-at-step.mjs');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (`npm test` compiles it first) as a user would, without a TTY. */
export function dlt(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [launcher(env), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DLT_DEBUG: '', ...env },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'dlt-test-'): { dir: string; cleanup: () => void; write: (name: string, text: string | Uint8Array) => string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    write: (name, text) => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

/** Bad input: exit 2, a message on stderr, no stack trace. */
export function expectInputError(r: CliResult): string {
  if (r.code !== 2) throw new Error(`expected exit code 2, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) throw new Error(`stack trace printed:\n${r.stderr}`);
  if (!r.stderr.startsWith('error: ')) throw new Error(`expected "error: ..." on stderr, got:\n${r.stderr}`);
  return r.stderr;
}
