import { Interrupted } from '../errors.js';
import { endEpoch } from './epochEnd.js';
import type { EpochRecord } from './metrics.js';
import type { Trainer } from './trainer.js';
import { firstLossWarning, trainStep } from './trainStep.js';

/** Milliseconds of uninterrupted computing before the loop lets timers and signals run. */
const YIELD_EVERY_MS = 100;

/**
 * Train until `training.epochs` epochs are complete, from wherever the trainer stands
 * (a resumed run may start inside an epoch). Returns the last epoch record written, or
 * undefined when there was no epoch left to train.
 */
export async function runEpochs(t: Trainer): Promise<EpochRecord | undefined> {
  const { epochs } = t.parts.config.training;
  const pause = pacer(YIELD_EVERY_MS); // across epochs: epochs shorter than that must still let signals in
  let last: EpochRecord | undefined;
  while (t.progress.epoch < epochs && !t.stoppedEarly) {
    const epoch = t.progress.epoch + 1;
    t.order.begin();
    t.reporter.epochStart(epoch, epochs, t.stepsPerEpoch);
    const clock = new EpochClock(t);
    const diverged = await trainBatches(t, epoch, clock, pause);
    if (diverged !== undefined) {
      t.onNan(diverged, t);
      continue;
    }
    const seconds = clock.seconds();
    t.progress.trainSeconds += seconds;
    last = endEpoch(t, epoch, seconds, clock.epochSamplesPerSecond(seconds));
  }
  return last;
}

/** The rest of epoch `epoch`'s batches; returns the loss that was not finite, if one was. */
async function trainBatches(t: Trainer, epoch: number, clock: EpochClock, pause: () => Promise<void>): Promise<number | undefined> {
  const { progress, parts, log } = t;
  const { batch_size, log_every } = parts.config.training;
  const count = t.order.indices.length;
  while (progress.batch < t.stepsPerEpoch) {
    const start = progress.batch * batch_size;
    const n = Math.min(batch_size, count - start); // the last batch may be partial
    const value = trainStep(parts, t.batch, t.order.indices, start, n, parts.schedule.lr);
    if (!Number.isFinite(value)) return value;
    const warning = progress.step === 0 ? firstLossWarning(parts, value) : undefined;
    if (warning) t.reporter.warn(warning);
    const average = t.rolling.push(value);
    progress.step++;
    progress.batch++;
    const lr = parts.schedule.lr;
    if (progress.step % log_every === 0) log.append({ kind: 'step', epoch, step: progress.step, loss: value, loss_avg: average, lr });
    t.reporter.progress(progress.batch, average, lr, clock.samplesPerSecond(start + n), progress.step);
    await pause();
    if (t.stop.requested) interrupt(t, clock);
  }
  return undefined;
}

/** A signal arrived: the batch is done; write latest, then stop with exit 130. */
function interrupt(t: Trainer, clock: EpochClock): never {
  t.progress.trainSeconds += clock.seconds();
  t.checkpointer.interrupt();
  const { epoch, batch, step } = t.progress;
  throw new Interrupted(
    `interrupted after step ${step} (epoch ${epoch + 1}, batch ${batch}); snapshot written to ${t.dir.latestFile}\nresume with: dlt resume ${t.dir.root}`,
  );
}

/** A function that, once `everyMs` of computing have passed since it last did, lets the event loop run. */
function pacer(everyMs: number): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last <= everyMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

/** Wall-clock time of the part of an epoch this process trains (a resumed run starts inside one). */
class EpochClock {
  private readonly started = performance.now();
  /** Samples before the batch this process started at. */
  private readonly skipped: number;
  private readonly samples: number;

  constructor(t: Trainer) {
    this.skipped = t.progress.batch * t.parts.config.training.batch_size;
    // None when it resumed after the epoch's last batch (skipped may exceed the count, the last batch being partial).
    this.samples = Math.max(0, t.order.indices.length - this.skipped);
  }

  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** Samples per second so far, `done` being the samples of the epoch done (skipped ones included). */
  samplesPerSecond(done: number): number {
    return ((done - this.skipped) / (performance.now() - this.started)) * 1000;
  }

  /** Samples per second over what this process trained of the epoch, in `seconds`. */
  epochSamplesPerSecond(seconds: number): number {
    return seconds > 0 ? this.samples / seconds : 0;
  }
}
