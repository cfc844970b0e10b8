// What data augmentation costs in training throughput: trains a config with and without
// data.augment, interleaved (the rounds alternate the order, AB BA AB…, so that a
// machine growing busier or quieter weighs on both alike), and prints each run's
// training samples/s (training samples ÷ train_seconds of summary.json, validation
// excluded) and, where /usr/bin/time is installed, the CPU seconds of the whole process,
// which a busy machine disturbs less than the wall clock; then the median ratios.
// Run after npm run build (or npm test).
//
// Usage: node scripts/augment-cost.mjs [--config configs/cnn-quickstart.yaml] [--epochs 2] [--rounds 3]
//          [--backend native] [--threads 1] [--augment '[{type: random_crop, padding: 4}, hflip]']
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    config: { type: 'string', default: path.join(repo, 'configs', 'cnn-quickstart.yaml') },
    epochs: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'native' },
    threads: { type: 'string', default: '1' },
    augment: { type: 'string', default: '[{type: random_crop, padding: 4}, hflip]' },
  },
});
const rounds = Number(values.rounds);
const out = mkdtempSync(path.join(tmpdir(), 'dlt-augment-cost-'));

const TIME = '/usr/bin/time';
const timed = existsSync(TIME);
const cpuFile = path.join(out, 'cpu.txt');

/** One training run: its training samples per second, and the process's CPU seconds (user + system) when measurable. */
function measure(augment) {
  const args = [
    'train',
    values.config,
    '--out',
    out,
    '--backend',
    values.backend,
    '--threads',
    values.threads,
    '--set',
    `training.epochs=${values.epochs}`,
  ];
  if (augment) args.push('--set', `data.augment=${augment}`);
  const command = [process.execPath, path.join(repo, 'bin', 'dlt.js'), ...args];
  const [file, ...rest] = timed ? [TIME, '-f', '%U %S', '-o', cpuFile, ...command] : command;
  const r = spawnSync(file, rest, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`dlt ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const runDir = r.stdout.split('\n')[0];
  const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
  const epochs = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"kind":"epoch"')).length;
  const trainSamples = Number(/(\d+) train/.exec(r.stdout)?.[1]);
  rmSync(runDir, { recursive: true, force: true });
  const cpu = timed ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number) : [];
  return { speed: (epochs * trainSamples) / summary.train_seconds, cpu: timed ? cpu[0] + cpu[1] : Number.NaN };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const runs = { plain: [], augmented: [] };
try {
  for (let k = 0; k < rounds; k++) {
    for (const which of k % 2 === 0 ? ['plain', 'augmented'] : ['augmented', 'plain']) {
      const m = measure(which === 'plain' ? undefined : values.augment);
      runs[which].push(m);
      console.log(`round ${k + 1}: ${which.padEnd(9)} ${m.speed.toFixed(0)} samples/s${timed ? `, ${m.cpu.toFixed(2)} CPU s` : ''}`);
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
const ratio = (key) => median(runs.plain.map((p, k) => runs.augmented[k][key] / p[key])).toFixed(3);
const speeds = (which) => median(runs[which].map((m) => m.speed)).toFixed(0);
console.log(
  `${path.basename(values.config)}, ${values.epochs} epochs, ${values.backend} backend, ${values.threads} thread(s), data.augment=${values.augment}`,
);
console.log(`median samples/s: without ${speeds('plain')}, with ${speeds('augmented')}; median ratio with/without ${ratio('speed')}`);
if (timed) console.log(`median ratio of CPU seconds with/without ${ratio('cpu')}`);
