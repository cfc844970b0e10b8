/**
 * The entry point of a trial's child process (forked by src/sweep/trialChild.ts, for the
 * local engine and for queue workers alike). It reads one start message, runs the trial
 * through dlt train's code (runTrial), reports each epoch and then the outcome, and exits:
 * 0 after the outcome, 130 when a signal stopped the trial after its snapshot, 1 on a bug.
 *
 * When the parent dies (SIGKILL of a worker), the IPC channel closes: the trial takes
 * that as SIGTERM, finishes its batch, writes a snapshot and exits, so whoever runs the
 * trial next resumes it from there.
 */
import { trainingSignals } from '../cli/signals.js';
import { DltError, InterruptedBeforeStart } from '../errors.js';
import { selectKernels } from '../tensor/backend.js';
import type { Reporter } from '../train/reporter.js';
import { runTrial } from './runTrial.js';
import { type ChildMessage, startMessageSchema } from './trialMessages.js';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Epochs go to the parent; warnings to stderr, which the parent keeps for failures. */
const reporter: Reporter = {
  runDir: () => {},
  info: () => {},
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
  epochStart: () => {},
  progress: () => {},
  epochEnd: (record, epochs) => {
    void send({
      kind: 'epoch',
      epoch: record.epoch,
      epochs,
      val_accuracy: record.val_accuracy,
      val_loss: record.val_loss,
      train_loss_avg: record.train_loss_avg,
    });
  },
};

async function main(raw: unknown): Promise<number> {
  const start = startMessageSchema.parse(raw);
  const signals = trainingSignals((text) => process.stderr.write(text));
  try {
    const kernels = selectKernels(start.backend, start.threads);
    const outcome = await runTrial(start.job, { outDir: start.out_dir, kernels, reporter, signals });
    await send({ kind: 'outcome', outcome });
    return 0;
  } catch (err) {
    if (err instanceof DltError) {
      process.stderr.write(`${err.format()}\n`);
      return err instanceof InterruptedBeforeStart ? 130 : err.exitCode;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const parentGone = () => process.kill(process.pid, 'SIGTERM');
process.on('disconnect', parentGone);
process.once('message', (raw) => {
  main(raw).then((code) => {
    process.exitCode = code;
    process.off('disconnect', parentGone);
    if (process.connected) process.disconnect();
  });
});
