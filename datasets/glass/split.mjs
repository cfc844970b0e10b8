// Rebuilds train.csv and test.csv from the Glass data of Debian's r-cran-mlbench (see README.md):
//   node datasets/glass/split.mjs               (runs Rscript: library(mlbench); data(Glass))
//   node datasets/glass/split.mjs glass.csv     (a CSV written by write.csv(Glass, row.names = FALSE))
// Keeps every row and column, writes the glass type as its name instead of its number, and
// sends every third row of each type (in file order) to the test file.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const R_EXPORT = 'library(mlbench); data(Glass); write.csv(Glass, stdout(), row.names = FALSE)';
const text = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : execFileSync('Rscript', ['-e', R_EXPORT], { encoding: 'utf8' });

const FEATURES = ['RI', 'Na', 'Mg', 'Al', 'Si', 'K', 'Ca', 'Ba', 'Fe'];
// The UCI documentation's type numbers (glass.names); type 4, vehicle windows not float processed, has no sample.
const TYPES = {
  1: 'building_windows_float',
  2: 'building_windows_non_float',
  3: 'vehicle_windows_float',
  5: 'containers',
  6: 'tableware',
  7: 'headlamps',
};

const unquote = (cell) => cell.replace(/^"(.*)"$/, '$1');
const [head, ...rows] = text
  .trim()
  .split('\n')
  .map((line) => line.trim().split(',').map(unquote));
const expected = [...FEATURES, 'Type'];
if (head.join() !== expected.join()) throw new Error(`expected the columns ${expected.join(', ')}, got ${head.join(', ')}`);

const seen = new Map();
const header = [...FEATURES, 'type'].join(',');
const out = { train: [header], test: [header] };
for (const row of rows) {
  if (row.length !== expected.length || row.some((v) => v === 'NA' || v === '')) throw new Error(`unexpected row: ${row.join(',')}`);
  const type = TYPES[row[FEATURES.length]];
  if (type === undefined) throw new Error(`unknown glass type ${row[FEATURES.length]}`);
  const k = (seen.get(type) ?? 0) + 1;
  seen.set(type, k);
  out[k % 3 === 0 ? 'test' : 'train'].push([...row.slice(0, FEATURES.length), type].join(','));
}
for (const split of ['train', 'test']) {
  writeFileSync(path.join(here, `${split}.csv`), `${out[split].join('\n')}\n`);
  console.log(`${split}.csv: ${out[split].length - 1} rows`);
}
