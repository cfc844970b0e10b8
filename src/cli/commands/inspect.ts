import type { Command } from '@commander-js/extra-typings';
import { classNamesOf } from '../../data/load.js';
import { buildModel } from '../../model/build.js';
import { createSchedule } from '../../schedule/registry.js';
import { loadParams, type Snapshot } from '../../snapshot/snapshot.js';
import { jsKernels } from '../../tensor/kernels.js';
import { formatLr } from '../../util/format.js';
import type { CliContext } from '../context.js';
import { jsonOption } from '../options.js';
import { readTargetSnapshot } from '../snapshotTarget.js';

export function registerInspect(cli: Command, ctx: CliContext): void {
  cli
    .command('inspect')
    .description("show a snapshot's layers, shapes, parameter counts, optimiser slots and training state")
    .argument('<snapshot|run-dir>', '.safetensors snapshot, or a run directory (its latest snapshot, else best)')
    .addOption(jsonOption())
    .action((target, opts) => {
      const result = inspectCommand(target);
      ctx.stdout(`${opts.json ? JSON.stringify(inspectJson(result)) : inspectTable(result)}\n`);
    });
}

export interface ParamInfo {
  name: string;
  shape: number[];
  dtype: string;
  count: number;
}

export interface LayerInfo {
  name: string;
  type: string;
  outputShape: number[];
  params: ParamInfo[];
  paramCount: number;
}

export interface Inspection {
  snapshot: string;
  formatVersion: number;
  name: string;
  dtype: string;
  inputShape: number[];
  /** Class names, class k = classes[k], when the training labels were names (CSV). */
  classes: string[] | null;
  layers: LayerInfo[];
  totalParams: number;
  optimizer: {
    type: string;
    /** Slot names present in the file (`velocity`, `m`, `v`, `cache`), in file order. */
    slots: string[];
    /** Entries over all slot tensors. */
    slotEntries: number;
    /** Step counts and other scalars (`optimizer` in the state). */
    state: Record<string, unknown>;
  };
  training: {
    /** Epochs completed. */
    epoch: number;
    /** Batches done in epoch `epoch + 1` (0 at an epoch boundary). */
    batch: number | null;
    step: number;
    /** The learning rate for the next step: the schedule's, times lrScale. */
    lr: number | null;
    lrScale: number | null;
    bestValAccuracy: number | null;
    rollbacks: number | null;
    trainSeconds: number | null;
    backend: string | null;
    threads: number | null;
    dltVersion: string | null;
  };
}

/**
 * `dlt inspect <snapshot | run-dir>`: what a snapshot holds — the layers with their
 * shapes and parameter tensors, the optimiser slots, and where training stood. The file
 * is verified (checksum, format, and its tensors against the architecture its config
 * describes) before anything is shown; a damaged file is an InputError.
 */
export function inspectCommand(target: string): Inspection {
  // In a run directory: latest, where training stands (what dlt resume continues), else
  // best. (dlt eval prefers best: it is about the model worth evaluating.)
  const snapshot = readTargetSnapshot(target, 'latest');
  const { config, state, file } = snapshot;
  // Building the network gives the output shapes; loading the parameters checks that the
  // file's tensors are the ones that architecture needs.
  const { network } = buildModel(config, jsKernels);
  loadParams(network, snapshot);
  const layers = network.layers.map((layer, i): LayerInfo => {
    const params = layer.params.map((p) => {
      const t = snapshot.tensors.get(`param/${layer.name}/${p.name}`)!;
      return { name: p.name, shape: [...t.shape], dtype: t.dtype, count: t.data.length };
    });
    return {
      name: layer.name,
      type: config.model.layers[i]!.type,
      outputShape: [...layer.outputShape],
      params,
      paramCount: params.reduce((s, p) => s + p.count, 0),
    };
  });
  const { slots, slotEntries } = optimizerSlots(snapshot);
  const schedule = createSchedule(config.schedule, config.optimizer.lr);
  schedule.fromState(state.schedule);
  return {
    snapshot: file,
    formatVersion: snapshot.version,
    name: config.name,
    dtype: config.training.dtype,
    inputShape: [...config.model.input],
    classes: classNamesOf(config, snapshot.classes)?.slice() ?? null,
    layers,
    totalParams: layers.reduce((s, l) => s + l.paramCount, 0),
    optimizer: { type: config.optimizer.type, slots, slotEntries, state: state.optimizer },
    training: {
      epoch: state.epoch,
      batch: state.batch,
      step: state.step,
      lr: schedule.lr,
      lrScale: state.schedule.scale,
      bestValAccuracy: state.best_val_accuracy,
      rollbacks: state.rollbacks,
      trainSeconds: state.train_seconds,
      backend: state.backend ?? null,
      threads: state.threads ?? null,
      dltVersion: state.dlt_version ?? null,
    },
  };
}

/** Slot names of the `optim/<layer>/<name>/<slot>` tensors, and their entries in all. */
function optimizerSlots(snapshot: Snapshot): { slots: string[]; slotEntries: number } {
  const slots = new Set<string>();
  let slotEntries = 0;
  for (const [name, t] of snapshot.tensors) {
    const parts = name.split('/');
    if (parts[0] !== 'optim' || parts.length !== 4) continue;
    slots.add(parts[3]!);
    slotEntries += t.data.length;
  }
  return { slots: [...slots], slotEntries };
}

/** The `--json` object: the same facts with snake_case keys. */
export function inspectJson(r: Inspection): object {
  const t = r.training;
  return {
    snapshot: r.snapshot,
    format_version: r.formatVersion,
    name: r.name,
    dtype: r.dtype,
    input_shape: r.inputShape,
    classes: r.classes,
    layers: r.layers.map((l) => ({
      name: l.name,
      type: l.type,
      output_shape: l.outputShape,
      params: l.params,
      param_count: l.paramCount,
    })),
    total_params: r.totalParams,
    optimizer: { type: r.optimizer.type, slots: r.optimizer.slots, slot_entries: r.optimizer.slotEntries, state: r.optimizer.state },
    training: {
      epoch: t.epoch,
      batch: t.batch,
      step: t.step,
      lr: t.lr,
      lr_scale: t.lrScale,
      best_val_accuracy: t.bestValAccuracy,
      rollbacks: t.rollbacks,
      train_seconds: t.trainSeconds,
      backend: t.backend,
      threads: t.threads,
      dlt_version: t.dltVersion,
    },
  };
}

/** A readable report: the snapshot, a table of layers, the optimiser, and the training state. */
export function inspectTable(r: Inspection): string {
  const t = r.training;
  const shape = (s: readonly number[]) => `[${s.join(', ')}]`;
  const count = (n: number) => n.toLocaleString('en-US');
  const rows = [
    ['layer', 'type', 'output shape', 'parameters', 'count'],
    ...r.layers.map((l) => [
      l.name,
      l.type,
      shape(l.outputShape),
      l.params.map((p) => `${p.name} ${shape(p.shape)}`).join(', '),
      count(l.paramCount),
    ]),
    ['total', '', '', '', count(r.totalParams)],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const table = rows.map((row) =>
    row
      .map((cell, c) => (c === row.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  const optimizerState = Object.entries(r.optimizer.state).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  const position = t.batch === null ? '' : t.batch > 0 ? `, ${t.batch} batches into epoch ${t.epoch + 1}` : ', at an epoch boundary';
  const lines = [
    `snapshot   ${r.snapshot} (format version ${r.formatVersion}${t.dltVersion ? `, written by dlt ${t.dltVersion}` : ''})`,
    `config     ${r.name}: input ${shape(r.inputShape)}, ${r.dtype}`,
    ...(r.classes ? [`classes    ${r.classes.map((c, k) => `${k} ${c}`).join(', ')}`] : []),
    '',
    ...table,
    '',
    `optimizer  ${r.optimizer.type}; slots: ${r.optimizer.slots.length ? `${r.optimizer.slots.join(', ')} (${count(r.optimizer.slotEntries)} entries)` : 'none'}` +
      (optimizerState.length ? `; ${optimizerState.join(', ')}` : ''),
    `epoch      ${t.epoch} done${position}`,
    `step       ${t.step}`,
    `lr         ${t.lr === null ? '-' : formatLr(t.lr)}${t.lrScale !== null && t.lrScale !== 1 ? ` (schedule × ${formatLr(t.lrScale)} after rollbacks)` : ''}`,
    `best val   ${t.bestValAccuracy === null ? '-' : `accuracy ${t.bestValAccuracy.toFixed(4)}`}`,
    `rollbacks  ${t.rollbacks ?? '-'}`,
    `trained    ${t.trainSeconds === null ? '-' : `${t.trainSeconds.toFixed(t.trainSeconds < 10 ? 2 : 1)} s`}${t.backend ? ` on the ${t.backend} backend${t.threads ? ` (${t.threads} thread${t.threads === 1 ? '' : 's'})` : ''}` : ''}`,
  ];
  return lines.join('\n');
}
