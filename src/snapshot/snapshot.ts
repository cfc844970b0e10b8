import { z } from 'zod';
import { type Config, configSchema } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Network } from '../model/network.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { FloatArray } from '../tensor/types.js';
import { CHECKSUM_KEY, dataDigest, snapshotDigest } from './checksum.js';
import { assembleSafetensors, decodeSafetensors, layoutTensors, type NamedTensor, readSafetensors, type SafetensorsFile } from './safetensors.js';
import { type TrainingState, trainingStateFromV1, trainingStateSchema } from './trainingState.js';

/**
 * dlt snapshots (SPEC §5): one safetensors file holding `param/<layer>/<name>` and
 * `optim/<layer>/<name>/<slot>` tensors, with `__metadata__` = { format, version,
 * config (resolved, JSON), state (JSON), sha256 }, plus `classes` (JSON list of class
 * names, class k = classes[k]) when the training labels were names that dlt mapped to
 * class indices (CSV); eval maps labels with it.
 *
 * Version 2 (written now): `sha256` covers the whole header (config, state, tensor
 * entries) and the tensor bytes (src/snapshot/checksum.ts). Version 1 (dlt 0.1.0 up to
 * this change) is still read: its `sha256` covers the tensor bytes only, and its state
 * is moved into today's form (trainingStateFromV1); the next snapshot the run writes is
 * version 2.
 */
export const SNAPSHOT_FORMAT = 'dlt-snapshot';
export const SNAPSHOT_VERSION = 2;

export interface Snapshot {
  file: string;
  /** The format version the file was written in (1 or 2). */
  version: number;
  config: Config;
  state: TrainingState;
  tensors: Map<string, NamedTensor>;
  /** Class names the labels were mapped with, when they were names (see metadata `classes`). */
  classes?: string[];
}

/** The snapshot file's bytes; write them with writeFileAtomic. */
export function encodeSnapshot(
  config: Config,
  network: Network,
  optimizer: Optimizer,
  state: TrainingState,
  classes?: readonly string[],
): Uint8Array {
  const tensors: NamedTensor[] = [];
  const shapes = new Map<string, readonly number[]>();
  for (const { key, param } of network.namedParams()) {
    tensors.push(tensor(`param/${key}`, [...param.shape], param.value));
    shapes.set(key, param.shape);
  }
  for (const [slot, buffers] of optimizer.slots()) {
    for (const [key, data] of buffers) tensors.push(tensor(`optim/${key}/${slot}`, [...(shapes.get(key) ?? [data.length])], data));
  }
  const metadata: Record<string, string> = {
    format: SNAPSHOT_FORMAT,
    version: String(SNAPSHOT_VERSION),
    config: JSON.stringify(config),
    state: JSON.stringify(state),
    ...(classes ? { classes: JSON.stringify(classes) } : {}),
  };
  const layout = layoutTensors(tensors);
  return assembleSafetensors(layout, { ...metadata, [CHECKSUM_KEY]: snapshotDigest(new Map(Object.entries(metadata)), layout) });
}

/** Read and verify a snapshot; every problem is an InputError naming the file. */
export function readSnapshot(file: string): Snapshot {
  return checkSnapshot(readSafetensors(file), file);
}

/** Verify snapshot bytes held in memory (on_nan: rollback keeps the last good one). */
export function decodeSnapshot(bytes: Uint8Array, file: string): Snapshot {
  return checkSnapshot(decodeSafetensors(bytes, file), file);
}

/**
 * Nothing in the file is used before the checksum has vouched for it: format tag and
 * version first (they say what the checksum covers), then the checksum, then the config
 * and the state, each parsed by its schema, and the state checked against the config.
 */
function checkSnapshot(contents: SafetensorsFile, file: string): Snapshot {
  const { tensors, metadata } = contents;
  const format = metadata.get('format');
  if (format !== SNAPSHOT_FORMAT) {
    throw new InputError(
      `not a dlt snapshot (format tag ${format === undefined ? 'missing' : JSON.stringify(format)}, expected "${SNAPSHOT_FORMAT}"); give a file from a run's snapshots/ folder`,
      file,
    );
  }
  const version = Number(metadata.get('version'));
  if (version !== 1 && version !== SNAPSHOT_VERSION) {
    throw new InputError(
      `snapshot version ${metadata.get('version')} is not supported (this dlt reads versions 1 and ${SNAPSHOT_VERSION}); use a matching dlt`,
      file,
    );
  }
  verifyChecksum(contents, version, file);
  const config = configSchema.safeParse(parseJson(metadata.get('config'), 'config', file));
  if (!config.success) {
    throw new InputError(
      `the config stored in the snapshot is not valid for this dlt (${describeIssue(config.error)}); the file is damaged or from another version`,
      file,
    );
  }
  const parsed = (version === 1 ? trainingStateFromV1 : trainingStateSchema).safeParse(parseJson(metadata.get('state'), 'state', file));
  if (!parsed.success)
    throw new InputError(`the training state stored in the snapshot is invalid (${describeIssue(parsed.error)}); the file is damaged`, file);
  const problem = stateProblem(parsed.data, config.data);
  if (problem) throw new InputError(`the training state stored in the snapshot does not fit its config: ${problem}; the file is damaged`, file);
  const snapshot: Snapshot = { file, version, config: config.data, state: parsed.data, tensors };
  if (metadata.has('classes')) {
    const classes = classNamesSchema.safeParse(parseJson(metadata.get('classes'), 'classes', file));
    if (!classes.success) throw new InputError('the snapshot\'s "classes" metadata is not a list of class names; the file is damaged', file);
    snapshot.classes = classes.data;
  }
  return snapshot;
}

/** A dlt snapshot always records its checksum: one without is refused like one that does not match. */
function verifyChecksum({ metadata, entries, data }: SafetensorsFile, version: number, file: string): void {
  const recorded = metadata.get(CHECKSUM_KEY);
  if (recorded === undefined) {
    throw new InputError(
      `the snapshot has no ${CHECKSUM_KEY} checksum, which dlt always writes, so it was altered after it was written; resume from another snapshot in snapshots/`,
      file,
    );
  }
  const actual = version === 1 ? dataDigest(data) : snapshotDigest(metadata, { entries, data });
  if (recorded.toLowerCase() !== actual) {
    const covers = version === 1 ? 'the tensor data hashes' : 'the header and tensor data hash';
    throw new InputError(
      `checksum mismatch: ${covers} to sha256 ${actual} but the header records ${recorded}, so the file is corrupt or was changed after it was written; resume from an older snapshot in snapshots/`,
      file,
    );
  }
}

/** What in a parsed state contradicts the config stored beside it, if anything. */
function stateProblem(state: TrainingState, config: Config): string | undefined {
  if (state.schedule.type !== config.schedule.type)
    return `its schedule state is for "${state.schedule.type}" but the config's schedule is "${config.schedule.type}"`;
  if (state.rolling_loss.length > config.training.loss_window) {
    return `its rolling loss holds ${state.rolling_loss.length} values but training.loss_window is ${config.training.loss_window}`;
  }
  const augments = (config.data.augment?.length ?? 0) > 0;
  if (augments && !state.augment_rng) return 'its config augments the training data (data.augment) but the state has no augment_rng';
  if (!augments && state.augment_rng) return 'it has an augment_rng but its config has no data.augment';
  if (state.epoch > config.training.epochs) return `epoch ${state.epoch} is past the ${config.training.epochs} epochs of training.epochs`;
  if (state.last_good && state.last_good.epoch > state.epoch)
    return `its rollback point, epoch ${state.last_good.epoch}, is ahead of epoch ${state.epoch}`;
  return undefined;
}

const classNamesSchema = z.array(z.string()).min(1);

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unknown problem';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** Copy the snapshot's parameters into `network`, checking that every one is present with the right shape and dtype. */
export function loadParams(network: Network, snapshot: Snapshot): void {
  checkParams(network, snapshot);
  for (const { key, param } of network.namedParams()) param.value.set(snapshot.tensors.get(`param/${key}`)?.data ?? []);
}

/** Refuse a snapshot that lacks one of the network's parameters, or holds it in another shape or dtype. */
export function checkParams(network: Network, snapshot: Snapshot): void {
  for (const { key, param } of network.namedParams()) {
    const name = `param/${key}`;
    const t = snapshot.tensors.get(name);
    const want = `${dtypeName(param.value)} [${param.shape.join(', ')}]`;
    if (!t) throw new InputError(`the snapshot has no tensor ${name}; it belongs to another architecture`, snapshot.file);
    const got = `${t.dtype} [${t.shape.join(', ')}]`;
    if (got !== want)
      throw new InputError(`tensor ${name} is ${got} but the model needs ${want}; the snapshot belongs to another architecture`, snapshot.file);
  }
}

function tensor(name: string, shape: number[], data: FloatArray): NamedTensor {
  return { name, shape, dtype: dtypeName(data), data };
}

/** The safetensors dtype a buffer is stored as. */
export function dtypeName(data: FloatArray): 'F32' | 'F64' {
  return data instanceof Float32Array ? 'F32' : 'F64';
}

function parseJson(text: string | undefined, what: string, file: string): unknown {
  if (text === undefined) throw new InputError(`the snapshot's metadata has no "${what}" entry; the file is damaged or not from dlt`, file);
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`the snapshot's "${what}" metadata is not valid JSON; the file is damaged`, file);
  }
}
