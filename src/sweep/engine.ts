import type { TrialJob } from './runTrial.js';
import type { EpochMessage } from './trialMessages.js';
import type { TrialOutcome } from './trialOutcome.js';

/**
 * How a sweep's trials get run: by child processes of this machine (localEngine.ts) or by
 * workers that take them from a Redis queue (queueEngine.ts). The coordinator
 * (src/sweep/sweep.ts) hands an engine the trials still to run and hears back from it.
 */
export interface SweepEngine {
  /** Run the jobs, reporting as they go; resolves once every job has ended or been stopped. */
  run(jobs: readonly TrialJob[], events: EngineEvents): Promise<void>;
  /** Stop: start no more trials, and let the running ones snapshot and end (they resume with --resume). */
  stop(): void;
}

export interface EngineEvents {
  started(id: number): void;
  epoch(id: number, message: EpochMessage): void;
  /** A trial ended, finished or failed: the coordinator records it. */
  ended(outcome: TrialOutcome): void;
  /** A trial stopped before its end (a stop request): it resumes from its snapshot later. */
  interrupted(id: number): void;
}
