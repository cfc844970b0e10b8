#!/usr/bin/env node
// Measures how the BLAS runs a training step's matrix products fastest on this machine,
// for the native backend's defaults. scripts/build-native.mjs runs it right after
// building the addon (so during `npm install`, and again with `npm run build:native`);
// the result is native/build/threads.json, which src/tensor/blasCalibration.ts reads.
// `node scripts/calibrate-threads.mjs` measures again. Two things are chosen:
//
// - The thread count. Two families of products, float32, batch 64, as dlt's layers call them:
//     mlp:  the reference MLP's first layer: forward 64×256×784 (x·Wᵀ), weight gradient
//           256×784×64 (dyᵀ·x), and the second layer's input gradient 64×256×128;
//     conv: fashion-cnn's second convolution, 64 filters × (64·14·14) positions × 288.
//   Every candidate count from 1 to the number of CPUs (at most MAX_THREADS) runs both
//   families in each of ROUNDS interleaved rounds, and keeps its best time per family (the
//   least disturbed by whatever else the machine is doing). A count's score is the
//   geometric mean, over the two families, of its time over the best count's time for that
//   family, so that neither family outweighs the other because its products are larger.
//   More threads must beat fewer by MARGIN to be chosen: a thread that barely helps is
//   better left to the rest of the machine.
//
// - OpenBLAS's CPU kernels ("core"), when OpenBLAS is built with DYNAMIC_ARCH and
//   OPENBLAS_CORETYPE is not set. Such a build picks its kernels from the CPU's model
//   number when it loads, and a release older than the CPU does not know the model: it
//   falls back to its oldest x86-64 kernels (Prescott, SSE3), which ran the MLP's
//   products 3× slower than its AVX-512 ones on an Intel Xeon that OpenBLAS 0.3.21 did
//   not recognise. So the products are also timed, each core in a process of its own
//   (OpenBLAS reads OPENBLAS_CORETYPE once, when it loads), with the kernels OpenBLAS
//   picked itself and with each of CORES whose instructions the CPU's flags
//   (/proc/cpuinfo) list. A core is scored like a thread count, by its best count's
//   times, and must beat OpenBLAS's own pick by MARGIN to replace it. A set
//   OPENBLAS_CORETYPE is left alone: then only that core is measured.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_THREADS = 8;
const ROUNDS = 5;
const MARGIN = 0.05;
/** [transA, transB, m, n, k, repetitions] */
const FAMILIES = {
  mlp: [
    [false, true, 64, 256, 784, 8],
    [true, false, 256, 784, 64, 8],
    [false, false, 64, 256, 128, 8],
  ],
  conv: [[false, false, 64, 64 * 14 * 14, 288, 1]],
};

function matrix(length, seed) {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = ((i * seed) % 1000) / 1000 - 0.5;
  return a;
}

/** Milliseconds for one pass over a family's products (each repeated as listed). */
function timeFamily(addon, products) {
  const started = process.hrtime.bigint();
  for (const { args, reps } of products) for (let r = 0; r < reps; r++) addon.gemm(...args);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * { [threads]: { mlp, conv } }: each count's best time per family over the rounds, in
 * milliseconds.
 */
export function measure(addon, counts, rounds = ROUNDS) {
  const families = Object.fromEntries(
    Object.entries(FAMILIES).map(([name, shapes]) => [
      name,
      shapes.map(([ta, tb, m, n, k, reps]) => ({
        args: [ta, tb, m, n, k, matrix(m * k, 7919), matrix(k * n, 104729), new Float32Array(m * n), false],
        reps,
      })),
    ]),
  );
  const best = Object.fromEntries(counts.map((t) => [t, Object.fromEntries(Object.keys(FAMILIES).map((f) => [f, Infinity]))]));
  for (let round = 0; round <= rounds; round++) {
    for (const t of counts) {
      addon.setThreads(t);
      for (const [name, products] of Object.entries(families)) {
        const ms = timeFamily(addon, products);
        if (round > 0) best[t][name] = Math.min(best[t][name], ms); // round 0 warms up
      }
    }
  }
  return best;
}

/** The count to use, given measure()'s times: the best score, fewer threads unless more win by the margin. */
export function chooseThreads(times, margin = MARGIN) {
  const counts = Object.keys(times)
    .map(Number)
    .sort((a, b) => a - b);
  const families = Object.keys(times[counts[0]]);
  const fastest = Object.fromEntries(families.map((f) => [f, Math.min(...counts.map((t) => times[t][f]))]));
  const score = (t) => Math.exp(families.reduce((sum, f) => sum + Math.log(times[t][f] / fastest[f]), 0) / families.length);
  let chosen = counts[0];
  for (const t of counts.slice(1)) if (score(t) < score(chosen) * (1 - margin)) chosen = t;
  return chosen;
}

/**
 * OpenBLAS cores worth trying (names as OPENBLAS_CORETYPE takes them), fastest kernels
 * last, each with the CPU flags (as /proc/cpuinfo spells them) its kernels need.
 */
export const CORES = {
  Haswell: ['avx2', 'fma'],
  SkylakeX: ['avx2', 'fma', 'avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'],
  Cooperlake: ['avx2', 'fma', 'avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512_bf16'],
};

/** The CPU's flags from /proc/cpuinfo (empty where there is none: not Linux, or not x86). */
export function cpuFlags(cpuinfo = '/proc/cpuinfo') {
  try {
    const line = readFileSync(cpuinfo, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return line
      ? line
          .slice(line.indexOf(':') + 1)
          .trim()
          .split(/\s+/)
      : [];
  } catch {
    return [];
  }
}

/**
 * The candidate with the best score (its best thread count's time per family, over the
 * fastest candidate's, geometric mean), `candidates[0]` (OpenBLAS's own pick) unless
 * another beats it by the margin. Each candidate is { core, times } with measure()'s times.
 */
export function chooseCore(candidates, margin = MARGIN) {
  const families = Object.keys(Object.values(candidates[0].times)[0]);
  const best = (c, f) => Math.min(...Object.values(c.times).map((t) => t[f]));
  const fastest = Object.fromEntries(families.map((f) => [f, Math.min(...candidates.map((c) => best(c, f)))]));
  const score = (c) => Math.exp(families.reduce((sum, f) => sum + Math.log(best(c, f) / fastest[f]), 0) / families.length);
  let chosen = candidates[0];
  for (const c of candidates.slice(1)) if (score(c) < score(chosen) * (1 - margin)) chosen = c;
  return chosen;
}

/**
 * measure()'s times for the addon `addonFile` loaded in a child process with
 * OPENBLAS_CORETYPE set to `core` (or as this process has it, for null), and the BLAS's
 * description there; null when OpenBLAS did not take the core (its description names
 * the core it runs) or the child failed.
 */
function measureCore(addonFile, core) {
  const env = { ...process.env };
  if (core !== null) env.OPENBLAS_CORETYPE = core;
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', addonFile], { env, encoding: 'utf8' });
  if (child.status !== 0) return null;
  const { config, times } = JSON.parse(child.stdout);
  if (core !== null && !config.split(' ').includes(core)) return null;
  return { core, config, times };
}

/** Measures with the addon file `addonFile` and writes `outFile` (threads.json); returns what it wrote. */
export function calibrate(addonFile, outFile) {
  const own = measureCore(addonFile, null);
  if (own === null) throw new Error(`${addonFile} did not load in a child process`);
  const flags = cpuFlags();
  const searched = process.env.OPENBLAS_CORETYPE === undefined && own.config.includes('DYNAMIC_ARCH');
  const others = searched
    ? Object.entries(CORES)
        .filter(([, needs]) => needs.every((flag) => flags.includes(flag)))
        .map(([core]) => measureCore(addonFile, core))
        .filter((c) => c !== null)
    : [];
  const chosen = chooseCore([own, ...others]);
  const result = {
    threads: chooseThreads(chosen.times),
    cpus: availableParallelism(),
    blas: chosen.config,
    // The core to set when OPENBLAS_CORETYPE is unset, for the CPU it was measured on.
    openblas_core: chosen.core === null ? null : { name: chosen.core, cpu: cpus()[0]?.model ?? '', flags: CORES[chosen.core] },
    measured_ms: chosen.times,
    cores_ms: Object.fromEntries([own, ...others].map((c) => [c.core ?? `${c.config.split(' ').at(-2)} (OpenBLAS's pick)`, c.times])),
    date: new Date().toISOString(),
  };
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.argv[2] === '--measure') {
  // Child mode (measureCore): one core's times, as JSON on stdout.
  const addon = createRequire(import.meta.url)(process.argv[3]);
  const counts = Array.from({ length: Math.min(availableParallelism(), MAX_THREADS) }, (_, i) => i + 1);
  process.stdout.write(JSON.stringify({ config: addon.info().config, times: measure(addon, counts) }));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const buildDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'build');
  const { threads, measured_ms, openblas_core, cores_ms } = calibrate(join(buildDir, 'Release', 'dlt_native.node'), join(buildDir, 'threads.json'));
  const shown = Object.entries(measured_ms)
    .map(([t, f]) => `${t}: mlp ${f.mlp.toFixed(2)} ms, conv ${f.conv.toFixed(2)} ms`)
    .join('; ');
  console.log(`dlt: the native backend will use ${threads} BLAS thread(s) by default (measured ${shown})`);
  if (openblas_core !== null) {
    const tried = Object.entries(cores_ms)
      .map(([core, times]) => `${core}: mlp ${Math.min(...Object.values(times).map((t) => t.mlp)).toFixed(2)} ms`)
      .join(', ');
    console.log(`dlt: and OpenBLAS's ${openblas_core.name} kernels, the fastest of ${tried}`);
  }
}
