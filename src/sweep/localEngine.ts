import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { EngineEvents, SweepEngine } from './engine.js';
import type { TrialJob } from './runTrial.js';
import { startTrialChild, type TrialChild } from './trialChild.js';

export interface LocalEngineOptions {
  /** The folder the sweep directory is in: job run paths are relative to it. */
  outDir: string;
  parallel: number;
  backend?: 'auto' | 'js' | 'native';
  threads?: number;
}

/**
 * Trials at once when the sweep file and the command line say nothing: one per core
 * for the JavaScript backend (one thread each), else cores / BLAS threads, at least 1.
 */
export function defaultParallel(backend: string | undefined, threads: number | undefined): number {
  const cores = availableParallelism();
  const perTrial = backend === 'js' ? 1 : (threads ?? 2);
  return Math.max(1, Math.floor(cores / perTrial));
}

/** The embedded engine: a pool of `parallel` child processes on this machine, taking trials in order. */
export class LocalEngine implements SweepEngine {
  private readonly running = new Set<TrialChild>();
  private stopping = false;

  constructor(private readonly options: LocalEngineOptions) {}

  async run(jobs: readonly TrialJob[], events: EngineEvents): Promise<void> {
    const queue = [...jobs];
    const slot = async (): Promise<void> => {
      for (let job = queue.shift(); job !== undefined && !this.stopping; job = queue.shift()) {
        await this.runOne(job, events);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.parallel, jobs.length) }, slot));
  }

  stop(): void {
    this.stopping = true;
    for (const child of this.running) child.stop();
  }

  private async runOne(job: TrialJob, events: EngineEvents): Promise<void> {
    const { outDir, backend, threads } = this.options;
    events.started(job.id);
    const child = startTrialChild(job, { outDir, backend, threads, onEpoch: (m) => events.epoch(job.id, m) });
    this.running.add(child);
    const end = await child.ended;
    this.running.delete(child);
    if (end.kind === 'outcome') events.ended(end.outcome);
    else if (end.kind === 'interrupted') events.interrupted(job.id);
    else {
      const runDir = path.resolve(outDir, job.run_path);
      events.ended({ id: job.id, status: 'failed', params: job.params, metric: null, epoch: null, run_dir: runDir, error: end.error });
    }
  }
}
