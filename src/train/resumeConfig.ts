import { stringify as toYaml } from 'yaml';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { readInputFile } from '../util/inputFile.js';
import type { RunDirectory } from './runDirectory.js';

/** Config keys that a resume may not change: the saved tensors or state would not fit them. */
const FIXED = ['seed', 'model', 'loss', 'optimizer.type', 'schedule.type', 'training.dtype', 'data.validation'];

export interface ConfigChange {
  key: string;
  from: string;
  to: string;
}

/** The run's config.yaml, parsed. */
export function readRunConfig(dir: RunDirectory): Config {
  const text = readInputFile(dir.configFile, { what: "a run's config.yaml" }).toString('utf8');
  return parseConfig(text, dir.configFile);
}

/**
 * A snapshot carries its own config, so one copied in from another run would otherwise
 * be taken for this run's (resumed, evaluated, and its config.yaml rewritten): refuse it
 * when it differs from the run's config.yaml in a key that no resume can change.
 */
export function checkBelongsToRun(snapshot: Snapshot, runConfig: Config): void {
  const differences = diffConfigs(runConfig, snapshot.config).filter((c) => isFixed(c.key));
  if (differences.length > 0) {
    throw new InputError(
      `it belongs to another run or architecture: ${differences.map((c) => `${c.key} is ${c.to} in the snapshot but ${c.from} in the run's config.yaml`).join('; ')}`,
      snapshot.file,
    );
  }
}

/**
 * The snapshot's config with `--epochs` and `--set` applied, and the changes made.
 * Changes the saved state cannot follow are refused: the FIXED keys, the batch size
 * inside an epoch, and fewer epochs than are done.
 */
export function resumedConfig(
  snapshot: Snapshot,
  overrides: readonly string[],
  epochs: number | undefined,
  dir: RunDirectory,
): { config: Config; changes: ConfigChange[] } {
  const all = [...overrides, ...(epochs !== undefined ? [`training.epochs=${epochs}`] : [])];
  if (all.length === 0) return { config: snapshot.config, changes: [] };
  const config = parseConfig(toYaml(snapshot.config), dir.configFile, all);
  const changes = diffConfigs(snapshot.config, config);
  const { state } = snapshot;
  const refused = changes.filter((c) => isFixed(c.key) || (c.key === 'training.batch_size' && state.batch > 0));
  if (refused.length > 0) {
    throw new InputError(
      `cannot resume with ${refused.map((c) => `${c.key}: ${c.from} → ${c.to}`).join(', ')}: the snapshot's parameters and state ` +
        'belong to the run as it was (the batch size can change only at an epoch boundary); start a new run with dlt train instead',
      dir.root,
    );
  }
  if (config.training.epochs < state.epoch || (config.training.epochs === state.epoch && state.batch > 0)) {
    throw new InputError(`--epochs ${config.training.epochs} is not more than the ${state.epoch} epochs already done`, dir.root);
  }
  return { config, changes };
}

function isFixed(key: string): boolean {
  return FIXED.some((k) => key === k || key.startsWith(`${k}.`));
}

/** The keys whose values differ, lists compared element by element (`model.layers.0.units: 24 → 32`). */
export function diffConfigs(before: unknown, after: unknown, prefix = ''): ConfigChange[] {
  const beforeEntries = entriesOf(before);
  const afterEntries = entriesOf(after);
  if (beforeEntries && afterEntries && Array.isArray(before) === Array.isArray(after)) {
    const a = new Map(beforeEntries);
    const b = new Map(afterEntries);
    const keys = [...new Set([...a.keys(), ...b.keys()])];
    return keys.flatMap((k) => diffConfigs(a.get(k), b.get(k), prefix ? `${prefix}.${k}` : k));
  }
  const from = JSON.stringify(before);
  const to = JSON.stringify(after);
  return from === to ? [] : [{ key: prefix, from: from ?? 'unset', to: to ?? 'unset' }];
}

/** A mapping's or a list's entries, or undefined for a plain value. */
function entriesOf(v: unknown): [string, unknown][] | undefined {
  return typeof v === 'object' && v !== null ? Object.entries(v) : undefined;
}
