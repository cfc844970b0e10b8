#!/usr/bin/env node
// Measures which BLAS thread count runs a training step's matrix products fastest on
// this machine, for the native backend's default `--threads`. scripts/build-native.mjs
// runs it right after building the addon (so during `npm install`, and again with
// `npm run build:native`); the result is native/build/threads.json, which
// src/tensor/threadDefault.ts reads. `node scripts/calibrate-threads.mjs` measures again.
//
// Two families of products, float32, batch 64, as dlt's layers call them:
//   mlp:  the reference MLP's first layer: forward 64×256×784 (x·Wᵀ), weight gradient
//         256×784×64 (dyᵀ·x), and the second layer's input gradient 64×256×128;
//   conv: fashion-cnn's second convolution, 64 filters × (64·14·14) positions × 288.
// Every candidate count from 1 to the number of CPUs (at most MAX_THREADS) runs both
// families in each of ROUNDS interleaved rounds, and keeps its best time per family (the
// least disturbed by whatever else the machine is doing). A count's score is the
// geometric mean, over the two families, of its time over the best count's time for that
// family, so that neither family outweighs the other because its products are larger.
// More threads must beat fewer by MARGIN to be chosen: a thread that barely helps is
// better left to the rest of the machine.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
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

/** Measures with the addon file `addonFile` and writes `outFile` (threads.json); returns what it wrote. */
export function calibrate(addonFile, outFile) {
  const addon = createRequire(import.meta.url)(addonFile);
  const cpus = availableParallelism();
  const counts = Array.from({ length: Math.min(cpus, MAX_THREADS) }, (_, i) => i + 1);
  const times = measure(addon, counts);
  const result = { threads: chooseThreads(times), cpus, blas: addon.info().config, measured_ms: times, date: new Date().toISOString() };
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const buildDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'build');
  const { threads, measured_ms } = calibrate(join(buildDir, 'Release', 'dlt_native.node'), join(buildDir, 'threads.json'));
  const shown = Object.entries(measured_ms)
    .map(([t, f]) => `${t}: mlp ${f.mlp.toFixed(2)} ms, conv ${f.conv.toFixed(2)} ms`)
    .join('; ');
  console.log(`dlt: the native backend will use ${threads} BLAS thread(s) by default (measured ${shown})`);
}
