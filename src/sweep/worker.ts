import { type Job, WaitingError, Worker } from 'bullmq';
import { Interrupted, type RunError } from '../errors.js';
import { connectQueue, QUEUE_NAME, redactedUrl } from './queueConnection.js';
import { type TrialJob, trialJobSchema } from './runTrial.js';
import { startTrialChild, type TrialChild } from './trialChild.js';
import type { TrialOutcome } from './trialOutcome.js';
import { trialName } from './trials.js';

export interface WorkerOptions {
  queue: string;
  /** Trials at once. */
  parallel: number;
  /** The folder trials' run directories are written under (shared storage across machines). */
  outDir: string;
  backend?: 'auto' | 'js' | 'native';
  threads?: number;
  /** How long a trial stays with a worker that stopped answering before another takes it. */
  stalledAfterMs: number;
  log: (line: string) => void;
  onStopRequest: (stop: () => void) => void;
}

/**
 * `dlt worker`: take trials from the queue until stopped. Each trial runs in a child
 * process of its own (src/sweep/trialProcess.ts, as the local engine runs them), so this
 * process stays free to keep BullMQ's lock on its jobs while trials compute.
 *
 * - A worker killed outright loses its lock; BullMQ's stalled-job check gives the job to
 *   another worker, which resumes the trial from its newest snapshot (runTrial). The
 *   killed worker's trial process sees its parent go and snapshots first.
 * - SIGINT or SIGTERM: the running trials snapshot, their jobs go back to the queue, and
 *   the worker exits 130.
 * - A Redis server that goes away for good ends the worker with exit 1.
 */
export async function runWorker(options: WorkerOptions): Promise<never> {
  let fail: (error: RunError) => void = () => {};
  const lost = new Promise<RunError>((resolve) => {
    fail = resolve;
  });
  let closing = false;
  const connection = await connectQueue(options.queue, (error) => {
    if (!closing) fail(error);
  });
  const running = new Set<TrialChild>();
  const worker = new Worker(QUEUE_NAME, (job, token) => processTrial(job, token, options, running), {
    connection,
    concurrency: options.parallel,
    lockDuration: options.stalledAfterMs,
    stalledInterval: options.stalledAfterMs,
    // A trial may be handed on several times (workers killed one after another); it is resumed each time.
    maxStalledCount: 10,
  });
  worker.on('error', () => {}); // connection errors: reported through `lost`
  options.log(`dlt worker: taking trials from ${redactedUrl(options.queue)} (${options.parallel} at once), run directories under ${options.outDir}`);

  const stopRequested = new Promise<void>((resolve) => options.onStopRequest(resolve));
  const why = await Promise.race([stopRequested.then(() => 'stop' as const), lost]);
  closing = true;
  if (why === 'stop') {
    options.log(`stopping: ${running.size} running trial(s) write a snapshot and go back to the queue`);
    for (const child of running) child.stop();
    await worker.close();
    await connection.quit();
    throw new Interrupted('dlt worker stopped; its trials went back to the queue');
  }
  for (const child of running) child.stop();
  await worker.close(true).catch(() => {});
  connection.disconnect();
  throw why;
}

/** One job: run its trial in a child process; return the outcome, or hand the job back when stopped. */
async function processTrial(job: Job, token: string | undefined, options: WorkerOptions, running: Set<TrialChild>): Promise<TrialOutcome> {
  const trial: TrialJob = trialJobSchema.parse(job.data);
  options.log(`${trialName(trial.id)} of ${trial.sweep}: started`);
  const child = startTrialChild(trial, {
    outDir: options.outDir,
    backend: options.backend,
    threads: options.threads,
    onEpoch: (message) => {
      void job.updateProgress(message).catch(() => {});
    },
  });
  running.add(child);
  const end = await child.ended;
  running.delete(child);
  if (end.kind === 'outcome') {
    options.log(`${trialName(trial.id)} of ${trial.sweep}: ${end.outcome.status}`);
    return end.outcome;
  }
  if (end.kind === 'interrupted') {
    // Back to the queue for another worker, which resumes the trial from its snapshot.
    await job.moveToWait(token);
    throw new WaitingError();
  }
  throw new Error(end.error);
}
