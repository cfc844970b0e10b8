import { csvCell } from '../util/csvCell.js';
import type { Predictions } from './predictions.js';

/** One cell of the table: text, a number, or null (no class name: an empty CSV cell). */
export type Cell = string | number | null;

/** dlt predict's output before it is written: named columns, one row per sample. */
export interface PredictionTable {
  columns: string[];
  rows: Cell[][];
}

/**
 * The predictions as a table. Every row starts with `source, class, class_name,
 * probability` (the predicted class, its name, its probability); then either one
 * `p_<name>` column per class (`p_<index>` for a class without a name), or with `top`
 * = K the K most probable classes, `top1_class, top1_name, top1_probability, …,
 * topK_*` (K at most the number of classes). A class without a name has null as its
 * name.
 *
 * @param sources what to call each sample, [count].
 * @param classNames class k's name, when the run has names (classNamesOf).
 */
export function predictionTable(predictions: Predictions, sources: readonly string[], classNames?: readonly string[], top?: number): PredictionTable {
  const { count, classes, predicted, probabilities, ranking } = predictions;
  const nameOf = (c: number): string | null => classNames?.[c] ?? null;
  const K = top === undefined ? 0 : Math.min(top, classes);
  const columns = ['source', 'class', 'class_name', 'probability'];
  if (top === undefined) for (let c = 0; c < classes; c++) columns.push(`p_${nameOf(c) ?? c}`);
  else for (let r = 1; r <= K; r++) columns.push(`top${r}_class`, `top${r}_name`, `top${r}_probability`);

  const rows: Cell[][] = [];
  for (let i = 0; i < count; i++) {
    const p = probabilities.subarray(i * classes, (i + 1) * classes);
    const c = predicted[i]!;
    const row: Cell[] = [sources[i]!, c, nameOf(c), p[c]!];
    if (top === undefined) row.push(...p);
    else {
      for (const k of ranking.subarray(i * classes, i * classes + K)) row.push(k, nameOf(k), p[k]!);
    }
    rows.push(row);
  }
  return { columns, rows };
}

/** The table as CSV: a header line, then one line per row; numbers in JSON's shortest exact form. */
export function tableCsv(table: PredictionTable): string {
  const lines = [table.columns, ...table.rows].map((cells) => cells.map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

/** The table as a JSON array, one object per row, keyed by the CSV columns in their order. */
export function tableJson(table: PredictionTable): string {
  const objects = table.rows.map((row) => Object.fromEntries(table.columns.map((column, j) => [column, row[j]])));
  return `${JSON.stringify(objects)}\n`;
}
