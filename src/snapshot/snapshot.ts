import { type Config, configSchema } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Network } from '../model/network.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { FloatArray } from '../tensor/types.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor, readSafetensors, type SafetensorsFile } from './safetensors.js';

/**
 * dlt snapshots (SPEC §5): one safetensors file holding `param/<layer>/<name>` and
 * `optim/<layer>/<name>/<slot>` tensors, with `__metadata__` = { format, version,
 * config (resolved, JSON), state (JSON), sha256 (added by the safetensors writer) },
 * plus `classes` (JSON list of class names, class k = classes[k]) when the training
 * labels were names that dlt mapped to class indices (CSV); eval maps labels with it.
 */
export const SNAPSHOT_FORMAT = 'dlt-snapshot';
export const SNAPSHOT_VERSION = 1;

/** Where training stood when the snapshot was taken. */
export interface SnapshotState {
  /** Epochs completed. */
  epoch: number;
  /** Optimiser steps taken. */
  step: number;
  [key: string]: unknown;
}

export interface Snapshot {
  file: string;
  config: Config;
  state: SnapshotState;
  tensors: Map<string, NamedTensor>;
  /** Class names the labels were mapped with, when they were names (see metadata `classes`). */
  classes?: string[];
}

/** The snapshot file's bytes; write them with writeFileAtomic. */
export function encodeSnapshot(
  config: Config,
  network: Network,
  optimizer: Optimizer | undefined,
  state: SnapshotState,
  classes?: readonly string[],
): Uint8Array {
  const tensors: NamedTensor[] = [];
  for (const { key, param } of network.namedParams()) tensors.push(tensor(`param/${key}`, [...param.shape], param.value));
  if (optimizer) {
    const shapes = new Map(network.namedParams().map(({ key, param }) => [key, param.shape]));
    for (const [slot, buffers] of optimizer.slots()) {
      for (const [key, data] of buffers) tensors.push(tensor(`optim/${key}/${slot}`, [...shapes.get(key)!], data));
    }
  }
  return encodeSafetensors(tensors, {
    format: SNAPSHOT_FORMAT,
    version: String(SNAPSHOT_VERSION),
    config: JSON.stringify(config),
    state: JSON.stringify({ ...state, optimizer: optimizer?.toState() }),
    ...(classes ? { classes: JSON.stringify(classes) } : {}),
  });
}

/** Read and verify a snapshot; every problem is an InputError naming the file. */
export function readSnapshot(file: string): Snapshot {
  return checkSnapshot(readSafetensors(file), file);
}

/** Verify snapshot bytes held in memory (on_nan: rollback keeps the last good one). */
export function decodeSnapshot(bytes: Uint8Array, file: string): Snapshot {
  return checkSnapshot(decodeSafetensors(bytes, file), file);
}

function checkSnapshot({ tensors, metadata }: SafetensorsFile, file: string): Snapshot {
  const format = metadata.get('format');
  if (format !== SNAPSHOT_FORMAT) {
    throw new InputError(
      `not a dlt snapshot (format tag ${format === undefined ? 'missing' : JSON.stringify(format)}, expected "${SNAPSHOT_FORMAT}"); give a file from a run's snapshots/ folder`,
      file,
    );
  }
  const version = Number(metadata.get('version'));
  if (version !== SNAPSHOT_VERSION) {
    throw new InputError(
      `snapshot version ${metadata.get('version')} is not supported (this dlt reads version ${SNAPSHOT_VERSION}); use a matching dlt`,
      file,
    );
  }
  const config = configSchema.safeParse(parseJson(metadata.get('config'), 'config', file));
  if (!config.success) {
    throw new InputError(
      `the config stored in the snapshot is not valid for this dlt (${config.error.issues[0]?.message}); the file is damaged or from another version`,
      file,
    );
  }
  const state = parseJson(metadata.get('state'), 'state', file) as SnapshotState;
  if (!Number.isInteger(state?.epoch) || !Number.isInteger(state?.step)) {
    throw new InputError('the training state stored in the snapshot lacks epoch/step; the file is damaged', file);
  }
  const snapshot: Snapshot = { file, config: config.data, state, tensors };
  if (metadata.has('classes')) {
    const classes = parseJson(metadata.get('classes'), 'classes', file);
    if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
      throw new InputError('the snapshot\'s "classes" metadata is not a list of class names; the file is damaged', file);
    }
    snapshot.classes = classes as string[];
  }
  return snapshot;
}

/** Copy the snapshot's parameters into `network`, checking that every one is present with the right shape and dtype. */
export function loadParams(network: Network, snapshot: Snapshot): void {
  for (const { key, param } of network.namedParams()) {
    const name = `param/${key}`;
    const t = snapshot.tensors.get(name);
    const want = `${dtypeName(param.value)} [${param.shape.join(', ')}]`;
    if (!t) throw new InputError(`the snapshot has no tensor ${name}; it belongs to another architecture`, snapshot.file);
    const got = `${t.dtype} [${t.shape.join(', ')}]`;
    if (got !== want)
      throw new InputError(`tensor ${name} is ${got} but the model needs ${want}; the snapshot belongs to another architecture`, snapshot.file);
    param.value.set(t.data as FloatArray);
  }
}

function tensor(name: string, shape: number[], data: FloatArray): NamedTensor {
  return { name, shape, dtype: dtypeName(data), data };
}

function dtypeName(data: FloatArray): 'F32' | 'F64' {
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
