import type { Config } from '../config/schema.js';
import { TensorBoardLog } from '../tensorboard/tensorboardLog.js';
import { MetricsCsv } from './metricsCsv.js';
import type { MetricsViews } from './metricsLog.js';
import type { RunDirectory } from './runDirectory.js';

/** The files a run keeps beside metrics.jsonl: metrics.csv always, the TensorBoard event file with training.tensorboard. */
export function metricsViews(dir: RunDirectory, config: Config): MetricsViews {
  return (logText) => [
    MetricsCsv.rebuild(dir.metricsCsvFile, logText),
    ...(config.training.tensorboard ? [TensorBoardLog.rebuild(dir.root, logText)] : []),
  ];
}
