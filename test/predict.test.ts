/**
 * dlt predict: classes and probabilities for new samples, from every kind of input it
 * reads. Images decoded by sharp must reach the network as the same bytes as the IDX
 * (or CIFAR-10) records they were made from, so predict on the images, predict on the
 * records and dlt eval all agree.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csvParse.js';
import { cifar10Record, writeCifar10Folder } from './support/cifar10.js';
import { type CliResult, dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';

const tmp = tempDir('dlt-predict-');
afterAll(() => tmp.cleanup());

const MINI = path.join(repoRoot, 'datasets', 'fashion-mnist-mini');
const TEST_IMAGES = path.join(MINI, 't10k-images-idx3-ubyte.gz');
const PENGUINS_TEST = path.join(repoRoot, 'datasets', 'penguins', 'test.csv');
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The shipped test images ([N, 28, 28] after a 16-byte header) and labels (after an 8-byte header). */
const images = gunzipSync(readFileSync(TEST_IMAGES));
const labels = gunzipSync(readFileSync(path.join(MINI, 't10k-labels-idx1-ubyte.gz'))).subarray(8);
const imageCount = images.readUInt32BE(4);
const image = (i: number): Buffer => images.subarray(16 + i * PIXELS, 16 + (i + 1) * PIXELS);

/** Train `config` (in configs/) with `overrides`; returns the run directory. */
function train(config: string, overrides: string[]): string {
  const r = dlt(
    ['train', path.join(repoRoot, 'configs', config), '--out', path.join(tmp.dir, 'runs'), ...overrides.flatMap((o) => ['--set', o])],
    tmp.dir,
  );
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n')[0]!;
}

let quickstartRun: string | undefined;

/** One short run of configs/quickstart.yaml (an MLP on 28×28 images), shared by the tests that need one. */
function quickstart(): string {
  quickstartRun ??= train('quickstart.yaml', ['training.epochs=1']);
  return quickstartRun;
}

interface Table {
  columns: string[];
  rows: string[][];
}

/** dlt predict's CSV output, which must be all there is on stdout. */
function csvOf(stdout: string): Table {
  const records: string[][] = [];
  parseCsv(stdout, 'stdout', ',', (record) => records.push(record.fields));
  const [columns, ...rows] = records;
  expect(columns).toBeDefined();
  for (const row of rows) expect(row.length).toBe(columns!.length);
  return { columns: columns!, rows };
}

/** Run dlt predict, expecting success. */
function predict(args: string[]): CliResult {
  const r = dlt(['predict', ...args], tmp.dir);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

function predictTable(args: string[]): Table {
  return csvOf(predict(args).stdout);
}

function column(table: Table, name: string): string[] {
  const j = table.columns.indexOf(name);
  expect(j, `column ${name} in ${table.columns.join(',')}`).toBeGreaterThanOrEqual(0);
  return table.rows.map((row) => row[j]!);
}

/** The p_ columns of each row, as numbers. */
function probabilityRows(table: Table): number[][] {
  const js = table.columns.flatMap((c, j) => (c.startsWith('p_') ? [j] : []));
  return table.rows.map((row) => js.map((j) => Number(row[j])));
}

function classes(table: Table): number[] {
  return column(table, 'class').map(Number);
}

/** Largest |a − b| over two equally shaped lists of rows. */
function maxDifference(a: number[][], b: number[][]): number {
  expect(a.map((r) => r.length)).toEqual(b.map((r) => r.length));
  return Math.max(0, ...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
}

/** A grayscale PNG of `pixels` ([height, width] bytes). */
function grayPng(pixels: Uint8Array, width = SIDE, height = SIDE): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** Deterministic pseudo-random bytes (a linear congruential generator), so a failure can be rerun. */
function noise(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('dlt predict on images agrees with the IDX file they came from, and with dlt eval', () => {
  const FOLDER_IMAGES = 200;
  let folder: string;

  beforeAll(async () => {
    folder = path.join(tmp.dir, 'fashion-png');
    mkdirSync(folder);
    // Zero-padded names, so that sorting by name keeps the file's order.
    for (let i = 0; i < FOLDER_IMAGES; i++) writeFileSync(path.join(folder, `img-${String(i).padStart(4, '0')}.png`), await grayPng(image(i)));
    writeFileSync(path.join(folder, 'README.txt'), 'not an image: ignored\n');
  });

  for (const [config, trained] of [
    ['quickstart.yaml', quickstart],
    ['cnn-quickstart.yaml', () => train('cnn-quickstart.yaml', ['training.epochs=1'])],
  ] as const) {
    it(`${config}: a folder of PNGs, the IDX file and dlt eval's confusion matrix`, () => {
      const run = trained();

      const onFolder = predictTable([run, folder]);
      expect(onFolder.columns.slice(0, 4)).toEqual(['source', 'class', 'class_name', 'probability']);
      expect(column(onFolder, 'source')).toEqual(
        Array.from({ length: FOLDER_IMAGES }, (_, i) => path.join(folder, `img-${String(i).padStart(4, '0')}.png`)),
      );

      const onIdx = predictTable([run, TEST_IMAGES]);
      expect(onIdx.rows.length).toBe(imageCount);
      expect(column(onIdx, 'source').slice(0, 3)).toEqual([0, 1, 2].map((i) => `${TEST_IMAGES}#${i}`));
      expect(classes(onFolder)).toEqual(classes(onIdx).slice(0, FOLDER_IMAGES));
      // Same pixels, same network: the same probabilities (up to the BLAS's rounding for another batch size).
      expect(maxDifference(probabilityRows(onFolder), probabilityRows(onIdx).slice(0, FOLDER_IMAGES))).toBeLessThan(1e-6);
      // A model that has learnt something does not answer one class for everything.
      expect(new Set(classes(onIdx)).size).toBeGreaterThan(2);

      const evaluation = dlt(['eval', run, '--json'], tmp.dir);
      expect(evaluation.code, evaluation.stderr).toBe(0);
      const { confusion, samples } = JSON.parse(evaluation.stdout);
      expect(samples).toBe(imageCount);
      const mine = confusion.map((row: number[]) => row.map(() => 0));
      for (const [i, c] of classes(onIdx).entries()) mine[labels[i]!]![c]!++;
      expect(mine).toEqual(confusion);
    });
  }

  it('reads one image, and the IDX rows written out as a CSV of pixels with a header row', async () => {
    const run = quickstart();
    const onIdx = predictTable([run, TEST_IMAGES]);

    const one = tmp.write('seven.png', await grayPng(image(7)));
    const single = predictTable([run, one]);
    expect(column(single, 'source')).toEqual([one]);
    expect(classes(single)).toEqual([classes(onIdx)[7]]);

    const header = Array.from({ length: PIXELS }, (_, k) => `px${k}`).join(',');
    const rows = [0, 1, 2, 3, 4].map((i) => Array.from(image(i)).join(','));
    const csv = tmp.write('pixels.csv', `${header}\n${rows.join('\n')}\n`);
    const onCsv = predictTable([run, csv]);
    expect(column(onCsv, 'source')).toEqual([2, 3, 4, 5, 6].map((line) => `${csv}:${line}`));
    expect(classes(onCsv)).toEqual(classes(onIdx).slice(0, 5));
    expect(maxDifference(probabilityRows(onCsv), probabilityRows(onIdx).slice(0, 5))).toBeLessThan(1e-6);
  });
});

describe('RGB images for a [3, 32, 32] model', () => {
  it('PNG files (interleaved RGB) give the probabilities of the same pixels in a CIFAR-10 batch (planes)', async () => {
    const data = writeCifar10Folder(path.join(tmp.dir, 'cifar'), 20, 10);
    const config = tmp.write(
      'rgb.yaml',
      `name: rgb
seed: 3
data:
  train: {format: cifar10, path: ${JSON.stringify(data)}}
  preprocess: {scale: 255}
model:
  input: [3, 32, 32]
  layers: [flatten, {type: dense, units: 10, init: xavier}]
optimizer: {type: sgd, lr: 0.01}
training: {epochs: 1, batch_size: 10}
`,
    );
    const r = dlt(['train', config, '--out', path.join(tmp.dir, 'runs')], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const run = r.stdout.split('\n')[0]!;

    // Every pixel of every channel different, so swapped channels or rows would show.
    const count = 6;
    const pixels = noise(count * 3072, 11);
    const bin = tmp.write(
      'noise.bin',
      Buffer.concat(Array.from({ length: count }, (_, i) => cifar10Record(0, (c, h, w) => pixels[i * 3072 + c * 1024 + h * 32 + w]!))),
    );
    const folder = path.join(tmp.dir, 'rgb-png');
    mkdirSync(folder);
    for (let i = 0; i < count; i++) {
      const hwc = new Uint8Array(3072);
      for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) hwc[p * 3 + c] = pixels[i * 3072 + c * 1024 + p]!;
      // Upper-case extensions count too.
      writeFileSync(
        path.join(folder, `rgb-${i}.PNG`),
        await sharp(hwc, { raw: { width: 32, height: 32, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }

    const onBin = predictTable([run, bin]);
    const onPng = predictTable([run, folder]);
    expect(column(onBin, 'source')).toEqual(Array.from({ length: count }, (_, i) => `${bin}#${i}`));
    // The run has no class names: p_<index> columns and no class_name.
    expect(onBin.columns.slice(4)).toEqual(Array.from({ length: 10 }, (_, k) => `p_${k}`));
    expect(column(onBin, 'class_name')).toEqual(Array.from({ length: count }, () => ''));
    expect(classes(onPng)).toEqual(classes(onBin));
    expect(maxDifference(probabilityRows(onPng), probabilityRows(onBin))).toBeLessThan(1e-6);
  });
});

describe('CSV input from a CSV run', () => {
  let run: string;
  beforeAll(() => {
    run = train('penguins.yaml', ['training.epochs=5']);
  });

  it('the test file with its label column and without it give the same rows; class names head the p_ columns', () => {
    const text = readFileSync(PENGUINS_TEST, 'utf8');
    const records: string[][] = [];
    parseCsv(text, PENGUINS_TEST, ',', (record) => records.push(record.fields));
    const label = records[0]!.indexOf('species');
    expect(label).toBeGreaterThanOrEqual(0);
    const unlabelled = tmp.write('penguins-unlabelled.csv', `${records.map((r) => r.filter((_, c) => c !== label).join(',')).join('\n')}\n`);

    const withLabels = predictTable([run, PENGUINS_TEST]);
    const without = predictTable([run, unlabelled]);
    expect(withLabels.rows.length).toBe(records.length - 1);
    expect(without.columns).toEqual(withLabels.columns);
    expect(without.rows.map((row) => row.slice(1))).toEqual(withLabels.rows.map((row) => row.slice(1)));
    expect(column(without, 'source')).toEqual(column(withLabels, 'source').map((s) => s.replace(PENGUINS_TEST, unlabelled)));
    expect(column(withLabels, 'source')[0]).toBe(`${PENGUINS_TEST}:2`);

    const evaluation = dlt(['eval', run, '--json'], tmp.dir);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const names: string[] = JSON.parse(evaluation.stdout).classes;
    expect(names).toEqual([...new Set(records.slice(1).map((r) => r[label]!))].sort());
    expect(withLabels.columns.slice(4)).toEqual(names.map((n) => `p_${n}`));
    const predicted = classes(withLabels);
    expect(column(withLabels, 'class_name')).toEqual(predicted.map((c) => names[c]));
    // Most penguins are told apart after a few epochs: the predictions are the model's, not noise.
    const right = predicted.filter((c, i) => names[c] === records[i + 1]![label]).length;
    expect(right / predicted.length).toBeGreaterThan(0.7);
  });

  it('--json has the CSV columns as keys; probabilities sum to 1; --top 2 lists the two largest', () => {
    const csv = predictTable([run, PENGUINS_TEST]);
    const json: Record<string, unknown>[] = JSON.parse(predict([run, PENGUINS_TEST, '--json']).stdout);
    expect(json.length).toBe(csv.rows.length);
    for (const [i, object] of json.entries()) {
      expect(Object.keys(object)).toEqual(csv.columns);
      expect(Object.values(object).map(String)).toEqual(csv.rows[i]);
      expect(typeof object.class).toBe('number');
      expect(typeof object.probability).toBe('number');
    }
    for (const p of probabilityRows(csv)) {
      expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
    }

    const top = predictTable([run, PENGUINS_TEST, '--top', '2']);
    expect(top.columns).toEqual([
      'source',
      'class',
      'class_name',
      'probability',
      'top1_class',
      'top1_name',
      'top1_probability',
      'top2_class',
      'top2_name',
      'top2_probability',
    ]);
    const names = csv.columns.slice(4).map((c) => c.slice(2));
    for (const [i, p] of probabilityRows(csv).entries()) {
      const order = p.map((_, k) => k).sort((a, b) => p[b]! - p[a]! || a - b);
      const row = top.rows[i]!;
      expect(row.slice(0, 4)).toEqual(csv.rows[i]!.slice(0, 4));
      expect(row.slice(4).map(String)).toEqual(order.slice(0, 2).flatMap((k) => [String(k), names[k]!, String(p[k])]));
    }
    // K is capped at the number of classes.
    expect(predictTable([run, PENGUINS_TEST, '--top', '9']).columns.filter((c) => c.endsWith('_class'))).toEqual([
      'top1_class',
      'top2_class',
      'top3_class',
    ]);
  });

  it('--out writes the output there, atomically, and nothing to stdout', () => {
    const out = path.join(tmp.dir, 'predictions.csv');
    writeFileSync(out, 'old\n');
    const r = predict([run, PENGUINS_TEST, '--out', out]);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(predict([run, PENGUINS_TEST]).stdout);
  });

  describe('bad input exits 2, naming the file', () => {
    const fails = (args: string[]): string => expectInputError(dlt(['predict', run, ...args], tmp.dir));

    it('a row with a cell too few, at its line, saying how many columns were expected', () => {
      const lines = readFileSync(PENGUINS_TEST, 'utf8').split('\n');
      lines[2] = lines[2]!.split(',').slice(0, -1).join(',');
      const file = tmp.write('short-row.csv', lines.join('\n'));
      expect(fails([file])).toMatch(new RegExp(`^error: ${file}:3:1: this row has 4 cells but the header \\(line 1\\) has 5; expected 5 cells`));
    });

    it('a header of the wrong width, and a cell that is not a number, at its line and column', () => {
      const narrow = tmp.write('narrow.csv', 'bill_length_mm,bill_depth_mm,flipper_length_mm\n1,2,3\n');
      expect(fails([narrow])).toContain(`${narrow}:1:1: the header has 3 columns, but the model takes 4 features; expected 4 feature columns`);
      const text = tmp.write('text-cell.csv', 'species,a,b,c,d\nAdelie,1,2,x,4\n');
      expect(fails([text])).toContain(`${text}:2:12: the cell in column 4 holds "x", not a number`);
    });

    it('an image for a model that takes vectors', async () => {
      const png = tmp.write('for-vectors.png', await grayPng(image(0)));
      expect(fails([png])).toContain(`${png}: the model takes vectors of 4 features`);
    });

    it('a missing path, an empty folder, a folder without images', () => {
      const missing = path.join(tmp.dir, 'no-such-file.csv');
      expect(fails([missing])).toContain(`error: ${missing}: no such file or folder`);
      const empty = path.join(tmp.dir, 'empty-folder');
      mkdirSync(empty);
      expect(fails([empty])).toContain(`error: ${empty}: the folder holds no PNG or JPEG images`);
      tmp.write('empty-folder/notes.txt', 'text');
      expect(fails([empty])).toContain(`error: ${empty}: the folder holds no PNG or JPEG images`);
    });

    it('a failing predict leaves an existing --out file as it was, and a folder in the way is refused', () => {
      const out = tmp.write('keep.csv', 'keep me\n');
      const lines = readFileSync(PENGUINS_TEST, 'utf8').split('\n');
      lines[4] = `${lines[4]},1`;
      const wide = tmp.write('wide-row.csv', lines.join('\n'));
      expect(fails([wide, '--out', out])).toContain(`${wide}:5:1`);
      expect(readFileSync(out, 'utf8')).toBe('keep me\n');
      const folder = path.join(tmp.dir, 'out-folder');
      mkdirSync(folder);
      expect(fails([PENGUINS_TEST, '--out', folder])).toContain(folder);
    });
  });
});

describe('images that need converting', () => {
  it('a damaged .png is refused, naming it', () => {
    const run = quickstart();
    const bad = tmp.write('damaged.png', noise(500, 5));
    expect(expectInputError(dlt(['predict', run, bad], tmp.dir))).toMatch(new RegExp(`^error: ${bad}: cannot read this image`));
    // One damaged image fails a folder too, naming that image.
    const folder = path.join(tmp.dir, 'one-bad');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'a.png'), readFileSync(bad));
    expect(expectInputError(dlt(['predict', run, folder], tmp.dir))).toContain(path.join(folder, 'a.png'));
  });

  it('a 32×32 PNG is resized to the model’s 28×28, with one note on stderr', async () => {
    // Image 0 in the middle of a 32×32 frame of its corner colour.
    const framed = new Uint8Array(32 * 32).fill(image(0)[0]!);
    for (let h = 0; h < SIDE; h++) framed.set(image(0).subarray(h * SIDE, (h + 1) * SIDE), (h + 2) * 32 + 2);
    const big = await grayPng(framed, 32, 32);
    const file = tmp.write('big.png', big);
    const run = quickstart();

    const r = predict([run, file]);
    expect(r.stderr).toBe(`note: 1 image resized to 28×28 (${file}, 32×32)\n`);
    // What it was given: the same picture resized beforehand.
    const small = await sharp(big).resize(SIDE, SIDE, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer();
    const resizedFile = tmp.write('resized.png', await grayPng(small));
    const direct = predict([run, resizedFile]);
    expect(direct.stderr).toBe('');
    expect(maxDifference(probabilityRows(csvOf(r.stdout)), probabilityRows(csvOf(direct.stdout)))).toBeLessThan(1e-12);

    // A folder: one note for all of them, naming the first; a JPEG is read too.
    const folder = path.join(tmp.dir, 'mixed');
    mkdirSync(folder);
    for (const name of ['b.png', 'c.png']) writeFileSync(path.join(folder, name), big);
    writeFileSync(
      path.join(folder, 'a.jpeg'),
      await sharp(framed, { raw: { width: 32, height: 32, channels: 1 } })
        .jpeg()
        .toBuffer(),
    );
    writeFileSync(path.join(folder, 'd.png'), await grayPng(image(0)));
    const mixed = predict([run, folder]);
    expect(mixed.stderr).toBe(`note: 3 images resized to 28×28 (first: ${path.join(folder, 'a.jpeg')}, 32×32)\n`);
    expect(column(csvOf(mixed.stdout), 'source')).toEqual(['a.jpeg', 'b.png', 'c.png', 'd.png'].map((n) => path.join(folder, n)));
  });
});
