/**
 * Reading a run's metrics.jsonl back (SPEC §4; the writer is src/train/metrics.ts).
 * The file is user input here — it may be damaged, hand-edited or not dlt's at all —
 * so every line is checked field by field, and a bad one is reported as file:line with
 * what is wrong.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { MetricsRecord } from '../train/metrics.js';

type FieldType = 'count' | 'number' | 'number|null' | 'positive' | 'string';

/** The fields each record kind must carry, and what each must hold. */
const FIELDS: Record<MetricsRecord['kind'], Record<string, FieldType>> = {
  step: { epoch: 'count', step: 'count', loss: 'number', loss_avg: 'number', lr: 'positive' },
  // train_loss_avg is null when the rolling window was empty (JSON has no NaN).
  epoch: { epoch: 'count', step: 'count', train_loss_avg: 'number|null', val_loss: 'number|null', val_accuracy: 'number|null', lr: 'positive' },
  lr_drop: { epoch: 'count', from: 'positive', to: 'positive', reason: 'string' },
  nan: { epoch: 'count', step: 'count', loss: 'number|null', lr: 'positive', action: 'string' },
  early_stop: { epoch: 'count', best_epoch: 'count', monitor: 'string', best: 'number' },
};

export interface MetricsFile {
  records: MetricsRecord[];
  /** Lines with a `kind` this version does not know (written by a newer dlt): skipped. */
  unknownKinds: string[];
  /** True when an unterminated last line did not parse: a run still writing it, most likely. */
  partialLastLine: boolean;
}

/**
 * Parse metrics.jsonl. Blank lines are allowed; every other line must be one record.
 * An unterminated last line that is not valid JSON is skipped rather than refused,
 * since a run that is still training may be in the middle of appending it.
 *
 * @throws InputError when the file is missing, empty, or has a malformed line.
 */
export function readMetricsFile(file: string): MetricsFile {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('no metrics.jsonl: the run has not logged anything (is this the folder dlt train printed?)', file);
    if (code === 'EISDIR') throw new InputError('metrics.jsonl is a folder, not the file of records dlt train writes', file);
    throw err;
  }
  const parsed = parseMetricsText(content, file);
  if (parsed.records.length === 0) {
    const unknown = parsed.unknownKinds;
    const why = unknown.length > 0 ? `only records of kinds dlt does not know (${unknown.join(', ')})` : 'no records';
    throw new InputError(
      `metrics.jsonl has ${why}: there is nothing to plot until the run has logged a step (training.log_every) or finished an epoch`,
      file,
    );
  }
  return parsed;
}

/** The records of metrics.jsonl text (`file` names it in messages); none is not an error here. */
export function parseMetricsText(content: string, file: string): MetricsFile {
  const lines = content.split('\n');
  const records: MetricsRecord[] = [];
  const unknown = new Set<string>();
  let partialLastLine = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = { line: i + 1, col: 1 };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      if (i === lines.length - 1) {
        partialLastLine = true;
        continue;
      }
      throw new InputError(
        `not a JSON object (${(err as Error).message}); each line of metrics.jsonl must be one record such as {"kind":"step",...}`,
        file,
        where,
      );
    }
    const record = checkRecord(value, file, where);
    if (record === undefined) unknown.add(String((value as { kind: unknown }).kind));
    else records.push(record);
  }
  return { records, unknownKinds: [...unknown], partialLastLine };
}

/** The record, undefined for a kind this version does not know, or an InputError. */
function checkRecord(value: unknown, file: string, where: { line: number; col: number }): MetricsRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`expected a JSON object, found ${describe(value)}`, file, where);
  }
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string') {
    throw new InputError(`the record has no "kind" (one of ${Object.keys(FIELDS).join(', ')})`, file, where);
  }
  if (!Object.hasOwn(FIELDS, kind)) return undefined;
  const fields = FIELDS[kind as MetricsRecord['kind']];
  for (const [name, type] of Object.entries(fields)) {
    const v = (value as Record<string, unknown>)[name];
    if (!fits(v, type)) {
      const found = v === undefined ? 'it is missing' : `found ${describe(v)}`;
      throw new InputError(`"${name}" of a "${kind}" record must be ${EXPECTED[type]}; ${found}`, file, where);
    }
  }
  return value as MetricsRecord;
}

const EXPECTED: Record<FieldType, string> = {
  count: 'a whole number ≥ 0',
  number: 'a number',
  'number|null': 'a number or null',
  positive: 'a number > 0',
  string: 'a string',
};

function fits(v: unknown, type: FieldType): boolean {
  switch (type) {
    case 'count':
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'number':
      return typeof v === 'number';
    case 'number|null':
      return v === null || typeof v === 'number';
    case 'positive':
      return typeof v === 'number' && v > 0;
    case 'string':
      return typeof v === 'string';
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
