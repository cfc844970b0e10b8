import { Rng } from '../util/rng.js';
import type { ParameterSpec, SweepSpec } from './sweepSchema.js';

/**
 * The trials of a sweep: which value each swept config key takes in each trial. They
 * depend only on the sweep file (its parameters, method, trials and seed), so the same
 * sweep gives the same numbered trials on any engine and after any interruption.
 */

/** One trial: its number (from 1) and the value of each swept key, in the sweep file's order. */
export interface Trial {
  id: number;
  params: Record<string, unknown>;
}

/** `trial-0007`: the folder of trial 7 under the sweep's trials/. */
export function trialName(id: number): string {
  return `trial-${String(id).padStart(4, '0')}`;
}

export function expandTrials(spec: Pick<SweepSpec, 'method' | 'parameters' | 'trials' | 'seed'>): Trial[] {
  const entries = Object.entries(spec.parameters);
  const params = spec.method === 'grid' ? gridParams(entries) : randomParams(entries, spec.trials ?? 0, spec.seed);
  return params.map((p, i) => ({ id: i + 1, params: p }));
}

/** How many trials a grid has: the product of its list lengths. */
export function gridSize(parameters: SweepSpec['parameters']): number {
  return Object.values(parameters).reduce((n, spec) => n * ('values' in spec ? spec.values.length : 1), 1);
}

/** Every combination, the last key varying fastest (as nested loops in file order). */
function gridParams(entries: [string, ParameterSpec][]): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, spec] of entries) {
    const values = 'values' in spec ? spec.values : [];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos;
}

/**
 * `count` draws from the seed's `sweep` stream: trial by trial, key by key in file order,
 * one uniform u in [0, 1) each. A list takes item ⌊u·n⌋; a range min + u·(max − min), or
 * exp of that on the logs for scale: log.
 */
function randomParams(entries: [string, ParameterSpec][], count: number, seed: number): Record<string, unknown>[] {
  const rng = Rng.derive(seed, 'sweep');
  const draws: Record<string, unknown>[] = [];
  for (let t = 0; t < count; t++) {
    const params: Record<string, unknown> = {};
    for (const [key, spec] of entries) {
      const u = rng.nextFloat();
      if ('values' in spec) params[key] = spec.values[Math.min(Math.floor(u * spec.values.length), spec.values.length - 1)];
      else if (spec.scale === 'log') params[key] = Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min)));
      else params[key] = spec.min + u * (spec.max - spec.min);
    }
    draws.push(params);
  }
  return draws;
}
