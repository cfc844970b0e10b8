import type { Reporter } from './reporter.js';
import type { RunParts } from './runParts.js';

/** The model summary (layer, output shape, parameters, total), the data and what is odd about it, before the first epoch. */
export function describeRun(parts: RunParts, reporter: Reporter): void {
  const layers = parts.network.summary();
  const total = layers.reduce((s, l) => s + l.params, 0);
  const rows: [string, string, string][] = [
    ['layer', 'output shape', 'parameters'],
    ...layers.map((l): [string, string, string] => [l.name, `[${l.outputShape.join(', ')}]`, l.params.toLocaleString('en-US')]),
    ['total', '', total.toLocaleString('en-US')],
  ];
  const width = (c: 0 | 1 | 2) => Math.max(...rows.map((r) => r[c].length));
  for (const [name, shape, params] of rows) reporter.info(`  ${name.padEnd(width(0))}  ${shape.padEnd(width(1))}  ${params.padStart(width(2))}`);
  const { splits, kernels, config } = parts;
  reporter.info(
    `data: ${splits.train.indices.length} train` +
      (splits.val ? `, ${splits.val.indices.length} validation` : '') +
      (splits.test ? `, ${splits.test.indices.length} test` : '') +
      `; backend ${kernels.name} (${kernels.threads} thread${kernels.threads === 1 ? '' : 's'}), ${config.training.dtype}` +
      (kernels.note ? ` (${kernels.note})` : ''),
  );
  const { loss } = config;
  if ('class_weights' in loss && Array.isArray(loss.class_weights))
    reporter.info(`class weights (${loss.type}): ${loss.class_weights.map((w) => Number(w.toPrecision(4))).join(', ')}`);
  for (const warning of splits.warnings) reporter.warn(warning);
}
