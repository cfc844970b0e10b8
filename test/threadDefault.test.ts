// The native backend's default thread count: measured when the addon is built
// (scripts/calibrate-threads.mjs), read back by src/tensor/threadDefault.ts.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Calibration, CORES, calibrate, chooseThreads as choose, cpuFlags } from '../scripts/calibrate-threads.mjs';
import { nativeThreadDefault } from '../src/tensor/backend.js';
import { nativeBuildDir } from '../src/tensor/blasCalibration.js';
import { nativeStatus } from '../src/tensor/native.js';
import { defaultThreads } from '../src/tensor/threadDefault.js';
import { tempDir } from './support/cli.js';

const status = nativeStatus();
const needsNative = status.loaded ? '' : ` (skipped: native backend ${status.reason})`;
const repo = path.resolve(import.meta.dirname, '..');
const fallback = Math.min(2, availableParallelism());

describe('choosing the thread count from the measured times', () => {
  it('takes the count that is fastest on both families', () => {
    expect(choose({ 1: { mlp: 6, conv: 7 }, 2: { mlp: 4, conv: 4 } })).toBe(2);
    expect(choose({ 1: { mlp: 4, conv: 4 }, 2: { mlp: 6, conv: 7 } })).toBe(1);
    expect(choose({ 1: { mlp: 8, conv: 8 }, 2: { mlp: 5, conv: 4.5 }, 3: { mlp: 4, conv: 3 }, 4: { mlp: 4.5, conv: 3.2 } })).toBe(3);
  });

  it('keeps fewer threads unless more win by the margin (5%)', () => {
    expect(choose({ 1: { mlp: 10, conv: 10 }, 2: { mlp: 9.7, conv: 9.7 } })).toBe(1);
    expect(choose({ 1: { mlp: 10, conv: 10 }, 2: { mlp: 9.4, conv: 9.4 } })).toBe(2);
    expect(choose({ 1: { mlp: 10, conv: 10 }, 2: { mlp: 9.4, conv: 9.4 } }, 0.1)).toBe(1);
  });

  it('weighs the two families alike, whatever the size of their products', () => {
    // The MLP's products are 20% slower on two threads and the convolution's 40% faster:
    // the geometric mean of the ratios (1.2 · 0.6)^½ = 0.85 favours two.
    expect(choose({ 1: { mlp: 1, conv: 100 }, 2: { mlp: 1.2, conv: 60 } })).toBe(2);
    // 50% slower against 20% faster: (1.5 · 0.8)^½ = 1.10 favours one.
    expect(choose({ 1: { mlp: 1, conv: 100 }, 2: { mlp: 1.5, conv: 80 } })).toBe(1);
  });
});

describe('reading the measurement', () => {
  const cpus = availableParallelism();
  const blas = 'OpenBLAS 0.3.21 DYNAMIC_ARCH Zen';
  const record = (fields: object) => ({ threads: 1, cpus, blas, measured_ms: {}, date: '2026-12-01T06:00:00.000Z', ...fields });

  it('takes the measured count when the CPUs and the BLAS are the ones it was measured with', () => {
    const temp = tempDir();
    const file = temp.write('threads.json', JSON.stringify(record({ threads: 1 })));
    expect(defaultThreads(blas, file)).toEqual({ threads: 1, source: 'measured fastest when the addon was built (2026-12-01)' });
    writeFileSync(file, JSON.stringify(record({ threads: 3 })));
    expect(defaultThreads(blas, file).threads).toBe(3);
    temp.cleanup();
  });

  it('falls back to two threads, saying why, when the measurement is missing, foreign or unreadable', () => {
    const temp = tempDir();
    const file = path.join(temp.dir, 'threads.json');
    expect(defaultThreads(blas, file)).toEqual({ threads: fallback, source: 'not measured (npm run build:native measures it)' });
    writeFileSync(file, JSON.stringify(record({ threads: 7, cpus: cpus + 1 })));
    expect(defaultThreads(blas, file)).toEqual({ threads: fallback, source: `measured with ${cpus + 1} CPUs, not this machine's ${cpus}` });
    writeFileSync(file, JSON.stringify(record({ threads: 7, blas: 'OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell' })));
    expect(defaultThreads(blas, file)).toEqual({
      threads: fallback,
      source: 'measured with another BLAS configuration (OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell)',
    });
    for (const text of ['{"threads": 0', JSON.stringify(record({ threads: 0 })), JSON.stringify(record({ threads: '2' }))]) {
      writeFileSync(file, text);
      expect(defaultThreads(blas, file), text).toEqual({
        threads: fallback,
        source: `${file} is not a thread calibration; npm run build:native measures again`,
      });
    }
    temp.cleanup();
  });
});

describe(`the measurement on this machine${needsNative}`, () => {
  it.skipIf(!status.loaded)('times every count from 1 to the CPUs (at most 8) and writes a record threadDefault.ts accepts', () => {
    const temp = tempDir();
    const out = path.join(temp.dir, 'threads.json');
    const written = calibrate(path.join(nativeBuildDir, 'Release', 'dlt_native.node'), out);
    const counts = Array.from({ length: Math.min(availableParallelism(), 8) }, (_, i) => String(i + 1));
    expect(Object.keys(written.measured_ms)).toEqual(counts);
    for (const t of counts) {
      expect(written.measured_ms[t]?.mlp).toBeGreaterThan(0);
      expect(written.measured_ms[t]?.conv).toBeGreaterThan(0);
    }
    expect(written.threads).toBe(choose(written.measured_ms));
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(written);
    const info = status.loaded ? status.addon.info().config : '';
    expect(defaultThreads(info, out).threads).toBe(written.threads);
    temp.cleanup();
  });

  it.skipIf(!status.loaded || process.env.CI !== 'true')('under CI, npm ci measured it and the native backend defaults to it', () => {
    expect(existsSync(path.join(nativeBuildDir, 'threads.json'))).toBe(true);
    expect(nativeThreadDefault().source).toMatch(/^measured fastest when the addon was built/);
  });

  it.skipIf(!status.loaded)(
    'npm run build:native measures it right after the build',
    () => {
      // A copy of the scripts and the addon's sources, so that the real native/build is left alone.
      const temp = tempDir();
      mkdirSync(path.join(temp.dir, 'scripts'));
      for (const script of ['build-native.mjs', 'calibrate-threads.mjs'])
        cpSync(path.join(repo, 'scripts', script), path.join(temp.dir, 'scripts', script));
      cpSync(path.join(repo, 'native'), path.join(temp.dir, 'native'), { recursive: true, filter: (src) => !src.includes(`${path.sep}build`) });
      // The environment this process started with: nativeStatus() sets OPENBLAS_CORETYPE
      // only when it was unset (openblasCore.ts), and the build must see it as it was.
      const env = { ...process.env };
      if (status.loaded && status.core.core !== null) delete env.OPENBLAS_CORETYPE;
      const r = spawnSync(process.execPath, [path.join(temp.dir, 'scripts', 'build-native.mjs')], { encoding: 'utf8', env });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const written: Calibration = JSON.parse(readFileSync(path.join(temp.dir, 'native', 'build', 'threads.json'), 'utf8'));
      expect(r.stdout).toContain(`dlt: the native backend will use ${written.threads} BLAS thread(s) by default (measured 1: mlp `);
      expect(written.cpus).toBe(availableParallelism());
      // OpenBLAS's own pick is always measured; other cores only when it may be replaced, and only those this CPU can run.
      const [own, ...others] = Object.keys(written.cores_ms);
      expect(own).toMatch(/ \(OpenBLAS's pick\)$/);
      const searched = env.OPENBLAS_CORETYPE === undefined && written.blas.includes('DYNAMIC_ARCH');
      if (!searched) expect(others).toEqual([]);
      else if (CORES.Haswell!.every((flag) => cpuFlags().includes(flag))) expect(others).toContain('Haswell');
      for (const core of others)
        expect(
          CORES[core]?.every((flag) => cpuFlags().includes(flag)),
          core,
        ).toBe(true);
      if (written.openblas_core !== null) {
        expect(written.blas.split(' ')).toContain(written.openblas_core.name);
        expect(r.stdout).toContain(`dlt: and OpenBLAS's ${written.openblas_core.name} kernels, the fastest of`);
      }
      temp.cleanup();
    },
    120_000,
  );
});
