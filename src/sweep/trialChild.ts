import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrialJob } from './runTrial.js';
import { childMessageSchema, type EpochMessage, type StartMessage } from './trialMessages.js';
import type { TrialOutcome } from './trialOutcome.js';

/** The child's entry point, next to this file in dist/. */
const ENTRY = fileURLToPath(new URL('./trialProcess.js', import.meta.url));
/** The end of a child's stderr kept to explain a crash. */
const STDERR_TAIL = 4000;

/** How a trial's child process ended. */
export type ChildEnd =
  | { kind: 'outcome'; outcome: TrialOutcome }
  /** Stopped by a signal after its snapshot (exit 130): the trial is to be resumed. */
  | { kind: 'interrupted' }
  /** Exited without an outcome: a bug, or killed. `error` is the end of its stderr. */
  | { kind: 'crashed'; error: string };

export interface TrialChild {
  readonly ended: Promise<ChildEnd>;
  /** Ask the trial to finish its batch, write a snapshot and exit (SIGTERM, once). */
  stop(): void;
}

export interface TrialChildOptions {
  outDir: string;
  backend?: 'auto' | 'js' | 'native';
  threads?: number;
  onEpoch(message: EpochMessage): void;
}

/**
 * Run a trial in a child process of its own (src/sweep/trialProcess.ts), in its own
 * process group: a Ctrl-C at the terminal reaches the parent only, which stops each child
 * once, so no child takes a second signal as "stop without a snapshot".
 */
export function startTrialChild(job: TrialJob, options: TrialChildOptions): TrialChild {
  const child = fork(ENTRY, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  let outcome: TrialOutcome | undefined;
  child.on('message', (raw) => {
    const message = childMessageSchema.safeParse(raw);
    if (!message.success) return;
    if (message.data.kind === 'epoch') options.onEpoch(message.data);
    else outcome = message.data.outcome;
  });
  const start: StartMessage = { kind: 'start', job, out_dir: options.outDir, backend: options.backend, threads: options.threads };
  child.send(start);
  let stopped = false;
  const ended = new Promise<ChildEnd>((resolve) => {
    child.on('error', (err) => resolve({ kind: 'crashed', error: err.message }));
    child.on('exit', (code, signal) => {
      if (outcome && code === 0) resolve({ kind: 'outcome', outcome });
      // 130: stopped after its snapshot. Killed by our SIGTERM: stopped before it could
      // handle it (still loading), so before its first write.
      else if (code === 130 || (stopped && signal === 'SIGTERM')) resolve({ kind: 'interrupted' });
      else resolve({ kind: 'crashed', error: stderr.trim() || `the trial's process ended with ${signal ?? `exit code ${code}`}` });
    });
  });
  return {
    ended,
    stop: () => {
      if (stopped || child.exitCode !== null) return;
      stopped = true;
      child.kill('SIGTERM');
    },
  };
}
