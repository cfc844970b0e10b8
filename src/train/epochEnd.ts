import { formatLr } from '../util/format.js';
import { evaluate } from './evaluate.js';
import type { EpochRecord } from './metrics.js';
import type { Trainer } from './trainer.js';

/**
 * The end of epoch `epoch`: validate (every `eval_every` epochs and after the last),
 * record the epoch, let the schedule set the next epoch's learning rate, let early
 * stopping judge the epoch, and let the checkpointer write what the cadence, the best
 * accuracy and early stopping call for.
 */
export function endEpoch(t: Trainer, epoch: number, seconds: number, samplesPerSecond: number): EpochRecord {
  const { parts, progress, log, reporter } = t;
  const { training } = parts.config;
  const { val } = parts.splits;
  const validation =
    val && (epoch % training.eval_every === 0 || epoch === training.epochs)
      ? evaluate(parts.network, parts.loss, parts.preprocessor, val, training.batch_size)
      : undefined;
  const record: EpochRecord = {
    kind: 'epoch',
    epoch,
    step: progress.step,
    train_loss_avg: t.rolling.mean(),
    val_loss: validation ? validation.loss : null,
    val_accuracy: validation ? validation.accuracy : null,
    lr: parts.schedule.lr,
    ...(parts.regularizer.active ? { penalty: parts.regularizer.penalty() } : {}),
    samples_per_s: Math.round(samplesPerSecond),
    seconds: Number(seconds.toFixed(3)),
  };
  log.append(record);
  reporter.epochEnd(record, training.epochs);
  const change = parts.schedule.epochEnd(epoch, record);
  if (change) {
    log.append({ kind: 'lr_drop', epoch, ...change });
    reporter.info(`lr ${formatLr(change.from)} → ${formatLr(change.to)} (${change.reason})`);
  }
  progress.epoch = epoch;
  progress.batch = 0;
  const stopping = t.earlyStopping?.epochEnd(epoch, record) ?? { improved: false, stop: false };
  if (stopping.stop) recordEarlyStop(t, epoch);
  t.checkpointer.epochEnd(epoch, validation ? validation.accuracy : null, log.position, stopping);
  return record;
}

/** Say in the log and on the terminal that training stops here, and why. */
function recordEarlyStop(t: Trainer, epoch: number): void {
  const stopping = t.earlyStopping;
  if (!stopping || stopping.best === null) return;
  const { monitor, patience } = stopping.spec;
  t.log.append({ kind: 'early_stop', epoch, best_epoch: stopping.bestEpoch, monitor, best: stopping.best });
  t.reporter.info(
    `early stop after epoch ${epoch}: ${monitor} has not improved on ${stopping.best} (epoch ${stopping.bestEpoch}) for ${patience} evaluated epoch${patience === 1 ? '' : 's'}`,
  );
}
