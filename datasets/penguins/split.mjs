// Rebuilds train.csv and test.csv from the Debian package's penguins.csv (see README.md):
//   node datasets/penguins/split.mjs [/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv]
// Keeps species and the four body measurements, drops rows where any of them is NA, and
// sends every fifth row of each species (in file order) to the test file.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = process.argv[2] ?? '/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv';
const here = path.dirname(fileURLToPath(import.meta.url));
const KEEP = ['species', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];

const [head, ...rows] = readFileSync(source, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.trim().split(','));
const columns = KEEP.map((name) => {
  const c = head.indexOf(name);
  if (c < 0) throw new Error(`${source} has no column ${name}`);
  return c;
});
const seen = new Map();
const out = { train: [KEEP.join(',')], test: [KEEP.join(',')] };
for (const row of rows) {
  const kept = columns.map((c) => row[c]);
  if (kept.some((v) => v === 'NA' || v === '')) continue;
  const k = (seen.get(kept[0]) ?? 0) + 1;
  seen.set(kept[0], k);
  out[k % 5 === 0 ? 'test' : 'train'].push(kept.join(','));
}
for (const split of ['train', 'test']) {
  writeFileSync(path.join(here, `${split}.csv`), `${out[split].join('\n')}\n`);
  console.log(`${split}.csv: ${out[split].length - 1} rows`);
}
