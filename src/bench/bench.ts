/**
 * `npm run bench`: training throughput of the three reference networks of BENCHMARKS.md
 * over one epoch at batch 64, float32 — the MLP (784-256-128-10, ReLU, SGD lr 0.05
 * momentum 0.9), Caffe's LeNet (conv 5×5×20, maxpool 2, conv 5×5×50, maxpool 2,
 * dense 500, ReLU, dense 10; SGD lr 0.01 momentum 0.9, weight decay 5e-4) and the
 * shipped configs/fashion-cnn.yaml's network (`cnn`: two 3×3 same convs of 32 and 64,
 * each with ReLU and maxpool 2, dense 128, ReLU, dropout 0.5, dense 10; Adam lr 1e-3) —
 * for each backend, on the full Fashion-MNIST when Debian's dataset-fashion-mnist is
 * installed, else on the shipped subset. Also GEMM GFLOP/s at 1024³ for each backend,
 * beside the BLAS's own figure timed inside C, and for each network its FLOPs per
 * sample (flops.ts) and the GEMM-bound ceiling they imply. PyTorch runs the reference
 * script in the same invocation, so that speed and peak memory are quoted as ratios
 * measured back to back: PyTorch 2.x from pip in the venv .cache/venv when it has torch
 * (`-- --setup-torch` creates it), else Debian's /usr/bin/python3; the output says which.
 *
 * Every training measurement runs in a child process of its own, so that its peak RSS
 * is its own. (PyTorch's speed depends on the BLAS Debian gives it: install
 * libopenblas0-pthread, or it runs on the slow reference BLAS.)
 *
 * Each network's measurements run in rounds (--repeat, default 5 for the MLP and 1 for
 * LeNet and the CNN), every contender once per round; speeds and ratios are the rounds' medians.
 *
 * Usage: npm run bench [-- --only mlp|lenet|cnn] [-- --backend js|native] [-- --epochs N] [-- --threads N] [-- --repeat N]
 *                      [-- --setup-torch] [-- --python PATH]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../config/schema.js';
import { buildNetwork } from '../model/build.js';
import { nativeThreadDefault, selectKernels } from '../tensor/backend.js';
import { jsKernels, type Kernels } from '../tensor/kernels.js';
import { nativeStatus } from '../tensor/native.js';
import type { Reporter } from '../train/reporter.js';
import { train } from '../train/train.js';
import { trainingFlopsPerSample } from './flops.js';
import { type Network, REFERENCE_LAYERS, REFERENCE_OPTIMIZERS } from './referenceNetworks.js';

const FULL = '/usr/share/datasets/fashion-mnist';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHIPPED = path.join(repo, 'datasets', 'fashion-mnist-mini');
const TORCH_REFERENCE = path.resolve(repo, '../shared/reference/torch_reference.py');
/** Debian's Python, with python3-torch (PyTorch 1.13): the fallback reference. */
const DEBIAN_PYTHON = '/usr/bin/python3';
/** The venv the interop tests use; `--setup-torch` puts PyTorch 2.x there. */
const VENV = path.join(repo, '.cache', 'venv');
/** TensorFlow.js's wasm backend on the MLP, from ../shared/BENCHMARKS.md (not measured here). */
const TFJS_WASM_MLP = 4150;
/** Rounds per network unless --repeat says otherwise: an MLP epoch takes seconds (and varies by ±30% here), LeNet's and the CNN's minutes. */
const DEFAULT_ROUNDS = { mlp: 5, lenet: 1, cnn: 1 } as const;
/** Pairs of GEMM timings (dlt's call, then the BLAS from C), 10 products each. */
const GEMM_PAIRS = 5;

const silent: Reporter = { runDir() {}, info() {}, warn() {}, epochStart() {}, progress() {}, epochEnd() {} };

type Backend = 'js' | 'native';

/** The reference network's config. PyTorch's weight_decay 5e-4 is l2 = 2.5e-4 here. */
function benchConfig(network: Network, dataDir: string, epochs: number) {
  const file = (split: string, kind: string) => path.join(dataDir, `${split}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte.gz`);
  return configSchema.parse({
    name: `bench-${network}`,
    data: {
      train: { format: 'idx', images: file('train', 'images'), labels: file('train', 'labels') },
      test: { format: 'idx', images: file('t10k', 'images'), labels: file('t10k', 'labels') },
      preprocess: { scale: 255 },
    },
    model: { input: [1, 28, 28], layers: REFERENCE_LAYERS[network] },
    optimizer: REFERENCE_OPTIMIZERS[network],
    regularization: network === 'lenet' ? { l2: 0.00025 } : {},
    training: { epochs, batch_size: 64 },
  });
}

/** One training measurement: what a child process reports. */
interface Measurement {
  samplesPerS: number;
  accuracy: number;
  peakRssMiB: number;
}

/** GFLOP/s of `kernels.gemm` on float32 size³, through dlt's own call path. */
function gemmGflops(kernels: Kernels, size: number, reps: number): number {
  const a = new Float32Array(size * size).map((_, i) => ((i * 7919) % 1000) / 1000);
  const b = new Float32Array(size * size).map((_, i) => ((i * 104729) % 1000) / 1000);
  const c = new Float32Array(size * size);
  kernels.gemm(false, false, size, size, size, a, b, c, false); // warm-up
  const t = performance.now();
  for (let r = 0; r < reps; r++) kernels.gemm(false, false, size, size, size, a, b, c, false);
  return (2 * size ** 3 * reps) / ((performance.now() - t) / 1000) / 1e9;
}

/** Child mode: train one network on one backend and print a Measurement as JSON. */
async function child(network: Network, backend: Backend, threads: number, dataDir: string, epochs: number): Promise<void> {
  const out = mkdtempSync(path.join(tmpdir(), 'dlt-bench-'));
  try {
    const kernels = selectKernels(backend, threads);
    const summary = await train(benchConfig(network, dataDir, epochs), { outDir: out, kernels, reporter: silent });
    const result: Measurement = {
      samplesPerS: summary.samples_per_s,
      accuracy: summary.test_accuracy ?? NaN,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function measureDlt(network: Network, backend: Backend, threads: number, dataDir: string, epochs: number): Measurement | string {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [script, '--child', network, backend, String(threads), dataDir, String(epochs)], { encoding: 'utf8' });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

/**
 * PyTorch's figures for the same network, or why there are none. The script runs under
 * a small wrapper that reports the process's peak RSS when it ends.
 */
function measureTorch(python: string | undefined, network: Network, epochs: number): Measurement | string {
  if (!existsSync(TORCH_REFERENCE)) return `no ${TORCH_REFERENCE}`;
  if (!existsSync(FULL)) return `no ${FULL} (apt-get install dataset-fashion-mnist)`;
  if (!python) return 'no Python imports torch (npm run bench -- --setup-torch, or apt-get install python3-torch)';
  const wrapper = [
    'import resource, runpy, sys',
    'sys.argv = sys.argv[1:]',
    "runpy.run_path(sys.argv[0], run_name='__main__')",
    "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
  ].join('\n');
  const r = spawnSync(python, ['-c', wrapper, TORCH_REFERENCE, network, String(epochs), '64', '1'], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  const last = lines.filter((l) => l.includes('samples/s')).pop();
  const rss = lines.find((l) => l.startsWith('peak_rss_kib'));
  if (r.status !== 0 || !last || !rss) return `torch_reference.py failed: ${r.stderr.trim().split('\n').pop()}`;
  return {
    samplesPerS: Number(/samples\/s (\d+)/.exec(last)![1]),
    accuracy: Number(/test_acc ([\d.]+)/.exec(last)![1]),
    peakRssMiB: Number(rss.split(' ')[1]) / 1024,
  };
}

/**
 * The Python that runs the PyTorch reference, and its torch version: --python, else the
 * venv when it imports torch (PyTorch 2.x from pip, what users install), else Debian's.
 */
function torchPython(): { python: string; version: string } | undefined {
  const venvPython = path.join(VENV, 'bin', 'python');
  const candidates = argument('--python') ? [argument('--python')!] : [venvPython, DEBIAN_PYTHON];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return undefined;
}

/** `--setup-torch`: PyTorch 2.x (CPU) and numpy from pip into the venv. */
function setupTorch(): void {
  const venvPython = path.join(VENV, 'bin', 'python');
  if (!existsSync(venvPython)) spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--retries', '0', '--timeout', '10', 'torch', 'numpy'], { stdio: 'inherit' });
  if (pip.status !== 0) console.log(`pip could not install torch into ${VENV}; falling back to ${DEBIAN_PYTHON}`);
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const count = (x: number) => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const epochs = Number(argument('--epochs') ?? 1);
  const threads = Number(argument('--threads') ?? (nativeStatus().loaded ? nativeThreadDefault().threads : 1));
  const full = existsSync(path.join(FULL, 'train-images-idx3-ubyte.gz'));
  const dataDir = full ? FULL : SHIPPED;
  console.log(`dataset: ${full ? 'full Fashion-MNIST' : 'shipped subset (install dataset-fashion-mnist for the full set)'} (${dataDir})`);

  const native = nativeStatus();
  const backends: Backend[] = argument('--backend') ? [argument('--backend') as Backend] : native.loaded ? ['js', 'native'] : ['js'];
  if (native.loaded) {
    const info = native.addon.info();
    const why = argument('--threads') ? 'from --threads' : `the default: ${nativeThreadDefault().source}`;
    console.log(
      `native backend: ${info.config}; ${threads} thread(s), ${why}; OpenBLAS core: ${native.core.core ?? 'its own pick'}, ${native.core.source}`,
    );
  } else {
    console.log(`native backend: unavailable (${native.reason})`);
  }

  if (process.argv.includes('--setup-torch')) setupTorch();
  const torch = torchPython();
  console.log(
    torch ? `pytorch: ${torch.version} (${torch.python})` : 'pytorch: none (npm run bench -- --setup-torch, or apt-get install python3-torch)',
  );

  const jsGflops = gemmGflops(jsKernels, 1024, 3);
  console.log(`gemm 1024³ float32, js: ${jsGflops.toFixed(1)} GFLOP/s`);
  /** The BLAS's own GEMM rate, for the ceilings: the native library's when it loaded. */
  let ceilingGflops = jsGflops;
  if (native.loaded && backends.includes('native')) {
    const kernels = selectKernels('native', threads);
    // Alternating pairs, the ratio taken within each pair, as for training below.
    const pairs = Array.from({ length: GEMM_PAIRS }, () => {
      const dlt = gemmGflops(kernels, 1024, 10);
      return { dlt, own: native.addon.blasGflops(1024, 10) };
    });
    const dlt = median(pairs.map((p) => p.dlt));
    const own = median(pairs.map((p) => p.own));
    const ratios = pairs.map((p) => p.dlt / p.own);
    ceilingGflops = own;
    console.log(
      `gemm 1024³ float32, native: ${dlt.toFixed(1)} GFLOP/s; the BLAS called from C: ${own.toFixed(1)} GFLOP/s; ` +
        `ratio ${median(ratios).toFixed(3)} (median of ${GEMM_PAIRS} alternating pairs: ${ratios.map((r) => r.toFixed(3)).join(', ')})`,
    );
  }

  const networks: Network[] = argument('--only') ? [argument('--only') as Network] : ['mlp', 'lenet', 'cnn'];
  for (const network of networks) {
    const config = benchConfig(network, dataDir, epochs);
    const flops = trainingFlopsPerSample(config.model.layers, buildNetwork(config, jsKernels).network);
    const ceiling = (ceilingGflops * 1e9) / flops;
    console.log(
      `${network}: ${(flops / 1e6).toFixed(2)} MFLOP per sample per training step (matrix products); ` +
        `GEMM-bound ceiling ${count(ceiling)} samples/s at ${ceilingGflops.toFixed(1)} GFLOP/s`,
    );
    // Rounds interleave every contender, so that a slow spell on this shared machine
    // falls on all of them; a ratio is taken within each round, and the median reported.
    const rounds = Number(argument('--repeat') ?? DEFAULT_ROUNDS[network]);
    const results = new Map<string, Measurement[]>();
    const record = (who: string, m: Measurement | string) => {
      if (typeof m === 'string') console.log(`${network} ${who}: ${m}`);
      else results.set(who, [...(results.get(who) ?? []), m]);
    };
    for (let round = 0; round < rounds; round++) {
      for (const backend of backends) record(`dlt ${backend}`, measureDlt(network, backend, backend === 'js' ? 1 : threads, dataDir, epochs));
      const reference = measureTorch(torch?.python, network, epochs);
      if (typeof reference === 'string' && round === 0) console.log(`${network} pytorch: skipped (${reference})`);
      else if (typeof reference !== 'string') record('pytorch', reference);
    }
    for (const [who, ms] of results) {
      const speeds = ms.map((m) => m.samplesPerS);
      console.log(
        `${network} ${who}: ${count(median(speeds))} samples/s over ${epochs} epoch(s)` +
          (ms.length > 1 ? ` (median of ${ms.length} rounds: ${speeds.map(count).join(', ')})` : '') +
          `, test accuracy ${ms[0]!.accuracy.toFixed(4)}, peak RSS ${count(Math.max(...ms.map((m) => m.peakRssMiB)))} MiB, ` +
          `${((100 * median(speeds)) / ceiling).toFixed(1)}% of the ceiling`,
      );
    }
    const reference = results.get('pytorch');
    for (const backend of backends) {
      const ms = results.get(`dlt ${backend}`);
      if (!ms) continue;
      if (reference && reference.length === ms.length) {
        const ratios = ms.map((m, i) => m.samplesPerS / reference[i]!.samplesPerS);
        const rss = Math.max(...ms.map((m) => m.peakRssMiB)) / Math.max(...reference.map((m) => m.peakRssMiB));
        console.log(
          `${network} ratio dlt ${backend}/pytorch: speed ${median(ratios).toFixed(3)}×` +
            (ratios.length > 1 ? ` (median of the rounds' ${ratios.map((r) => r.toFixed(3)).join(', ')})` : '') +
            `, peak RSS ${rss.toFixed(3)}×`,
        );
      }
      if (network === 'mlp' && backend === 'js') {
        const speed = median(ms.map((m) => m.samplesPerS));
        console.log(`mlp dlt js/tfjs-wasm (BENCHMARKS.md's ${count(TFJS_WASM_MLP)}, not measured here): ${(speed / TFJS_WASM_MLP).toFixed(3)}×`);
      }
    }
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (process.argv[2] === '--child') {
  const [network, backend, threads, dataDir, epochs] = process.argv.slice(3);
  await child(network as Network, backend as Backend, Number(threads), dataDir!, Number(epochs));
} else {
  await main();
}
