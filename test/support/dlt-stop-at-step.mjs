// A test-only launcher of the built CLI: dlt exactly as bin/dlt.js runs it, except that
// training behaves as if SIGINT arrived during step DLT_INTERRUPT_AT_STEP (it finishes
// the step, writes its snapshot and exits 130), so that tests can stop a run at an
// exact position. Production code knows nothing of it: the stop comes through the CLI
// context, as a real signal's would.
import { processContext } from '../../dist/cli/context.js';
import { runCli } from '../../dist/cli/main.js';

const at = Number(process.env.DLT_INTERRUPT_AT_STEP);
const real = processContext();
let stop;
await runCli(process.argv, {
  ...real,
  trainingSignals: () => {
    const signals = real.trainingSignals();
    return {
      ...signals,
      startTraining: () => {
        stop = signals.startTraining();
        return stop;
      },
    };
  },
  reporter: () => {
    const reporter = real.reporter();
    const progress = reporter.progress.bind(reporter);
    reporter.progress = (stepInEpoch, lossAvg, lr, samplesPerSecond, step) => {
      progress(stepInEpoch, lossAvg, lr, samplesPerSecond, step);
      if (step === at && stop) stop.requested = true;
    };
    return reporter;
  },
});
