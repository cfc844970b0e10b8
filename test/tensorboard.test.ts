/**
 * training.tensorboard: the event file's framing (CRC-32C, TFRecord), and the file as
 * TensorBoard itself reads it (Python tensorboard's EventAccumulator), for a run stopped
 * and resumed: every scalar of metrics.jsonl, once each.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from '../src/tensorboard/crc32c.js';
import { frameRecord, recordEnds } from '../src/tensorboard/tfRecord.js';
import { dlt, tempDir } from './support/cli.js';
import { pythonWith } from './support/pythonEnv.js';
import { expectExit } from './support/resumeSupport.js';

const tmp = tempDir('dlt-tensorboard-');
afterAll(() => tmp.cleanup());

describe('TFRecord framing', () => {
  it('CRC-32C is the Castagnoli checksum, masked as TensorFlow masks it', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the standard check value
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720's 32 zero bytes
    const c = crc32c(Buffer.from('abc'));
    expect(maskedCrc32c(Buffer.from('abc'))).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
  });

  it('frames records that read back, and stops at a record cut short or damaged', () => {
    const a = frameRecord(Buffer.from('first'));
    const b = frameRecord(Buffer.from('second record'));
    expect(a.length).toBe(12 + 5 + 4);
    const both = Buffer.concat([a, b]);
    expect(recordEnds(both)).toEqual([a.length, a.length + b.length]);
    expect(recordEnds(both.subarray(0, both.length - 1))).toEqual([a.length]);
    const damaged = Buffer.from(both);
    damaged.writeUInt8(damaged.readUInt8(a.length + 14) ^ 1, a.length + 14);
    expect(recordEnds(damaged)).toEqual([a.length]);
  });
});

const CONFIG = `name: tb
seed: 2
data:
  train: {format: spiral, classes: 3, points_per_class: 40, noise: 0.2}
  validation: {fraction: 0.25}
model:
  input: [2]
  layers: [{type: dense, units: 16}, relu, {type: dense, units: 3, init: xavier}]
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
schedule: {type: step, every: 2, factor: 0.5}
training: {epochs: 6, batch_size: 10, log_every: 3}
`;

/** What TensorBoard should show, from metrics.jsonl: tag → [step, value] in order. */
function expectedScalars(runDir: string): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  const add = (tag: string, step: number, value: number) => {
    out[tag] ??= [];
    out[tag].push([step, value]);
  };
  for (const line of readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')) {
    const r = JSON.parse(line) as Record<string, number | string | null>;
    const step = r.step as number;
    if (r.kind === 'step') {
      add('train/loss', step, r.loss as number);
      add('train/loss_avg', step, r.loss_avg as number);
      add('lr', step, r.lr as number);
    } else if (r.kind === 'epoch') {
      add('samples_per_s', step, r.samples_per_s as number);
      if (r.val_loss !== null) add('val/loss', step, r.val_loss as number);
      if (r.val_accuracy !== null) add('val/accuracy', step, r.val_accuracy as number);
    }
  }
  return out;
}

/** The complete records of a run's event file. */
function eventCount(runDir: string): number {
  const file = readdirSync(runDir).find((f) => f.startsWith('events.out.tfevents.'))!;
  return recordEnds(readFileSync(path.join(runDir, file))).length;
}

function metricsRecords(runDir: string): number {
  return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
}

describe('the event file follows metrics.jsonl', () => {
  it('holds the file version and one event per record, after a stop, a torn write and a resume', () => {
    const file = tmp.write('torn.yaml', CONFIG.replace('name: tb', 'name: torn'));
    const stopped = dlt(['train', file, '--out', tmp.dir, '--backend', 'js', '--set', 'training.tensorboard=true'], tmp.dir, {
      DLT_INTERRUPT_AT_STEP: '25',
    });
    expectExit(stopped, 130);
    const runDir = stopped.stdout.split('\n')[0]!;
    expect(eventCount(runDir)).toBe(1 + metricsRecords(runDir));
    // A crash in the middle of writing an event leaves part of a record behind.
    const events = readdirSync(runDir).find((f) => f.startsWith('events.out.tfevents.'))!;
    appendFileSync(path.join(runDir, events), frameRecord(Buffer.from('an event cut short')).subarray(0, 9));
    expectExit(dlt(['resume', runDir, '--backend', 'js'], tmp.dir), 0);
    expect(readdirSync(runDir).filter((f) => f.startsWith('events.out.tfevents.'))).toEqual([events]);
    expect(eventCount(runDir)).toBe(1 + metricsRecords(runDir));
    const bytes = readFileSync(path.join(runDir, events));
    expect(recordEnds(bytes).at(-1), 'nothing after the last whole record').toBe(bytes.length);
  });

  it('is created on resume for a run that had none (--set training.tensorboard=true), with every record so far', () => {
    const file = tmp.write('late.yaml', CONFIG.replace('name: tb', 'name: late'));
    const stopped = dlt(['train', file, '--out', tmp.dir, '--backend', 'js'], tmp.dir, { DLT_INTERRUPT_AT_STEP: '25' });
    expectExit(stopped, 130);
    const runDir = stopped.stdout.split('\n')[0]!;
    expect(readdirSync(runDir).some((f) => f.startsWith('events.out.tfevents.'))).toBe(false);
    expectExit(dlt(['resume', runDir, '--backend', 'js', '--set', 'training.tensorboard=true'], tmp.dir), 0);
    expect(eventCount(runDir)).toBe(1 + metricsRecords(runDir));
  });
});

const READ_EVENTS = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0, 'tensors': 0})
acc.Reload()
tags = acc.Tags()
print(json.dumps({
  'scalars': {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags['scalars']},
  'texts': {t: [[e.step, e.tensor_proto.string_val[0].decode()] for e in acc.Tensors(t)] for t in tags['tensors']},
}))
`;

describe('TensorBoard reads the event file', () => {
  const env = pythonWith({ tensorboard: 'tensorboard' });
  const skip = 'missing' in env ? env.missing : undefined;
  if (skip) console.warn(`test/tensorboard.test.ts: the EventAccumulator check is skipped: ${skip}`);

  it.skipIf(skip !== undefined)(
    `every scalar of a run stopped mid-epoch and resumed, once each, equal to metrics.jsonl${skip ? ` — skipped: ${skip}` : ''}`,
    () => {
      const file = tmp.write('tb.yaml', CONFIG);
      const stopped = dlt(['train', file, '--out', tmp.dir, '--backend', 'js', '--tensorboard'], tmp.dir, { DLT_INTERRUPT_AT_STEP: '40' });
      expectExit(stopped, 130);
      const runDir = stopped.stdout.split('\n')[0]!;
      expectExit(dlt(['resume', runDir, '--backend', 'js'], tmp.dir), 0);
      const events = readdirSync(runDir).filter((f) => f.startsWith('events.out.tfevents.'));
      expect(events, 'one event file').toHaveLength(1);

      const r = spawnSync((env as { python: string }).python, ['-c', READ_EVENTS, runDir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const read = JSON.parse(r.stdout) as { scalars: Record<string, [number, number][]>; texts: Record<string, [number, string][]> };
      const want = expectedScalars(runDir);
      expect(Object.keys(read.scalars).sort()).toEqual(Object.keys(want).sort());
      for (const [tag, points] of Object.entries(want)) {
        // simple_value is a float32: each value read back is the record's, rounded once.
        expect(read.scalars[tag], tag).toEqual(points.map(([step, value]) => [step, Math.fround(value)]));
      }
      // The step schedule halves the rate every 2 epochs: each lr_drop record is a line of text.
      const drops = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; epoch: number; from: number; to: number })
        .filter((r) => r.kind === 'lr_drop');
      expect(drops).toHaveLength(3);
      expect(read.texts.lr_drop?.map(([, text]) => text)).toEqual(
        drops.map((d) => expect.stringContaining(`epoch ${d.epoch}: lr ${d.from} → ${d.to}`)),
      );
    },
  );
});
