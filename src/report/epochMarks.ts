/**
 * Epoch boundaries on the step axis: the epoch numbers above the first panel and the
 * dashed lines through every panel, thinned so that they stay readable on long runs.
 */
import { COLOR, LEFT, PLOT_W } from './chartLayout.js';
import type { Curves } from './curves.js';
import { niceStep } from './scale.js';
import { el, text } from './svg.js';

/** Every `stride`-th epoch end gets a line, so lines stay at least 6 px apart. */
function epochStride(curves: Curves, minPx: number, multipleOf = 1): number {
  const last = curves.epochs[curves.epochs.length - 1];
  if (!last) return 1;
  const perEpoch = (PLOT_W * (last.step / curves.maxStep)) / Math.max(1, last.epoch);
  let stride = 1;
  while (stride * perEpoch < minPx || stride % multipleOf !== 0) stride = niceStep(stride + 1);
  return stride;
}

export function epochBoundaries(curves: Curves, xPixel: (s: number) => number): number[] {
  const stride = epochStride(curves, 6);
  return curves.epochs.filter((e) => e.epoch % stride === 0).map((e) => xPixel(e.step));
}

/** Epoch numbers above the first panel, each at the step where that epoch ended. */
export function epochAxis(curves: Curves, xPixel: (s: number) => number): string {
  if (curves.epochs.length === 0) return '';
  const stride = epochStride(curves, 30, epochStride(curves, 6));
  const labels = curves.epochs
    .filter((e) => e.epoch % stride === 0)
    .map((e) => el('text', { x: xPixel(e.step), y: 74, 'text-anchor': 'middle', 'font-size': 11, fill: COLOR.muted }, text(String(e.epoch))));
  return el(
    'g',
    { class: 'epoch-axis' },
    el('text', { x: LEFT - 6, y: 74, 'text-anchor': 'end', 'font-size': 11, fill: COLOR.muted }, text('epoch')),
    ...labels,
  );
}
