import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { InputError } from '../errors.js';
import { withIo } from '../util/ioError.js';
import { type TrialOutcome, trialOutcomeSchema } from './trialOutcome.js';

/**
 * results.jsonl: one line per finished or failed trial, appended by the coordinator (its
 * only writer) as each trial ends, and synced, so a coordinator stopped at any moment
 * loses no result it has recorded. A line cut short by a crash mid-append is removed
 * when the sweep is resumed; that trial's outcome is then read again from its run.
 */

export function appendResult(file: string, outcome: TrialOutcome): void {
  withIo('write', file, () => {
    appendFileSync(file, `${JSON.stringify(outcome)}\n`);
    const fd = openSync(file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * The recorded outcomes, by trial id (a later line for the same trial wins). With
 * `repair`, an unterminated last line is cut off first (the coordinator does this before
 * it appends again); without, it is ignored, as a reader of a running sweep must.
 */
export function readResults(file: string, repair = false): Map<number, TrialOutcome> {
  const results = new Map<number, TrialOutcome>();
  if (!existsSync(file)) return results;
  const text = withIo('read', file, () => readFileSync(file, 'utf8'));
  const complete = text.lastIndexOf('\n') + 1;
  if (repair && complete < text.length) withIo('repair', file, () => truncateSync(file, Buffer.byteLength(text.slice(0, complete))));
  const lines = text.slice(0, complete).split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InputError('not a JSON line; results.jsonl is damaged (remove the line to read the trial again)', file, { line: i + 1, col: 1 });
    }
    const parsed = trialOutcomeSchema.safeParse(value);
    if (!parsed.success) {
      throw new InputError(`not a trial result written by dlt sweep: ${parsed.error.issues[0]?.message}`, file, { line: i + 1, col: 1 });
    }
    results.set(parsed.data.id, parsed.data);
  });
  return results;
}
