import { didYouMean } from '../config/didYouMean.js';
import { InputError } from '../errors.js';
import type { CsvTable } from './csv.js';
import type { Dataset } from './dataset.js';

/**
 * How a CSV file's label cells become class indices. When every label cell of the
 * training file is a whole number ≥ 0, the numbers are the class indices. Otherwise the
 * labels are names, and class k is the k-th distinct name of the training file in sorted
 * order (by code unit, the same on every machine), or the k-th of data.class_names. The
 * validation and test files use the training file's mapping, never one of their own, and
 * the mapping is stored in every snapshot, so `dlt eval` maps labels the way training did.
 */

/**
 * The class names, class k being `names[k]`; or "indices" when the labels are whole
 * numbers used as they are.
 */
export type LabelMapping = readonly string[] | 'indices';

const WHOLE = /^\d+$/;

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
  const names = mapping === 'indices' ? undefined : mapping;
  const index = names && new Map(names.map((name, k) => [name, k]));
  for (let r = 0; r < table.count; r++) {
    const text = table.labelTexts[r]!;
    const k = index ? index.get(text) : WHOLE.test(text) ? Number(text) : undefined;
    if (k === undefined || !Number.isSafeInteger(k)) {
      const where = { line: table.labelLines[r]!, col: table.labelCols[r]! };
      if (names) {
        const near = didYouMean(text, names);
        const fix = fromClassNames
          ? 'add it to data.class_names, or spell the label as it is there'
          : 'every class must occur in data.train, and the labels must be spelt as they are there';
        throw new InputError(
          `label ${JSON.stringify(text)} in ${table.labelColumn} is not one of the ${names.length} classes of ${fromClassNames ? 'data.class_names' : 'the training data'} ` +
            `(${listed(names)})${near ? `; did you mean "${near}"?` : ''} — ${fix}`,
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

/** "a, b, c", or the first few and a count. */
export function listed(names: readonly string[], max = 12): string {
  const quoted = names.slice(0, max).map((n) => `"${n}"`);
  return quoted.join(', ') + (names.length > max ? `, … (${names.length} in all)` : '');
}
