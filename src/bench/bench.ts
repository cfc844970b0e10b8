/**
 * `npm run bench`: training throughput of the two reference networks of BENCHMARKS.md
 * over one epoch at batch 64, float32 — the MLP (784-256-128-10, ReLU, SGD lr 0.05
 * momentum 0.9) and Caffe's LeNet (conv 5×5×20, maxpool 2, conv 5×5×50, maxpool 2,
 * dense 500, ReLU, dense 10; SGD lr 0.01 momentum 0.9, weight decay 5e-4) — on the full
 * Fashion-MNIST when Debian's dataset-fashion-mnist is installed, else on the shipped
 * subset; the JS GEMM's GFLOP/s at 1024³; and, when PyTorch is importable by
 * /usr/bin/python3, the reference script run in the same invocation, so that speed is
 * quoted as a ratio measured back to back. (PyTorch's speed depends on the BLAS Debian
 * gives it: install libopenblas0-pthread, or it runs on the slow reference BLAS.)
 *
 * Usage: npm run bench [-- --epochs N] [-- --only mlp|lenet]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../config/schema.js';
import { jsKernels } from '../tensor/kernels.js';
import type { Reporter } from '../train/reporter.js';
import { train } from '../train/trainer.js';

const FULL = '/usr/share/datasets/fashion-mnist';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHIPPED = path.join(repo, 'datasets', 'fashion-mnist-mini');
const TORCH_REFERENCE = path.resolve(repo, '../shared/reference/torch_reference.py');
const PYTHON = '/usr/bin/python3';

const silent: Reporter = { runDir() {}, info() {}, warn() {}, epochStart() {}, progress() {}, epochEnd() {} };

type Network = 'mlp' | 'lenet';

const LAYERS: Record<Network, unknown[]> = {
  mlp: ['flatten', { type: 'dense', units: 256 }, 'relu', { type: 'dense', units: 128 }, 'relu', { type: 'dense', units: 10 }],
  lenet: [
    { type: 'conv2d', filters: 20, kernel: 5 },
    { type: 'maxpool2d', size: 2 },
    { type: 'conv2d', filters: 50, kernel: 5 },
    { type: 'maxpool2d', size: 2 },
    'flatten',
    { type: 'dense', units: 500 },
    'relu',
    { type: 'dense', units: 10 },
  ],
};

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
    model: { input: [1, 28, 28], layers: LAYERS[network] },
    optimizer: network === 'mlp' ? { type: 'sgd', lr: 0.05, momentum: 0.9 } : { type: 'sgd', lr: 0.01, momentum: 0.9 },
    regularization: network === 'mlp' ? {} : { l2: 0.00025 },
    training: { epochs, batch_size: 64 },
  });
}

function gemmGflops(size: number): number {
  const a = new Float32Array(size * size).map((_, i) => ((i * 7919) % 1000) / 1000);
  const b = new Float32Array(size * size).map((_, i) => ((i * 104729) % 1000) / 1000);
  const c = new Float32Array(size * size);
  jsKernels.gemm(false, false, size, size, size, a, b, c, false); // warm-up
  const reps = 3;
  const t = performance.now();
  for (let r = 0; r < reps; r++) jsKernels.gemm(false, false, size, size, size, a, b, c, false);
  return (2 * size ** 3 * reps) / ((performance.now() - t) / 1000) / 1e9;
}

/** PyTorch's samples/s for the same network, or why there is none. */
function torchReference(network: Network, epochs: number): { samplesPerS: number; accuracy: number } | string {
  if (!existsSync(TORCH_REFERENCE)) return `no ${TORCH_REFERENCE}`;
  if (!existsSync(FULL)) return `no ${FULL} (apt-get install dataset-fashion-mnist)`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'PyTorch is not importable by /usr/bin/python3 (apt-get install python3-torch)';
  const r = spawnSync(PYTHON, [TORCH_REFERENCE, network, String(epochs), '64', '1'], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n').filter((l) => l.includes('samples/s'));
  const lastLine = lines[lines.length - 1];
  if (r.status !== 0 || !lastLine) return `torch_reference.py failed: ${r.stderr.trim().split('\n').pop()}`;
  return { samplesPerS: Number(/samples\/s (\d+)/.exec(lastLine)![1]), accuracy: Number(/test_acc ([\d.]+)/.exec(lastLine)![1]) };
}

async function main(): Promise<void> {
  const epochsArg = process.argv.indexOf('--epochs');
  const epochs = epochsArg > 0 ? Number(process.argv[epochsArg + 1]) : 1;
  const full = existsSync(path.join(FULL, 'train-images-idx3-ubyte.gz'));
  const dataDir = full ? FULL : SHIPPED;
  console.log(`dataset: ${full ? 'full Fashion-MNIST' : 'shipped subset (install dataset-fashion-mnist for the full set)'} (${dataDir})`);

  console.log(`gemm 1024³ float32 (js): ${gemmGflops(1024).toFixed(2)} GFLOP/s`);

  const onlyArg = process.argv.indexOf('--only');
  const networks: Network[] = onlyArg > 0 ? [process.argv[onlyArg + 1] as Network] : ['mlp', 'lenet'];
  for (const network of networks) {
    const out = mkdtempSync(path.join(tmpdir(), 'dlt-bench-'));
    try {
      const summary = await train(benchConfig(network, dataDir, epochs), { outDir: out, kernels: jsKernels, reporter: silent });
      const rssMiB = process.resourceUsage().maxRSS / 1024;
      console.log(
        `dlt ${network} (js, float32, batch 64): ${summary.samples_per_s} samples/s over ${epochs} epoch(s), ` +
          `test accuracy ${summary.test_accuracy?.toFixed(4)}, peak RSS so far ${rssMiB.toFixed(0)} MiB`,
      );
      const ref = torchReference(network, epochs);
      if (typeof ref === 'string') console.log(`pytorch ${network}: skipped (${ref})`);
      else {
        console.log(`pytorch ${network} (1 thread): ${ref.samplesPerS} samples/s, test accuracy ${ref.accuracy.toFixed(4)}`);
        console.log(`ratio dlt/pytorch (${network}): ${(summary.samples_per_s / ref.samplesPerS).toFixed(3)}×`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}

await main();
