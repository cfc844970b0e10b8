import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { EpochRecord } from '../train/metrics.js';
import type { Reporter } from '../train/reporter.js';
import { formatLr } from '../util/format.js';

function epochLine(r: EpochRecord, epochs: number): string {
  const parts = [`epoch ${r.epoch}/${epochs}`, `loss_avg ${r.train_loss_avg.toFixed(4)}`];
  if (r.val_loss !== null) parts.push(`val_loss ${r.val_loss.toFixed(4)}`);
  if (r.val_accuracy !== null) parts.push(`val_acc ${r.val_accuracy.toFixed(4)}`);
  parts.push(`lr ${formatLr(r.lr)}`, `${r.samples_per_s} samples/s`, `${r.seconds.toFixed(1)}s`);
  return parts.join('  ');
}

/** One plain line per event: for pipes, CI and log files. */
export class PlainReporter implements Reporter {
  runDir(dir: string): void {
    process.stdout.write(`${dir}\n`);
  }
  info(message: string): void {
    process.stdout.write(`${message}\n`);
  }
  warn(message: string): void {
    process.stderr.write(`${chalk.yellow('warning:')} ${message}\n`);
  }
  // Plain logs say nothing until the epoch is over.
  epochStart(_epoch: number, _epochs: number, _steps: number): void {}
  progress(_stepInEpoch: number, _lossAvg: number, _lr: number, _samplesPerSecond: number): void {}
  epochEnd(record: EpochRecord, epochs: number): void {
    process.stdout.write(`${epochLine(record, epochs)}\n`);
  }
}

/** A live progress bar per epoch on a terminal, with the rolling loss, lr, speed and ETA. */
export class TtyReporter extends PlainReporter {
  private bar: cliProgress.SingleBar | undefined;

  override epochStart(epoch: number, epochs: number, steps: number): void {
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch}/${epochs} ${chalk.cyan('{bar}')} {value}/{total} | loss {loss} | lr {lr} | {speed} samples/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(steps, 0, { loss: '-', lr: '-', speed: '-' });
  }

  override progress(stepInEpoch: number, lossAvg: number, lr: number, samplesPerSecond: number): void {
    this.bar?.update(stepInEpoch, { loss: lossAvg.toFixed(4), lr: formatLr(lr), speed: Math.round(samplesPerSecond) });
  }

  override epochEnd(record: EpochRecord, epochs: number): void {
    this.bar?.stop();
    this.bar = undefined;
    super.epochEnd(record, epochs);
  }

  override warn(message: string): void {
    // Print above the bar rather than through it.
    if (this.bar) process.stderr.write('\n');
    super.warn(message);
  }
}
