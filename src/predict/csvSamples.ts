import type { Config } from '../config/schema.js';
import { csvLineCount, isCsvNumber, readCsvText } from '../data/csv.js';
import { type CsvRecord, parseCsv } from '../data/csvParse.js';
import { InputError } from '../errors.js';
import { sizeOf } from '../tensor/types.js';
import { type Samples, unlabelledSamples } from './samples.js';

/**
 * Samples from a CSV file, one per row, D = product(model.input) numeric features each,
 * in the order the training file had them. The file is read like the training file:
 *
 * - training data in CSV with a header: the first line is a header; the column the
 *   header calls by the training label column's name is dropped (labels may be left
 *   in), and the rest must be the D features;
 * - training data in CSV without a header: a row of D + 1 cells drops the cell at the
 *   training label column's index, a row of D cells is all features;
 * - other training data (images): rows of D cells; a first row that is not all numbers
 *   is a header.
 *
 * The delimiter is the training file's (',' when it was not CSV). Row r is called
 * `<file>:<line>`, the line where the row begins.
 */
export function readCsvSamples(file: string, config: Config): Samples {
  const features = sizeOf(config.model.input);
  const layout = layoutOf(config, features);
  const text = readCsvText(file, 'the input');
  const x = new Float64Array(csvLineCount(text) * features);
  const sources: string[] = [];
  let header: Header | undefined;
  let first = true;

  parseCsv(text, file, layout.delimiter, (record) => {
    if (first) {
      first = false;
      if (layout.header === 'always' || (layout.header === 'when-text' && !record.fields.every(isNumber))) {
        header = readHeader(record, layout, file);
        return;
      }
    }
    const drop = header ? header.drop : droppedCell(record, layout, file);
    if (header && record.fields.length !== header.width) {
      throw new InputError(
        `this row has ${record.fields.length} cells but the header (line ${header.line}) has ${header.width}; ` +
          `expected ${header.width} cells, ${features} features${header.drop === undefined ? '' : ' and the label column'}`,
        file,
        { line: record.lines[0]!, col: 1 },
      );
    }
    readFeatures(record, drop, x.subarray(sources.length * features, (sources.length + 1) * features), file);
    sources.push(`${file}:${record.lines[0]}`);
  });

  if (sources.length === 0) {
    throw new InputError(
      header ? 'the file has a header but no rows; add the samples to classify, one per row' : 'the file is empty; give one sample per row',
      file,
    );
  }
  return unlabelledSamples(x.slice(0, sources.length * features), config.model.input, sources, file);
}

/** How the training data says a CSV file to classify is laid out. */
interface Layout {
  features: number;
  delimiter: string;
  /** Whether the first row is a header: as in training, or when it is not all numbers. */
  header: 'always' | 'never' | 'when-text';
  /** The training file's label column: its header name, or its 0-based index; none when training data was not CSV. */
  labelColumn?: string | number;
}

function layoutOf(config: Config, features: number): Layout {
  const train = config.data.train;
  if (!('format' in train) || train.format !== 'csv') return { features, delimiter: ',', header: 'when-text' };
  return { features, delimiter: train.delimiter, header: train.header ? 'always' : 'never', labelColumn: train.label_column };
}

/** The header row: how wide rows are, and which cell of each is the label, to drop. */
interface Header {
  width: number;
  drop?: number;
  line: number;
}

function readHeader(record: CsvRecord, layout: Layout, file: string): Header {
  const names = record.fields.map((f) => f.trim());
  const line = record.lines[0]!;
  if (layout.header === 'always' && names.every(isNumber)) {
    throw new InputError(
      `the first row should be a header naming the columns, as in the run's training file, but it holds only numbers (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}); ` +
        "add the training file's header line",
      file,
      { line, col: 1 },
    );
  }
  const { labelColumn, features } = layout;
  let drop: number | undefined;
  if (typeof labelColumn === 'string') {
    const at = names.indexOf(labelColumn);
    drop = at < 0 ? undefined : at;
  } else if (labelColumn !== undefined && names.length === features + 1) drop = labelColumn;
  const width = names.length;
  if (width - (drop === undefined ? 0 : 1) !== features) {
    const label = typeof labelColumn === 'string' ? `the label column "${labelColumn}"` : 'the label column';
    const has = drop === undefined ? `${width} columns` : `${width} columns, ${label} and ${width - 1} others`;
    throw new InputError(
      `the header has ${has}, but the model takes ${features} features; expected ${features} feature columns${labelColumn === undefined ? '' : ` (${label} may be left in or left out)`}`,
      file,
      { line, col: 1 },
    );
  }
  return drop === undefined ? { width, line } : { width, drop, line };
}

/** Without a header: the cell to drop as the label, by the row's width. */
function droppedCell(record: CsvRecord, layout: Layout, file: string): number | undefined {
  const { features, labelColumn } = layout;
  const width = record.fields.length;
  if (width === features) return undefined;
  if (typeof labelColumn === 'number' && width === features + 1) return labelColumn;
  const expected =
    typeof labelColumn === 'number'
      ? `${features} feature cells, or ${features + 1} with the label in column ${labelColumn + 1}`
      : `${features} cells, one per feature`;
  throw new InputError(`this row has ${width} cells; expected ${expected} (the model's input has ${features} features)`, file, {
    line: record.lines[0]!,
    col: 1,
  });
}

/** The row's cells but `drop`, as numbers, into `out` ([features]). */
function readFeatures(record: CsvRecord, drop: number | undefined, out: Float64Array, file: string): void {
  let f = 0;
  for (const [c, field] of record.fields.entries()) {
    if (c === drop) continue;
    const cell = field.trim();
    if (!isNumber(cell)) {
      const what = cell === '' ? 'is empty' : `holds ${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell)}, not a number`;
      throw new InputError(`the cell in column ${c + 1} ${what}; every feature must be a number`, file, {
        line: record.lines[c]!,
        col: record.cols[c]!,
      });
    }
    out[f++] = Number(cell);
  }
}

function isNumber(cell: string): boolean {
  const text = cell.trim();
  return isCsvNumber(text) && Number.isFinite(Number(text));
}
