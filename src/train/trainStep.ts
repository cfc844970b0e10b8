import { allocate, type FloatArray } from '../tensor/types.js';
import type { RunParts } from './runParts.js';

/** How far from its expected value the first batch's loss may be before we warn: a factor of 2 either way. */
const FIRST_LOSS_TOLERANCE = 2;

/** The buffers one batch is assembled into, allocated once: x is [batch_size × input], y the labels. */
export interface BatchBuffers {
  x: FloatArray;
  y: Int32Array;
}

export function batchBuffers(parts: RunParts): BatchBuffers {
  const { batch_size, dtype } = parts.config.training;
  return { x: allocate(dtype, batch_size * parts.network.inputSize), y: new Int32Array(batch_size) };
}

/**
 * One optimiser step on the n training samples order[start .. start+n): assemble the
 * batch, forward, loss, backward, regularisation, update at learning rate `lr`. Returns
 * the batch's mean loss; when it is not finite, nothing has been updated.
 */
export function trainStep(parts: RunParts, batch: BatchBuffers, order: Uint32Array, start: number, n: number, lr: number): number {
  const { network, loss, preprocessor, regularizer, optimizer } = parts;
  preprocessor.fill(parts.splits.train, order, start, n, batch.x, batch.y);
  parts.augmenter?.apply(batch.x, n);
  network.zeroGrads();
  const value = loss.forward(network.forward(batch.x, n, true), batch.y, n);
  if (!Number.isFinite(value)) return value;
  network.backward(loss.backward(), n);
  if (regularizer.active) regularizer.addGradients();
  optimizer.step(lr);
  return value;
}

/**
 * Tutorial: "do a sanity check for loss values". With small random weights the scores
 * are near zero and the loss is near the value the loss expects (log C for softmax
 * cross-entropy). Far from it, the initialisation or the input scaling is probably off.
 */
export function firstLossWarning(parts: RunParts, value: number): string | undefined {
  const expected = parts.loss.initialLoss?.();
  if (expected === undefined || parts.network.outputSize < 2) return undefined;
  if (value <= expected * FIRST_LOSS_TOLERANCE && value >= expected / FIRST_LOSS_TOLERANCE) return undefined;
  return (
    `the first batch's loss is ${value.toFixed(3)}, far from log(${parts.network.outputSize}) = ${expected.toFixed(3)} that small random weights give; ` +
    'check the input scaling (data.preprocess) and the initialisation of the last layer'
  );
}
