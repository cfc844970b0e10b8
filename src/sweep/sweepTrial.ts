import path from 'node:path';
import { InputError } from '../errors.js';
import type { Kernels } from '../tensor/kernels.js';
import type { Reporter } from '../train/reporter.js';
import type { TrainingSignals } from '../train/signals.js';
import { runTrial } from './runTrial.js';
import { reopen, trialJob } from './sweep.js';
import { SweepDirectory } from './sweepDirectory.js';
import { loadSweep } from './sweepFile.js';
import type { TrialOutcome } from './trialOutcome.js';

/**
 * `dlt sweep trial <sweep-dir> <N>`: run (or resume, or read, when it finished) trial N of
 * a sweep directory in this process, without a coordinator: for schedulers that start one
 * process per trial, such as a Kubernetes Indexed Job (docs/sweep.md). The sweep file and
 * base config are read from where sweep.yaml says they are, and must still give the
 * recorded trials. A later `dlt sweep --resume` collects the outcome.
 */
export async function runSweepTrial(
  root: string,
  id: number,
  options: { kernels: Kernels; reporter: Reporter; signals: TrainingSignals },
): Promise<TrialOutcome> {
  const sweep = loadSweep(SweepDirectory.open(root).readRecord().sweep_file);
  const dir = reopen(root, sweep);
  const trial = sweep.trials.find((t) => t.id === id);
  if (!trial) throw new InputError(`the sweep has no trial ${id}; its trials are 1 to ${sweep.trials.length}`, dir.root);
  return runTrial(trialJob(dir, sweep, trial), { outDir: path.dirname(dir.root), ...options });
}
