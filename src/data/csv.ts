/**
 * Tables in CSV files: one sample per row, one column holding the label, every other
 * column a numeric feature.
 *
 * The file is read as RFC 4180 with a few kindnesses: fields may be quoted ("a, b"),
 * a doubled quote inside quotes is one quote, quoted fields may span lines; CRLF and
 * LF line ends both work; blank lines (a trailing one, say) are skipped; spaces around
 * a cell are ignored; a UTF-8 byte-order mark (as Excel writes it) is dropped.
 *
 * Labels: when every label cell of the training file is a whole number ≥ 0, the numbers
 * are the class indices. Otherwise the labels are names, and class k is the k-th
 * distinct name of the training file in sorted order (by code unit, the same on every
 * machine). The validation and test files use the training file's mapping, never one of
 * their own, and the mapping is stored in every snapshot, so `dlt eval` maps labels the
 * way training did.
 */
import { readFileSync } from 'node:fs';
import { didYouMean } from '../config/didYouMean.js';
import { InputError } from '../errors.js';
import type { Dataset } from './dataset.js';

export interface CsvOptions {
  /** Header name or 0-based index of the label column. */
  labelColumn: string | number;
  /** Whether the first record names the columns. */
  header: boolean;
  delimiter: string;
}

/**
 * How a CSV file's label cells become class indices: the class names, class k being
 * `names[k]`; or "indices" when the labels are whole numbers used as they are.
 */
export type LabelMapping = readonly string[] | 'indices';

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

/** One record: its fields and where each begins (1-based line and column). */
interface CsvRecord {
  fields: string[];
  lines: number[];
  cols: number[];
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const WHOLE = /^\d+$/;

/**
 * Reads a CSV file into features and label texts.
 *
 * @param role the config key of the spec, e.g. "data.train", for messages.
 * @throws InputError naming the file (and line:col) when it is missing, empty, ragged, or
 *   has a non-numeric feature cell or a label column it does not have.
 */
export function readCsvTable(file: string, options: CsvOptions, role: string): CsvTable {
  const records = parseCsv(readText(file, role), file, options.delimiter);
  if (records.length === 0) {
    throw new InputError(`the file is empty (no rows); ${role}.path must name a CSV file with one sample per row`, file);
  }

  const headerRecord = options.header ? records[0]! : undefined;
  const rows = options.header ? records.slice(1) : records;
  const width = records[0]!.fields.length;
  if (headerRecord) checkHeader(headerRecord, file);
  if (rows.length === 0) {
    throw new InputError(`the file has a header (line ${headerRecord!.lines[0]}) but no data rows; add samples, one per row`, file);
  }
  if (width < 2) {
    throw new InputError(
      `the rows have 1 column; dlt needs a label column and at least one feature column` +
        (options.delimiter === ',' ? ' (if the file separates cells with ";" or tabs, set delimiter)' : ''),
      file,
    );
  }
  const names = headerRecord ? headerRecord.fields.map((f) => f.trim()) : Array.from({ length: width }, (_, c) => `column ${c + 1}`);
  const label = labelIndex(options, names, width, file, role);

  const features = width - 1;
  const x = new Float64Array(rows.length * features);
  const labelTexts: string[] = new Array<string>(rows.length);
  const labelLines = new Int32Array(rows.length);
  const labelCols = new Int32Array(rows.length);
  const describe = (c: number): string => (headerRecord ? `column ${c + 1} ("${names[c]}")` : `column ${c + 1}`);
  rows.forEach((row, r) => {
    if (row.fields.length !== width) {
      const first = headerRecord ? `the header (line ${headerRecord.lines[0]})` : `the first row (line ${records[0]!.lines[0]})`;
      throw new InputError(
        `this row has ${row.fields.length} cells but ${first} has ${width}; every row needs one cell per column ` +
          `(a cell holding the delimiter "${options.delimiter}" must be quoted)`,
        file,
        { line: row.lines[0]!, col: 1 },
      );
    }
    let f = 0;
    for (let c = 0; c < width; c++) {
      const cell = row.fields[c]!.trim();
      if (c === label) {
        if (cell === '') throw new InputError(`the label cell, ${describe(c)}, is empty; give every row a label or drop the row`, file, at(row, c));
        labelTexts[r] = cell;
        ({ line: labelLines[r], col: labelCols[r] } = at(row, c));
        continue;
      }
      const value = NUMBER.test(cell) ? Number(cell) : NaN;
      if (!Number.isFinite(value)) {
        const what = cell === '' ? 'is empty' : `holds ${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell)}, not a number`;
        throw new InputError(
          `the cell in ${describe(c)} ${what}; every column except the label column must be numeric — ` +
            `drop or fill rows with missing values, and drop or encode text columns`,
          file,
          at(row, c),
        );
      }
      x[r * features + f++] = value;
    }
  });

  return {
    x,
    count: rows.length,
    featureNames: names.filter((_, c) => c !== label),
    labelTexts,
    labelLines,
    labelCols,
    labelColumn: describe(label),
    source: file,
  };
}

/**
 * The mapping data.train decides on: its labels as class indices when all are whole
 * numbers, else `order` (data.class_names) or its distinct label names, sorted.
 */
export function labelMapping(table: CsvTable, order?: readonly string[]): LabelMapping {
  if (table.labelTexts.every((t) => WHOLE.test(t))) return 'indices';
  return order ?? [...new Set(table.labelTexts)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The table as a Dataset, its labels turned into class indices by `mapping` (which came
 * from the training file or data.class_names, or from a snapshot).
 *
 * @param fromClassNames whether the mapping is data.class_names, for messages.
 * @throws InputError at the first label the mapping has no class for.
 */
export function labelCsvTable(table: CsvTable, mapping: LabelMapping, fromClassNames = false): Dataset {
  const labels = new Int32Array(table.count);
  const index = mapping === 'indices' ? undefined : new Map(mapping.map((name, k) => [name, k]));
  for (let r = 0; r < table.count; r++) {
    const text = table.labelTexts[r]!;
    const k = index ? index.get(text) : WHOLE.test(text) ? Number(text) : undefined;
    if (k === undefined || !Number.isSafeInteger(k)) {
      const where = { line: table.labelLines[r]!, col: table.labelCols[r]! };
      if (index) {
        const near = didYouMean(text, mapping as readonly string[]);
        const fix = fromClassNames
          ? 'add it to data.class_names, or spell the label as it is there'
          : 'every class must occur in data.train, and the labels must be spelt as they are there';
        throw new InputError(
          `label ${JSON.stringify(text)} in ${table.labelColumn} is not one of the ${index.size} classes of ${fromClassNames ? 'data.class_names' : 'the training data'} ` +
            `(${listed(mapping as readonly string[])})${near ? `; did you mean "${near}"?` : ''} — ${fix}`,
          table.source,
          where,
        );
      }
      throw new InputError(
        `label ${JSON.stringify(text)} in ${table.labelColumn} is not a whole number ≥ 0, but the training data's labels are ` +
          `(they are used as class indices); write this file's labels the same way`,
        table.source,
        where,
      );
    }
    labels[r] = k;
  }
  return { x: table.x, labels, count: table.count, sampleShape: [table.featureNames.length], source: table.source };
}

// ---------------------------------------------------------------- parsing

/**
 * Splits CSV text into records. Blank lines are skipped; every other line starts a
 * record that ends at the first line end outside quotes.
 */
export function parseCsv(text: string, file: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;
  const isEnd = (k: number): boolean => k >= n || text[k] === '\n' || (text[k] === '\r' && (k + 1 >= n || text[k + 1] === '\n'));
  const skipLineEnd = (): void => {
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    lineStart = i;
  };

  while (i < n) {
    // A blank (or all-space) line holds no record.
    let k = i;
    while (k < n && (text[k] === ' ' || text[k] === '\t') && text[k] !== delimiter) k++;
    if (isEnd(k)) {
      i = k;
      skipLineEnd();
      continue;
    }

    const record: CsvRecord = { fields: [], lines: [], cols: [] };
    for (;;) {
      record.lines.push(line);
      record.cols.push(i - lineStart + 1);
      // Spaces before an opening quote are allowed: `a, "b, c"`.
      let q = i;
      while (q < n && (text[q] === ' ' || text[q] === '\t') && text[q] !== delimiter) q++;
      if (text[q] === '"') {
        const startLine = line;
        const startCol = q - lineStart + 1;
        let value = '';
        i = q + 1;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) {
            throw new InputError(
              `the quoted cell starting here is never closed; add the closing quote (a quote inside a quoted cell is written "")`,
              file,
              { line: startLine, col: startCol },
            );
          }
          const chunk = text.slice(i, close);
          for (let c = chunk.indexOf('\n'); c >= 0; c = chunk.indexOf('\n', c + 1)) {
            line++;
            lineStart = i + c + 1;
          }
          value += chunk;
          if (text[close + 1] === '"') {
            value += '"';
            i = close + 2;
          } else {
            i = close + 1;
            break;
          }
        }
        while (i < n && (text[i] === ' ' || text[i] === '\t') && text[i] !== delimiter) i++;
        if (!(isEnd(i) || text[i] === delimiter)) {
          throw new InputError(
            `unexpected ${JSON.stringify(text[i])} after the closing quote of a quoted cell; a quote inside a quoted cell is written ""`,
            file,
            { line, col: i - lineStart + 1 },
          );
        }
        record.fields.push(value);
      } else {
        let end = i;
        while (end < n && text[end] !== delimiter && !isEnd(end)) end++;
        record.fields.push(text.slice(i, end));
        i = end;
      }
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    records.push(record);
    if (i < n) skipLineEnd();
  }
  return records;
}

function readText(file: string, role: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(`file not found; check ${role}.path (relative paths resolve against the config file's folder)`, file);
    }
    if (code === 'EISDIR') throw new InputError(`this is a folder; ${role}.path must name a CSV file`, file);
    throw new InputError(`cannot read the file (${(err as Error).message}); check ${role}.path`, file);
  }
  if (bytes.includes(0)) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    throw new InputError(
      `this is not a UTF-8 text file (it holds zero bytes${gzip ? '; it is gzip-compressed, gunzip it first' : ': binary data, or UTF-16 text — save it as UTF-8'}); ${role}.path must name a CSV file`,
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

/** "a, b, c", or the first few and a count. */
function listed(names: readonly string[], max = 12): string {
  const quoted = names.slice(0, max).map((n) => `"${n}"`);
  return quoted.join(', ') + (names.length > max ? `, … (${names.length} in all)` : '');
}
