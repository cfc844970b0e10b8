/**
 * What the sweep chart of `dlt plot <sweep-dir>` is drawn from, read from the sweep
 * directory without a lock (a sweep may still be running): sweep.yaml for the metric and
 * the swept parameters, results.jsonl for each ended trial's score and the ranking, and
 * each trial's metrics.jsonl for its curve. Every file is checked by its own reader
 * (readRecord, readResults, readMetricsFile); this file only sorts what they return.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { bestRow, rank, rowFromOutcome, type TrialRow } from '../sweep/leaderboard.js';
import { readResults } from '../sweep/results.js';
import type { SweepDirectory, SweepRecord } from '../sweep/sweepDirectory.js';
import { formatValue } from '../sweep/sweepFile.js';
import { parameterSpec, type SweepMetric } from '../sweep/sweepSchema.js';
import { trialName } from '../sweep/trials.js';
import type { EpochRecord, MetricsRecord } from '../train/metrics.js';
import { RunDirectory } from '../train/runDirectory.js';
import { readMetricsFile } from './metricsFile.js';

/** One trial of the sweep, as the chart needs it. */
export interface SweepTrial {
  id: number;
  /** `trial-0007` */
  name: string;
  params: Record<string, unknown>;
  /** Its run directory, trials/trial-NNNN. */
  runDir: string;
  /** From results.jsonl; 'unended' when it has no line there yet (running, queued or interrupted). */
  status: 'finished' | 'failed' | 'unended';
  /** The sweep's metric at each epoch that recorded it, as [epoch, value], by epoch; empty without a log. */
  curve: [number, number][];
  /** Its score in results.jsonl (the best epoch's value of the metric), and that epoch; null until it has one. */
  score: number | null;
  scoreEpoch: number | null;
}

/**
 * How a swept parameter's axis is drawn: a range with scale: log on a log axis, other
 * numbers on a linear one (over the range, or the listed values), anything else
 * (strings, booleans, lists, a mix) as named categories in the order the sweep lists them.
 */
export type ParameterAxis =
  | { kind: 'log' | 'linear'; min: number; max: number }
  | { kind: 'category'; labels: string[]; categoryOf: (value: unknown) => number };

export interface SweepParameter {
  /** The dotted config path, e.g. `optimizer.lr`. */
  key: string;
  axis: ParameterAxis;
}

export interface SweepPlotData {
  /** The sweep directory's name, `<name>-<stamp>`. */
  title: string;
  record: SweepRecord;
  parameters: SweepParameter[];
  /** Every trial of sweep.yaml, by id. */
  trials: SweepTrial[];
  /** The ended trials, best first (the leaderboard's order). */
  ranked: TrialRow[];
  /** The leaderboard's first row, when it finished with a score. */
  best: SweepTrial | null;
  /** Trial logs that could not be read, said once each on stderr. */
  warnings: string[];
}

/** How many trials there are in each state: for the chart's subtitle and the page. */
export function describeTrialCounts(trials: readonly SweepTrial[]): string {
  const count = (status: SweepTrial['status']) => trials.filter((t) => t.status === status).length;
  const parts = [`${count('finished')} finished`, `${count('failed')} failed`, `${count('unended')} not ended`];
  return `${trials.length} trial${trials.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/**
 * @throws InputError when a file of the sweep directory is damaged, or no trial has
 * logged the metric yet (there would be nothing to draw).
 */
export function readSweepPlotData(dir: SweepDirectory): SweepPlotData {
  const record = dir.readRecord();
  const results = readResults(dir.resultsFile);
  const warnings: string[] = [];

  const trials = record.trial_list.map(({ id, params }): SweepTrial => {
    const result = results.get(id);
    return {
      id,
      name: trialName(id),
      params,
      runDir: dir.trialDir(id),
      status: result?.status ?? 'unended',
      curve: readCurve(dir.trialDir(id), record.metric, warnings),
      score: result?.metric ?? null,
      scoreEpoch: result?.epoch ?? null,
    };
  });
  if (trials.every((t) => t.curve.length === 0)) {
    throw new InputError(
      `no trial has logged ${record.metric.name} yet (trials/*/metrics.jsonl has no epoch with it): nothing to plot; try again once a trial has finished its first epoch`,
      dir.root,
    );
  }

  const ranked = rank([...results.values()].map(rowFromOutcome), record.metric);
  const bestId = bestRow(ranked)?.id;
  return {
    title: path.basename(path.resolve(dir.root)),
    record,
    parameters: Object.entries(record.parameters).map(([key, spec]) => ({ key, axis: parameterAxis(key, spec, trials, dir.sweepFile) })),
    trials,
    ranked,
    best: trials.find((t) => t.id === bestId) ?? null,
    warnings,
  };
}

/**
 * A trial's metric per epoch. A trial not started has no log, and one just started may
 * have a log without a complete line: both have no curve yet, silently. A log that
 * cannot be read is left out with a warning rather than stopping the whole plot.
 */
function readCurve(trialDir: string, metric: SweepMetric, warnings: string[]): [number, number][] {
  if (!existsSync(trialDir)) return [];
  const file = RunDirectory.at(trialDir).metricsFile;
  if (!existsSync(file)) return [];
  let records: MetricsRecord[];
  try {
    records = readMetricsFile(file).records;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    if (!readFileSync(file, 'utf8').includes('\n')) return [];
    warnings.push(`${err.format()}; this trial is left out of the chart`);
    return [];
  }
  return records
    .filter((r): r is EpochRecord => r.kind === 'epoch')
    .flatMap((r): [number, number][] => {
      const value = r[metric.name];
      return value === null || !Number.isFinite(value) ? [] : [[r.epoch, value]];
    })
    .sort((a, b) => a[0] - b[0]);
}

function parameterAxis(key: string, spec: unknown, trials: readonly SweepTrial[], sweepFile: string): ParameterAxis {
  const parsed = parameterSpec.safeParse(spec);
  if (!parsed.success) {
    throw new InputError(
      `parameters.${key} is not a parameter dlt sweep writes (${parsed.error.issues[0]?.message}); the sweep directory is damaged`,
      sweepFile,
    );
  }
  const p = parsed.data;
  if (!('values' in p)) return { kind: p.scale, min: p.min, max: p.max };
  const values = p.values;
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (numbers.length === values.length) return { kind: 'linear', min: Math.min(...numbers), max: Math.max(...numbers) };
  // Categories are told apart by their label; a value the list lacks (a hand-edited
  // sweep.yaml) gets a category of its own at the end.
  const labels = [...new Set([...values, ...trials.map((t) => t.params[key])].filter((v) => v !== undefined).map(formatValue))];
  return { kind: 'category', labels, categoryOf: (value) => labels.indexOf(formatValue(value)) };
}
