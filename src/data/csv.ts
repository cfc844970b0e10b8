/**
 * Tables in CSV files: one sample per row, one column holding the label, every other
 * column a numeric feature. The dialect is in src/data/csvParse.ts; how label cells
 * become classes, in src/data/csvLabels.ts.
 */
import { didYouMean } from '../config/didYouMean.js';
import { InputError } from '../errors.js';
import { listed } from './csvLabels.js';
import { type CsvRecord, parseCsv } from './csvParse.js';
import { readDataFile } from './dataFile.js';

export { type LabelMapping, labelCsvTable, labelMapping } from './csvLabels.js';

export interface CsvOptions {
  /** Header name or 0-based index of the label column. */
  labelColumn: string | number;
  /** Whether the first record names the columns. */
  header: boolean;
  delimiter: string;
}

/** A CSV file with its features parsed and its labels still text. */
export interface CsvTable {
  /** count × features, row-major. */
  x: Float64Array;
  count: number;
  /** Names of the feature columns (header names, or "column N", 1-based). */
  featureNames: string[];
  /** The label cell of each row, trimmed. */
  labelTexts: string[];
  /** Where each row's label cell is in the file (1-based line and column), for messages. */
  labelLines: Int32Array;
  labelCols: Int32Array;
  /** The label column, described for messages: `"species" (column 5)`. */
  labelColumn: string;
  source: string;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a (trimmed) cell is a decimal number as dlt reads them: 3, -0.5, .5, 1e-3. */
export function isCsvNumber(cell: string): boolean {
  return NUMBER.test(cell);
}

/**
 * 256 MiB. A table is read whole: its text, then its features as doubles, about 8 bytes
 * for every 2 to 8 bytes of text. Data sets published as CSV for classifiers (Covertype,
 * 75 MB; MNIST as CSV, 110 MB) fit.
 */
const MAX_CSV_BYTES = 256 * 1024 * 1024;

/**
 * Reads a CSV file into features and label texts, one record at a time.
 *
 * @param role the config key of the spec, e.g. "data.train", for messages.
 * @throws InputError naming the file (and line:col) when it is missing, empty, ragged, or
 *   has a non-numeric feature cell or a label column it does not have.
 */
export function readCsvTable(file: string, options: CsvOptions, role: string): CsvTable {
  const text = readCsvText(file, `${role}.path`);
  // Every row ends at a line end, so the rows are at most the lines (less the header's).
  const capacity = Math.max(0, csvLineCount(text) - (options.header ? 1 : 0));
  let first: CsvRecord | undefined; // the header, or the first row
  let header: CsvRecord | undefined;
  let columns: Columns | undefined;
  let x = new Float64Array(0);
  let count = 0;
  const labelTexts: string[] = [];
  const labelLines: number[] = [];
  const labelCols: number[] = [];

  parseCsv(text, file, options.delimiter, (record) => {
    if (!first) {
      first = record;
      if (options.header) {
        checkHeader(record, file);
        header = record;
        return;
      }
    }
    if (!columns) {
      columns = columnsOf(first, header, options, file, role);
      x = new Float64Array(capacity * columns.features);
    }
    if (count >= capacity) throw new Error(`CSV reader: more rows than the ${capacity} lines counted`);
    const { label, text: labelText } = readRow(record, columns, x.subarray(count * columns.features, (count + 1) * columns.features), file);
    labelTexts.push(labelText);
    labelLines.push(label.line);
    labelCols.push(label.col);
    count++;
  });

  if (!first) throw new InputError(`the file is empty (no rows); ${role}.path must name a CSV file with one sample per row`, file);
  if (!columns) throw new InputError(`the file has a header (line ${first.lines[0]}) but no data rows; add samples, one per row`, file);
  const { features, label, names } = columns;
  const used = count * features;
  return {
    x: used === x.length ? x : x.slice(0, used),
    count,
    featureNames: names.filter((_, c) => c !== label),
    labelTexts,
    labelLines: Int32Array.from(labelLines),
    labelCols: Int32Array.from(labelCols),
    labelColumn: columns.describe(label),
    source: file,
  };
}

/** What the first record says about every row. */
interface Columns {
  /** Cells per row. */
  width: number;
  features: number;
  /** Index of the label column. */
  label: number;
  names: string[];
  /** A column, for messages: `column 5 ("species")`. */
  describe(c: number): string;
  /** The record every row must match in width, for messages: `the header (line 1)`. */
  firstRecord: string;
  delimiter: string;
}

function columnsOf(first: CsvRecord, header: CsvRecord | undefined, options: CsvOptions, file: string, role: string): Columns {
  const width = first.fields.length;
  if (width < 2) {
    throw new InputError(
      `the rows have 1 column; dlt needs a label column and at least one feature column` +
        (options.delimiter === ',' ? ' (if the file separates cells with ";" or tabs, set delimiter)' : ''),
      file,
    );
  }
  const names = header ? header.fields.map((f) => f.trim()) : Array.from({ length: width }, (_, c) => `column ${c + 1}`);
  return {
    width,
    features: width - 1,
    label: labelIndex(options, names, width, file, role),
    names,
    describe: (c) => (header ? `column ${c + 1} ("${names[c]}")` : `column ${c + 1}`),
    firstRecord: header ? `the header (line ${header.lines[0]})` : `the first row (line ${first.lines[0]})`,
    delimiter: options.delimiter,
  };
}

/** One row's features into `features`; returns its label cell and where it is. */
function readRow(row: CsvRecord, columns: Columns, features: Float64Array, file: string): { text: string; label: { line: number; col: number } } {
  if (row.fields.length !== columns.width) {
    throw new InputError(
      `this row has ${row.fields.length} cells but ${columns.firstRecord} has ${columns.width}; every row needs one cell per column ` +
        `(a cell holding the delimiter "${columns.delimiter}" must be quoted)`,
      file,
      { line: row.lines[0]!, col: 1 },
    );
  }
  let text = '';
  let f = 0;
  for (let c = 0; c < columns.width; c++) {
    const cell = row.fields[c]!.trim();
    if (c === columns.label) {
      if (cell === '')
        throw new InputError(`the label cell, ${columns.describe(c)}, is empty; give every row a label or drop the row`, file, at(row, c));
      text = cell;
      continue;
    }
    const value = NUMBER.test(cell) ? Number(cell) : Number.NaN;
    if (!Number.isFinite(value)) {
      const what = cell === '' ? 'is empty' : `holds ${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell)}, not a number`;
      throw new InputError(
        `the cell in ${columns.describe(c)} ${what}; every column except the label column must be numeric — ` +
          `drop or fill rows with missing values, and drop or encode text columns`,
        file,
        at(row, c),
      );
    }
    features[f++] = value;
  }
  return { text, label: at(row, columns.label) };
}

/** The number of lines: line ends, plus a last line without one. */
/** The lines of a text, a last line without its line end included: an upper bound on its CSV records. */
export function csvLineCount(text: string): number {
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return text.length > 0 && !text.endsWith('\n') ? lines + 1 : lines;
}

/**
 * A CSV file's text, refused when it is too large to read whole or is not text.
 *
 * @param key what names the file, for messages: a config key (`data.train.path`), or `the input`.
 */
export function readCsvText(file: string, key: string): string {
  const bytes = readDataFile(file, key, {
    what: 'a CSV file',
    maxBytes: MAX_CSV_BYTES,
    tooLargeHint: 'dlt reads a table whole into memory; use a sample of the rows, or convert the data to a binary format',
  });
  if (bytes.includes(0)) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    throw new InputError(
      `this is not a UTF-8 text file (it holds zero bytes${gzip ? '; it is gzip-compressed, gunzip it first' : ': binary data, or UTF-16 text — save it as UTF-8'}); ${key} must name a CSV file`,
      file,
    );
  }
  return bytes.toString('utf8');
}

/** A header of nothing but numbers is a data row: the file has no header. */
function checkHeader(header: CsvRecord, file: string): void {
  const cells = header.fields.map((f) => f.trim());
  if (cells.every((c) => NUMBER.test(c))) {
    throw new InputError(
      `the first row, taken as the header (header: true is the default), holds only numbers (${cells.slice(0, 4).join(', ')}${cells.length > 4 ? ', …' : ''}); ` +
        `if the file has no header row, set header: false and give label_column as a 0-based index`,
      file,
      { line: header.lines[0]!, col: 1 },
    );
  }
}

function labelIndex(options: CsvOptions, names: string[], width: number, file: string, role: string): number {
  const { labelColumn } = options;
  if (typeof labelColumn === 'number') {
    if (labelColumn >= width) {
      throw new InputError(
        `${role}.label_column is ${labelColumn}, but the rows have ${width} columns, indices 0 to ${width - 1}; give the label column's 0-based index`,
        file,
      );
    }
    return labelColumn;
  }
  if (!options.header) {
    throw new InputError(
      `${role}.label_column names a column ("${labelColumn}"), but with header: false the columns have no names; ` +
        `give its 0-based index (label_column: 0 for the first column), or set header: true if the first row names the columns`,
      file,
    );
  }
  const matches = names.flatMap((name, c) => (name === labelColumn ? [c] : []));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new InputError(
      `the header names ${matches.length} columns "${labelColumn}" (columns ${matches.map((c) => c + 1).join(', ')}); rename one, or give ${role}.label_column as a 0-based index`,
      file,
    );
  }
  const near = didYouMean(labelColumn, names);
  throw new InputError(
    `${role}.label_column is "${labelColumn}", but the header has no such column${near ? `; did you mean "${near}"?` : ''} ` +
      `(the columns are ${listed(names)})`,
    file,
  );
}

function at(row: CsvRecord, c: number): { line: number; col: number } {
  return { line: row.lines[c]!, col: row.cols[c]! };
}
