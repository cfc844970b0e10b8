/**
 * A Python virtual environment with the packages users open dlt's files with (tensorboard,
 * onnx, onnxruntime, safetensors, torch), for the interop tests. It lives in
 * $DLT_TEST_VENV, else .cache/venv in the repository (ignored by git); `.ci/run` creates
 * it before the tests. A test that finds a package missing installs it with pip
 * (`--retries 0 --timeout 10`: the index may be unreachable). When that fails the test
 * skips with the reason, except under CI (CI=true), where a missing package is an error:
 * CI must not pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

const VENV = process.env.DLT_TEST_VENV ?? path.join(repoRoot, '.cache', 'venv');
const PYTHON = path.join(VENV, 'bin', 'python');

/** The venv's python when every module imports (installing what is missing), else why not. */
export function pythonWith(modules: Record<string, string>): { python: string } | { missing: string } {
  const result = tryPython(modules);
  if ('missing' in result && process.env.CI === 'true') throw new Error(`CI needs ${result.missing}`);
  return result;
}

function tryPython(modules: Record<string, string>): { python: string } | { missing: string } {
  if (!existsSync(PYTHON)) {
    const made = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (made.status !== 0) return { missing: `a Python venv at ${VENV} (python3 -m venv failed: ${made.stderr.trim()})` };
  }
  const absent = Object.keys(modules).filter((m) => spawnSync(PYTHON, ['-c', `import ${m}`]).status !== 0);
  if (absent.length === 0) return { python: PYTHON };
  const packages = absent.map((m) => modules[m]!);
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '--retries', '0', '--timeout', '10', '-q', ...packages], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (pip.status !== 0) return { missing: `${packages.join(', ')} in ${VENV} (pip install failed: ${pip.stderr.trim().split('\n').at(-1)})` };
  return { python: PYTHON };
}
