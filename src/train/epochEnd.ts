import { formatLr } from '../util/format.js';
import { evaluate } from './evaluate.js';
import type { EpochRecord } from './metrics.js';
import type { Trainer } from './trainer.js';

/**
 * The end of epoch `epoch`: validate (every `eval_every` epochs and after the last),
 * record the epoch, let the schedule set the next epoch's learning rate, and let the
 * checkpointer write what the cadence and the best accuracy call for.
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
  t.checkpointer.epochEnd(epoch, validation ? validation.accuracy : null, log.position);
  return record;
}
