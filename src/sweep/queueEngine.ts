import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunError } from '../errors.js';
import type { EngineEvents, SweepEngine } from './engine.js';
import { connectQueue, QUEUE_NAME } from './queueConnection.js';

import type { TrialJob } from './runTrial.js';
import { childMessageSchema } from './trialMessages.js';
import { type TrialOutcome, trialOutcomeSchema } from './trialOutcome.js';
import { trialName } from './trials.js';

/**
 * The distributed engine: the coordinator puts one BullMQ job per trial on the Redis queue
 * and waits for their return values, the trials' outcomes; `dlt worker`s anywhere run them
 * (src/sweep/worker.ts). The queue, retries, stalled-job detection and locks are BullMQ's.
 *
 * A job's id is `<sweep directory>/trial-NNNN`, so a coordinator started again with --resume
 * adds nothing twice: BullMQ ignores an id it holds, and a job finished meanwhile gives its
 * return value at once. A stopped coordinator leaves its jobs to the workers.
 */
export class QueueEngine implements SweepEngine {
  private stopRequested: (() => void) | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly sweepDirName: string,
    private readonly lost: Promise<RunError>,
  ) {}

  async run(jobs: readonly TrialJob[], events: EngineEvents): Promise<void> {
    const queue = new Queue(QUEUE_NAME, { connection: this.connection });
    const queueEvents = new QueueEvents(QUEUE_NAME, { connection: this.connection.duplicate() });
    const ids = new Map(jobs.map((j) => [this.jobId(j.id), j.id]));
    const started = new Set<number>();
    const start = (id: number) => {
      if (!started.has(id)) events.started(id);
      started.add(id);
    };
    queueEvents.on('active', ({ jobId }) => {
      const id = ids.get(jobId);
      if (id !== undefined) start(id);
    });
    queueEvents.on('progress', ({ jobId, data }) => {
      const id = ids.get(jobId);
      const message = childMessageSchema.safeParse(data);
      if (id === undefined || !message.success || message.data.kind !== 'epoch') return;
      start(id); // a job taken before these events were heard shows up with its first epoch
      events.epoch(id, message.data);
    });
    const stopped = new Promise<'stopped'>((resolve) => {
      this.stopRequested = () => resolve('stopped');
    });
    try {
      await queueEvents.waitUntilReady();
      const added = await Promise.all(
        jobs.map((job) => queue.add('trial', job, { jobId: this.jobId(job.id), attempts: 1, removeOnComplete: false, removeOnFail: false })),
      );
      const lost = this.lost.then((error) => Promise.reject(error));
      await Promise.race([
        Promise.all(added.map((job, i) => this.outcomeOf(job, jobs[i]!, queueEvents).then((outcome) => events.ended(outcome)))),
        stopped,
        lost,
      ]);
    } finally {
      await queueEvents.close();
      await queue.close();
    }
  }

  /** Stop waiting: the jobs stay queued for the workers, and --resume collects them. */
  stop(): void {
    this.stopRequested?.();
  }

  private jobId(trial: number): string {
    return `${this.sweepDirName}/${trialName(trial)}`;
  }

  /** The trial's outcome: the job's return value, or a failed outcome when the job failed (a worker's bug). */
  private async outcomeOf(job: Job, trial: TrialJob, queueEvents: QueueEvents): Promise<TrialOutcome> {
    try {
      return trialOutcomeSchema.parse(await job.waitUntilFinished(queueEvents));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return { id: trial.id, status: 'failed', params: trial.params, metric: null, epoch: null, run_dir: trial.run_path, error: reason };
    }
  }
}

/**
 * Reach the queue (exit 2 when it cannot be reached) and make the coordinator's engine on
 * that connection; `close` ends the connection. A connection lost for good afterwards
 * ends the engine's run with a RunError (exit 1).
 */
export async function connectQueueEngine(url: string): Promise<{ engine(sweepDirName: string): QueueEngine; close(): Promise<void> }> {
  let closing = false;
  let lose: (error: RunError) => void = () => {};
  const lost = new Promise<RunError>((resolve) => {
    lose = resolve;
  });
  const connection = await connectQueue(url, (error) => {
    if (!closing) lose(error);
  });
  return {
    engine: (sweepDirName) => new QueueEngine(connection, sweepDirName, lost),
    close: async () => {
      closing = true;
      await connection.quit();
    },
  };
}
