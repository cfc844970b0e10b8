import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseMetricsText } from '../report/metricsFile.js';
import type { MetricsRecord } from '../train/metrics.js';
import { withIo } from '../util/ioError.js';
import { writeAll } from '../util/writeAll.js';
import { fileVersionEvent, scalarEvent, textEvent } from './eventProto.js';
import { frameRecord, recordEnds } from './tfRecord.js';

/** TensorBoard finds event files by this prefix (`tensorboard --logdir runs/`). */
const PREFIX = 'events.out.tfevents.';

/**
 * A run's TensorBoard event file (`training.tensorboard: true`), a view of metrics.jsonl:
 * the file's version first, then exactly one event per metrics record, in order
 * (eventOf). Since the events are a function of the records, a resumed run — whose
 * metrics.jsonl was cut back to its snapshot — keeps the events of the records it kept,
 * byte for byte with their wall times, drops the rest, and writes what is missing: no
 * scalar appears twice.
 */
export class TensorBoardLog {
  private constructor(
    readonly file: string,
    private readonly fd: number,
    /** The step of the last step or epoch record: where text events (lr drops) are placed. */
    private lastStep: number,
  ) {}

  /**
   * The run's event file after `logText` (metrics.jsonl as kept): its own file when it has
   * one (`events.out.tfevents.<seconds>.<host>`), else a new one.
   */
  static rebuild(runDir: string, logText: string): TensorBoardLog {
    const records = parseMetricsText(logText, path.join(runDir, 'metrics.jsonl')).records;
    const existing = withIo('list', runDir, () => readdirSync(runDir)).find((name) => name.startsWith(PREFIX));
    const file = path.join(runDir, existing ?? `${PREFIX}${Math.floor(Date.now() / 1000)}.${hostname()}`);
    const fd = withIo(existing ? 'open' : 'create', file, () => openSync(file, 'a'));
    try {
      // Keep the file's version and the events of the kept records that are intact.
      const bytes = existing ? withIo('read', file, () => readFileSync(file)) : new Uint8Array();
      const ends = recordEnds(bytes);
      const kept = Math.min(ends.length, 1 + records.length);
      withIo('write', file, () => ftruncateSync(fd, kept === 0 ? 0 : ends[kept - 1]!));
      const log = new TensorBoardLog(file, fd, 0);
      if (kept === 0) log.write(fileVersionEvent(Date.now() / 1000));
      records.forEach((record, i) => {
        const event = log.eventOf(record);
        if (1 + i >= kept) log.write(event);
      });
      return log;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The event of the record just appended to metrics.jsonl. */
  append(record: MetricsRecord): void {
    this.write(this.eventOf(record));
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(event: Uint8Array): void {
    writeAll(this.fd, frameRecord(event), this.file);
  }

  /**
   * The one event a record becomes. Steps: `train/loss`, `train/loss_avg`, `lr`; epochs (at
   * their last step): `val/loss`, `val/accuracy` when evaluated, `samples_per_s`; learning
   * rate drops, NaNs and early stopping: a line of text at the last step.
   */
  private eventOf(record: MetricsRecord): Uint8Array {
    const now = Date.now() / 1000;
    switch (record.kind) {
      case 'step':
        this.lastStep = record.step;
        return scalarEvent(now, record.step, [
          { tag: 'train/loss', value: record.loss },
          { tag: 'train/loss_avg', value: record.loss_avg },
          { tag: 'lr', value: record.lr },
        ]);
      case 'epoch': {
        this.lastStep = record.step;
        const scalars = [{ tag: 'samples_per_s', value: record.samples_per_s }];
        if (record.val_loss !== null) scalars.push({ tag: 'val/loss', value: record.val_loss });
        if (record.val_accuracy !== null) scalars.push({ tag: 'val/accuracy', value: record.val_accuracy });
        return scalarEvent(now, record.step, scalars);
      }
      case 'lr_drop':
        return textEvent(now, this.lastStep, 'lr_drop', `epoch ${record.epoch}: lr ${record.from} → ${record.to} (${record.reason})`);
      case 'nan':
        return textEvent(
          now,
          record.step,
          'nan',
          `epoch ${record.epoch}, step ${record.step}: loss ${record.loss ?? 'NaN'} at lr ${record.lr}; ${record.action}`,
        );
      case 'early_stop':
        return textEvent(
          now,
          this.lastStep,
          'early_stop',
          `stopped after epoch ${record.epoch}: ${record.monitor} best ${record.best} at epoch ${record.best_epoch}`,
        );
    }
  }
}
