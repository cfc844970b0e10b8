import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { type CsvOptions, labelCsvTable, labelMapping, readCsvTable } from '../src/data/csv.js';
import { checkLabels, loadSplits } from '../src/data/load.js';
import { Preprocessor } from '../src/data/preprocessor.js';
import { readSnapshot } from '../src/snapshot/snapshot.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { inputErrorOf } from './support/layers.js';
import { fifo, sparseFile } from './support/specialFiles.js';

const tmp = tempDir('dlt-csv-');
afterAll(() => tmp.cleanup());

const named = (labelColumn: string | number = 'species', header = true, delimiter = ','): CsvOptions => ({ labelColumn, header, delimiter });

function read(text: string, options: CsvOptions = named(), name = 'table.csv') {
  return readCsvTable(tmp.write(name, text), options, 'data.train');
}

describe('readCsvTable', () => {
  it('reads numeric features and the label column by name, in any position', () => {
    const t = read('a,species,b\n1,x,2.5\n-3e2,y,.5\n');
    expect(t.count).toBe(2);
    expect(t.featureNames).toEqual(['a', 'b']);
    expect(t.x).toBeInstanceOf(Float64Array);
    expect(Array.from(t.x)).toEqual([1, 2.5, -300, 0.5]);
    expect(t.labelTexts).toEqual(['x', 'y']);
    expect(Array.from(t.labelLines)).toEqual([2, 3]);
    expect(Array.from(t.labelCols)).toEqual([3, 6]); // "1,x,2.5" and "-3e2,y,.5"
    expect(labelCsvTable(t, labelMapping(t)).sampleShape).toEqual([2]);
  });

  it('reads a file without a header, the label column by 0-based index', () => {
    const t = read('5.1,3.5,setosa\n6.2,2.9,virginica\n', named(2, false));
    expect(Array.from(t.x)).toEqual([5.1, 3.5, 6.2, 2.9]);
    expect(t.labelTexts).toEqual(['setosa', 'virginica']);
    expect(Array.from(t.labelLines)).toEqual([1, 2]);
    expect(Array.from(t.labelCols)).toEqual([9, 9]);
  });

  it('handles quoted cells with delimiters, doubled quotes and line breaks, CRLF, a BOM, spaces and blank lines', () => {
    const text =
      '\uFEFFf1,"label, quoted",f2\r\n' +
      '1, "a, b" ,2\r\n' +
      '\r\n' +
      '3,"say ""hi""",4\r\n' +
      '5,"two\r\nlines",6\r\n' +
      '  7 ,plain, 8\r\n\r\n\r\n';
    const t = read(text, named('label, quoted'));
    expect(t.labelTexts).toEqual(['a, b', 'say "hi"', 'two\r\nlines', 'plain']);
    expect(Array.from(t.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The blank line 3 and the quoted line break (lines 5–6) keep the count of lines right.
    expect(Array.from(t.labelLines)).toEqual([2, 4, 5, 7]);
    expect(Array.from(t.labelCols)).toEqual([3, 3, 3, 6]);
  });

  it('holds exactly the rows in its features, with or without a last line end', () => {
    for (const text of ['a,species\n1,x\n2,y', 'a,species\n1,x\n2,y\n', 'a,species\n\n1,x\n\n2,y\n\n', '1,x\n2,y']) {
      const t = read(text, text.startsWith('a') ? named() : named(1, false));
      expect(t.count).toBe(2);
      expect(Array.from(t.x)).toEqual([1, 2]);
    }
  });

  it('refuses /dev/zero, a pipe or a folder at once, naming it', () => {
    const pipe = fifo(tmp.dir);
    for (const [file, what] of [
      ['/dev/zero', 'this is not a regular file (a device, pipe or socket), so it cannot be a CSV file'],
      [pipe, 'this is not a regular file (a device, pipe or socket), so it cannot be a CSV file'],
      [tmp.dir, 'this is a folder, not a CSV file'],
    ] as const) {
      const err = inputErrorOf(() => readCsvTable(file, named(), 'data.train'));
      expect(err.file).toBe(file);
      expect(err.message).toContain(what);
    }
  });

  it('refuses a file over 256 MiB before reading it', () => {
    const huge = sparseFile(tmp.dir, 'huge.csv', 256 * 1024 * 1024 + 1);
    const err = inputErrorOf(() => readCsvTable(huge, named(), 'data.train'));
    expect(err.file).toBe(huge);
    expect(err.message).toContain('more than the 256.0 MiB dlt reads as a CSV file; dlt reads a table whole into memory');
  });

  it('reads semicolon-separated files (with "." decimals only)', () => {
    const t = read('x;y;label\n1.5;2;a\n', named('label', true, ';'));
    expect(Array.from(t.x)).toEqual([1.5, 2]);
    expect(inputErrorOf(() => read('x;y;label\n1,5;2;a\n', named('label', true, ';'))).message).toContain('"1,5", not a number');
  });
});

describe('CSV errors name the file, line and cell', () => {
  const file = (name: string) => path.join(tmp.dir, name);

  it('a ragged row', () => {
    const err = inputErrorOf(() => read('a,b,species\n1,2,x\n3,4\n', named(), 'ragged.csv'));
    expect(err.file).toBe(file('ragged.csv'));
    expect(err.position?.line).toBe(3);
    expect(err.message).toContain('this row has 2 cells but the header (line 1) has 3');
  });

  it('a non-numeric cell, with its column', () => {
    const err = inputErrorOf(() => read('a,b,species\n1,2,x\n3,four,y\n', named(), 'text.csv'));
    expect(err.format()).toBe(
      `${file('text.csv')}:3:3: the cell in column 2 ("b") holds "four", not a number; every column except the label column must be numeric — drop or fill rows with missing values, and drop or encode text columns`,
    );
  });

  it('an empty or NA cell', () => {
    expect(inputErrorOf(() => read('a,b,species\n1,,x\n')).message).toMatch(/column 2 \("b"\) is empty/);
    const na = inputErrorOf(() => read('a,b,species\n1,2,x\nNA,2,y\n'));
    expect(na.position).toEqual({ line: 3, col: 1 });
    expect(na.message).toContain('"NA", not a number');
  });

  it('an empty label', () => {
    const err = inputErrorOf(() => read('a,species\n1,\n'));
    expect(err.position?.line).toBe(2);
    expect(err.message).toMatch(/label cell.*is empty/);
  });

  it('an empty file, or a header without rows', () => {
    expect(inputErrorOf(() => read('')).message).toMatch(/the file is empty/);
    expect(inputErrorOf(() => read('\n\r\n  \n')).message).toMatch(/the file is empty/);
    expect(inputErrorOf(() => read('a,species\n\n')).message).toMatch(/header \(line 1\) but no data rows/);
  });

  it('a label column the header does not have, with a suggestion', () => {
    const err = inputErrorOf(() => read('bill,flipper,species\n1,2,x\n', named('specie')));
    expect(err.message).toContain('data.train.label_column is "specie", but the header has no such column; did you mean "species"?');
    expect(err.message).toContain('"bill", "flipper", "species"');
  });

  it('a named label column in a file without a header', () => {
    expect(inputErrorOf(() => read('1,2,x\n', named('species', false))).message).toMatch(
      /with header: false the columns have no names; give its 0-based index/,
    );
  });

  it('a label column index past the last column', () => {
    expect(inputErrorOf(() => read('1,2,x\n', named(3, false))).message).toContain('label_column is 3, but the rows have 3 columns, indices 0 to 2');
  });

  it('a header of numbers, which means the file has none', () => {
    const err = inputErrorOf(() => read('5.1,3.5,1\n6.2,2.9,0\n', named(2)));
    expect(err.position?.line).toBe(1);
    expect(err.message).toContain('set header: false');
  });

  it('an unclosed quote, at the line it opens', () => {
    const err = inputErrorOf(() => read('a,species\n1,x\n2,"y\n3,z\n'));
    expect(err.position).toEqual({ line: 3, col: 3 });
    expect(err.message).toMatch(/never closed/);
  });

  it('text after a closing quote', () => {
    expect(inputErrorOf(() => read('a,species\n1,"x"y\n')).position).toEqual({ line: 2, col: 6 });
  });

  it('one column only, with a hint at the delimiter', () => {
    expect(inputErrorOf(() => read('a;species\n1;x\n')).message).toMatch(/1 column.*set delimiter/);
  });

  it('a missing file, and a binary one', () => {
    expect(inputErrorOf(() => readCsvTable(file('nope.csv'), named(), 'data.test')).message).toMatch(/file not found; check data.test.path/);
    const gz = tmp.write('data.csv.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(inputErrorOf(() => readCsvTable(gz, named(), 'data.train')).message).toMatch(/gzip-compressed, gunzip it first/);
  });
});

describe('labels to classes', () => {
  it('maps names to their index in sorted order', () => {
    const t = read('f,species\n1,Gentoo\n2,Adelie\n3,Chinstrap\n4,Adelie\n');
    const mapping = labelMapping(t);
    expect(mapping).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(Array.from(labelCsvTable(t, mapping).labels)).toEqual([2, 0, 1, 0]);
  });

  it('keeps whole-number labels as class indices', () => {
    const t = read('f,species\n1,2\n2,0\n3,10\n');
    expect(labelMapping(t)).toBe('indices');
    expect(Array.from(labelCsvTable(t, 'indices').labels)).toEqual([2, 0, 10]);
  });

  it('treats a mix of numbers and names as names', () => {
    expect(labelMapping(read('f,species\n1,2\n2,b\n3,10\n'))).toEqual(['10', '2', 'b']);
  });

  it('rejects a label the mapping lacks, with file, line and label', () => {
    const t = read('f,species\n1,Adelie\n2,Emperor\n', named(), 'odd.csv');
    const err = inputErrorOf(() => labelCsvTable(t, ['Adelie', 'Chinstrap', 'Gentoo']));
    expect(err.file).toBe(path.join(tmp.dir, 'odd.csv'));
    expect(err.position).toEqual({ line: 3, col: 3 });
    expect(err.message).toContain(
      'label "Emperor" in column 2 ("species") is not one of the 3 classes of the training data ("Adelie", "Chinstrap", "Gentoo")',
    );
    expect(inputErrorOf(() => labelCsvTable(read('f,species\n1,Gentoe\n'), ['Adelie', 'Gentoo'])).message).toContain('did you mean "Gentoo"?');
    expect(inputErrorOf(() => labelCsvTable(read('f,species\n1,a\n'), 'indices')).message).toMatch(/not a whole number/);
  });
});

describe('loadSplits with CSV files', () => {
  const dir = path.join(tmp.dir, 'splits');
  const write = (name: string, text: string) => tmp.write(path.join('splits', name), text);
  const config = (extra = '') => {
    const file = write(
      'config.yaml',
      `data:
  train: {format: csv, path: train.csv, label_column: label}
  test: {format: csv, path: test.csv, label_column: label}
  validation: {format: csv, path: val.csv, label_column: label}
  preprocess: {standardize: true}
model: {input: [2], layers: [{type: dense, units: 3}]}
optimizer: {type: sgd, lr: 0.1}
${extra}`,
    );
    return loadConfig(file);
  };
  mkdirSync(dir, { recursive: true });

  it("maps validation and test labels with the training file's classes, not their own", () => {
    write('train.csv', 'x,y,label\n0,10,cat\n2,30,dog\n4,20,emu\n6,40,cat\n');
    // Only two of the three classes, in another order: their own mapping would be [dog, emu].
    write('test.csv', 'x,y,label\n1,1,emu\n1,1,dog\n');
    write('val.csv', 'label,x,y\ndog,1,1\n');
    const splits = loadSplits(config());
    expect(splits.classes).toEqual(['cat', 'dog', 'emu']);
    expect(Array.from(splits.train.data.labels)).toEqual([0, 1, 2, 0]);
    expect(Array.from(splits.test!.data.labels)).toEqual([2, 1]);
    expect(Array.from(splits.val!.data.labels)).toEqual([1]);
  });

  it('warns, without printing, when the training split holds only one class', () => {
    write('train.csv', 'x,y,label\n0,10,Adelie\n2,30,Adelie\n');
    write('test.csv', 'x,y,label\n1,1,Adelie\n');
    write('val.csv', 'label,x,y\nAdelie,1,1\n');
    expect(loadSplits(config()).warnings).toEqual([
      'data.train holds only one class ("Adelie"); a classifier cannot learn anything from it — check label_column and the file',
    ]);
    write('train.csv', 'x,y,label\n0,10,3\n2,30,3\n');
    write('test.csv', 'x,y,label\n1,1,3\n');
    write('val.csv', 'label,x,y\n3,1,1\n');
    expect(loadSplits(config()).warnings).toEqual([
      'data.train holds only one class (label 3); a classifier cannot learn anything from it — check label_column and the file',
    ]);
  });

  it('has no warnings when the training split holds two classes or more', () => {
    write('train.csv', 'x,y,label\n0,10,Adelie\n2,30,Gentoo\n');
    write('test.csv', 'x,y,label\n1,1,Adelie\n');
    write('val.csv', 'label,x,y\nAdelie,1,1\n');
    expect(loadSplits(config()).warnings).toEqual([]);
  });

  it('uses the saved classes when given (as dlt eval does)', () => {
    write('train.csv', 'x,y,label\n0,10,cat\n2,30,dog\n');
    write('test.csv', 'x,y,label\n1,1,emu\n');
    write('val.csv', 'label,x,y\ndog,1,1\n');
    const splits = loadSplits(config(), undefined, ['ant', 'cat', 'dog', 'emu']);
    expect(Array.from(splits.train.data.labels)).toEqual([1, 2]);
    expect(Array.from(splits.test!.data.labels)).toEqual([3]);
    expect(splits.classes).toEqual(['ant', 'cat', 'dog', 'emu']);
  });

  it('rejects a test label that training never saw', () => {
    write('train.csv', 'x,y,label\n0,10,cat\n2,30,dog\n');
    write('test.csv', 'x,y,label\n1,1,cat\n1,1,cow\n');
    const err = inputErrorOf(() => loadSplits(config()));
    expect(err.file).toBe(path.join(dir, 'test.csv'));
    expect(err.position?.line).toBe(3);
    expect(err.message).toContain('"cow"');
  });

  it("standardizes CSV features with the training split's mean and std", () => {
    write('train.csv', 'x,y,label\n0,10,cat\n2,30,dog\n4,20,emu\n6,40,cat\n');
    write('test.csv', 'x,y,label\n3,25,cat\n');
    write('val.csv', 'label,x,y\ndog,1,1\n');
    const splits = loadSplits(config());
    const prep = Preprocessor.fit(config().data.preprocess, splits.train);
    // x: mean 3, std √5; y: mean 25, std √125 (population std).
    const x = new Float64Array(2);
    const y = new Int32Array(1);
    prep.fill(splits.train, undefined, 1, 1, x, y);
    expect(x[0]).toBeCloseTo(-1 / Math.sqrt(5), 12);
    expect(x[1]).toBeCloseTo(5 / Math.sqrt(125), 12);
    expect(y[0]).toBe(1);
    prep.fill(splits.test!, undefined, 0, 1, x, y);
    expect(Array.from(x)).toEqual([0, 0]);
  });

  it('says when the model has fewer outputs than the training file has classes', () => {
    write('train.csv', 'x,y,label\n0,10,a\n2,30,b\n4,20,c\n6,40,d\n');
    write('test.csv', 'x,y,label\n3,25,a\n');
    write('val.csv', 'x,y,label\n3,25,b\n');
    const splits = loadSplits(config());
    expect(inputErrorOf(() => checkLabels(splits, 3)).message).toContain('has 4 classes ("a", "b", "c", "d") but the last layer has 3 units');
  });

  it('needs model.input [D]', () => {
    write('train.csv', 'x,y,label\n0,10,a\n');
    write('test.csv', 'x,y,label\n3,25,a\n');
    write('val.csv', 'x,y,label\n3,25,a\n');
    const c = config();
    expect(inputErrorOf(() => loadSplits({ ...c, model: { ...c.model, input: [3] } })).message).toContain('set model.input: [2]');
  });
});

describe('dlt train and eval on CSV data', () => {
  const dir = path.join(tmp.dir, 'cli');
  mkdirSync(dir, { recursive: true });
  // Three well-separated clusters in the plane, named out of alphabetical order.
  const rows = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => {
      const k = (i + offset) % 3;
      const name = ['zebra', 'ant', 'moth'][k]!;
      const jitter = ((i * 37) % 11) / 20;
      return `${name},${[0, 5, 10][k]! + jitter},${[10, 0, 5][k]! - jitter}`;
    });
  const trainText = `${['animal,x,y', ...rows(60, 0)].join('\n')}\n`;
  writeFileSync(path.join(dir, 'train.csv'), trainText);
  writeFileSync(path.join(dir, 'test.csv'), `${['animal,x,y', ...rows(9, 1)].join('\r\n')}\r\n`);
  const configFile = path.join(dir, 'animals.yaml');
  writeFileSync(
    configFile,
    `name: animals
data:
  train: {format: csv, path: train.csv, label_column: animal}
  test: {format: csv, path: test.csv, label_column: 0}
model: {input: [2], layers: [{type: dense, units: 3, init: zeros}]}
optimizer: {type: sgd, lr: 0.05}
training: {epochs: 20, batch_size: 10}
`,
  );
  let runDir = '';

  it('trains, and stores the classes in the snapshot and summary.json', () => {
    const r = dlt(['train', configFile, '--out', path.join(dir, 'runs')], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    runDir = r.stdout.split('\n')[0]!;
    const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    expect(summary.classes).toEqual(['ant', 'moth', 'zebra']);
    expect(summary.test_accuracy).toBe(1);
    expect(readSnapshot(path.join(runDir, 'snapshots', 'latest.safetensors')).classes).toEqual(['ant', 'moth', 'zebra']);
  });

  it('eval maps labels with the saved classes, even after the training file changed', () => {
    const before = dlt(['eval', runDir, '--json'], dir);
    expect(before.code).toBe(0);
    const result = JSON.parse(before.stdout);
    expect(result.classes).toEqual(['ant', 'moth', 'zebra']);
    // rows(9, 1): k = 1, 2, 0, ... → ant, moth, zebra three times each, all on the diagonal.
    expect(result.confusion).toEqual([
      [3, 0, 0],
      [0, 3, 0],
      [0, 0, 3],
    ]);
    // Without its "ant" rows, the training file alone would give [moth, zebra] and shift the
    // classes; the saved mapping keeps them. (No standardize here, so nothing else changes.)
    writeFileSync(
      path.join(dir, 'train.csv'),
      trainText
        .split('\n')
        .filter((l) => !l.startsWith('ant,'))
        .join('\n'),
    );
    const after = dlt(['eval', runDir, '--json'], dir);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).confusion).toEqual(result.confusion);
    const table = dlt(['eval', runDir], dir);
    expect(table.stdout).toMatch(/0 {2}1\.0000 {2}ant/);
  });

  it('resume keeps the saved classes too, and refuses a training label they lack', () => {
    // train.csv still lacks "ant": the derived mapping would be [moth, zebra].
    const r = dlt(['resume', runDir, '--epochs', '21'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')).classes).toEqual(['ant', 'moth', 'zebra']);
    writeFileSync(path.join(dir, 'train.csv'), `${trainText}bee,1,1\n`);
    expect(expectInputError(dlt(['resume', runDir, '--epochs', '22'], dir))).toContain(`${path.join(dir, 'train.csv')}:62:1: label "bee"`); // the label is the first column
    writeFileSync(path.join(dir, 'train.csv'), trainText);
  });

  it('eval names the file, line and label the saved classes lack', () => {
    writeFileSync(path.join(dir, 'test.csv'), 'animal,x,y\nant,0,10\nmoth,5,0\nbee,1,1\n');
    const message = expectInputError(dlt(['eval', runDir], dir));
    expect(message).toContain(`${path.join(dir, 'test.csv')}:4:1: label "bee" in column 1 ("animal") is not one of the 3 classes`);
  });
});

describe('dlt train on a one-class CSV', () => {
  it('trains, with one warning on stderr saying so', () => {
    const dir = path.join(tmp.dir, 'one-class');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'train.csv'), 'species,x\nAdelie,1\nAdelie,2\nAdelie,3\n');
    writeFileSync(
      path.join(dir, 'one.yaml'),
      'name: one\ndata:\n  train: {format: csv, path: train.csv, label_column: species}\nmodel: {input: [1], layers: [{type: dense, units: 2}]}\noptimizer: {type: sgd, lr: 0.1}\ntraining: {epochs: 1}\n',
    );
    const r = dlt(['train', path.join(dir, 'one.yaml'), '--out', path.join(dir, 'runs')], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'warning: data.train holds only one class ("Adelie"); a classifier cannot learn anything from it — check label_column and the file\n',
    );
  });
});

describe('the shipped penguins data', () => {
  it('train.csv and test.csv hold the three species and four numeric features', () => {
    const base = path.join(repoRoot, 'datasets', 'penguins');
    const train = readCsvTable(path.join(base, 'train.csv'), named(), 'data.train');
    const test = readCsvTable(path.join(base, 'test.csv'), named(), 'data.test');
    expect(labelMapping(train)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(train.featureNames).toEqual(['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g']);
    // 342 complete rows of the 344 (two lack every measurement), every fifth per species to test.
    expect(train.count + test.count).toBe(342);
    expect(test.count).toBe(67);
  });
});
