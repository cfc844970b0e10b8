/**
 * The chart's three panels, each a set of curves on its own y scale: the loss (training
 * loss per logged step, its rolling average, validation loss per epoch), validation
 * accuracy per epoch, and the learning rate as a staircase on a log scale with its drops.
 */
import { COLOR, DROP_STRIP, INSET, type Placed } from './chartLayout.js';
import { type Curves, maxOf, minOf } from './curves.js';
import type { LegendItem } from './legend.js';
import { panelFrame } from './panelFrame.js';
import { formatNumber, linearScale, logScale, type Scale } from './scale.js';
import { polyline } from './series.js';
import { el, num, text } from './svg.js';

/** Smooth losses further apart than this factor are drawn on a log scale. */
export const LOG_LOSS_SPAN = 1e4;

export function lossPlot(
  panel: Placed,
  curves: Curves,
  hasValidationSplit: boolean | undefined,
  x: Scale,
  xPixel: (s: number) => number,
  epochLines: number[],
): string {
  const { steps, epochs } = curves;
  const valLoss = epochs.filter((e) => e.val_loss !== null).map((e) => [e.step, e.val_loss!] as const);
  // Without step records (log_every longer than the run) the epoch records still carry
  // the rolling average at each epoch's end.
  const average =
    steps.length > 0
      ? steps.map((s) => [s.step, s.loss_avg] as const)
      : epochs.filter((e) => e.train_loss_avg !== null).map((e) => [e.step, e.train_loss_avg!] as const);
  const raw = steps.map((s) => [s.step, s.loss] as const);

  const smooth = [...average, ...valLoss].map(([, v]) => v);
  const rawValues = raw.map(([, v]) => v);
  const smoothMax = smooth.length > 0 ? maxOf(smooth) : maxOf([...rawValues, 0]);
  const rawMax = rawValues.length > 0 ? maxOf(rawValues) : smoothMax;
  const positive = [...smooth, ...rawValues].filter((v) => v > 0);
  const smoothPositive = (smooth.length > 0 ? smooth : rawValues).filter((v) => v > 0);
  let y: Scale;
  if (smoothPositive.length > 0 && smoothMax / minOf(smoothPositive) > LOG_LOSS_SPAN) {
    // Orders of magnitude apart (a run that diverged, or one trained far down): only a
    // log scale shows both ends. Zero losses sit on its floor.
    y = logScale(minOf(positive), maxOf(positive));
    panel = { ...panel, title: `${panel.title} (log scale)` };
  } else {
    // The range follows the smooth curves; single noisy batches may reach at most 1.5 times
    // their top before they are clipped, so one spike cannot flatten everything else.
    const hi = Math.max(smoothMax, Math.min(rawMax, smoothMax * 1.5));
    const lo = minOf([0, ...smooth, ...rawValues]);
    y = linearScale(lo, hi, 6, { extend: true, clamp: [lo, Infinity] });
  }

  const legend: LegendItem[] = [];
  const parts: string[] = [];
  const yPixel = (v: number) => y.pixel(Math.max(v, y.lo), panel.bottom - INSET, panel.top + INSET);
  if (raw.length > 0) {
    parts.push(
      polyline(
        'loss',
        raw.map(([s, v]) => [xPixel(s), yPixel(v)]),
        COLOR.loss,
        1,
        panel.id,
      ),
    );
    legend.push({ label: rawMax > y.hi ? `training loss (clipped above ${formatNumber(y.hi)})` : 'training loss', color: COLOR.loss, mark: 'thin' });
  }
  if (average.length > 0) {
    parts.push(
      polyline(
        'loss_avg',
        average.map(([s, v]) => [xPixel(s), yPixel(v)]),
        COLOR.lossAvg,
        2,
        panel.id,
      ),
    );
    legend.push({ label: steps.length > 0 ? 'rolling average' : 'rolling average at epoch ends', color: COLOR.lossAvg, mark: 'line' });
  }
  if (valLoss.length > 0) {
    parts.push(
      polyline(
        'val_loss',
        valLoss.map(([s, v]) => [xPixel(s), yPixel(v)]),
        COLOR.valLoss,
        2,
        panel.id,
        true,
      ),
    );
    legend.push({ label: 'validation loss', color: COLOR.valLoss, mark: 'dot' });
  }
  // Said in the legend row rather than over the plot, where the curves are.
  if (valLoss.length === 0) legend.push({ label: noValidation(curves, hasValidationSplit).short, color: COLOR.muted, mark: 'none' });
  return panelFrame(panel, x, xPixel, y, yPixel, epochLines, curves, legend, parts, []);
}

export function accuracyPlot(
  panel: Placed,
  curves: Curves,
  hasValidationSplit: boolean | undefined,
  x: Scale,
  xPixel: (s: number) => number,
  epochLines: number[],
): string {
  const accuracy = curves.epochs.filter((e) => e.val_accuracy !== null).map((e) => [e.step, e.val_accuracy!] as const);
  const values = accuracy.map(([, v]) => v);
  const y = values.length > 0 ? linearScale(minOf(values), maxOf(values), 4, { extend: true, clamp: [0, 1] }) : linearScale(0, 1, 4);
  const yPixel = (v: number) => y.pixel(v, panel.bottom - INSET, panel.top + INSET);
  const parts: string[] = [];
  const legend: LegendItem[] = [];
  const notes: string[] = [];
  if (accuracy.length > 0) {
    parts.push(
      polyline(
        'val_accuracy',
        accuracy.map(([s, v]) => [xPixel(s), yPixel(v)]),
        COLOR.valAccuracy,
        2,
        panel.id,
        true,
      ),
    );
    const best = maxOf(values);
    legend.push({ label: `validation accuracy (best ${best.toFixed(4)})`, color: COLOR.valAccuracy, mark: 'dot' });
  } else {
    notes.push(noValidation(curves, hasValidationSplit).long);
  }
  return panelFrame(panel, x, xPixel, y, yPixel, epochLines, curves, legend, parts, notes);
}

export function lrPlot(panel: Placed, curves: Curves, x: Scale, xPixel: (s: number) => number, epochLines: number[]): string {
  // The rate in force at each step: the records' lr, and each drop's new rate from its step on.
  const known: { step: number; lr: number }[] = [
    ...curves.steps.map((s) => ({ step: s.step, lr: s.lr })),
    ...curves.epochs.map((e) => ({ step: e.step, lr: e.lr })),
  ].sort((a, b) => a.step - b.step);
  for (const d of curves.drops) {
    // after the records at its step (stable splice keeps the order of equal steps)
    let at = known.findIndex((k) => k.step > d.step);
    if (at < 0) at = known.length;
    known.splice(at, 0, { step: d.step, lr: d.record.to });
  }
  const rates = [...known.map((k) => k.lr), ...curves.nans.map((n) => n.lr), ...curves.drops.map((d) => d.record.from)];
  const y = logScale(minOf(rates), maxOf(rates));
  const yPixel = (v: number) => y.pixel(v, panel.bottom - INSET, panel.top + DROP_STRIP);

  // Held until the next change, then a vertical jump: a staircase, as the rate really moves.
  const corners: [number, number][] = [];
  for (const k of known) {
    const px = xPixel(k.step);
    const py = yPixel(k.lr);
    const prev = corners[corners.length - 1];
    if (prev === undefined) corners.push([xPixel(0), py]);
    else if (prev[1] !== py) corners.push([px, prev[1]]);
    corners.push([px, py]);
  }
  // Points in the middle of a level run add nothing to the picture.
  const stairs = corners.filter((p, i) => {
    const before = corners[i - 1];
    const after = corners[i + 1];
    return !(before && after && before[1] === p[1] && after[1] === p[1]);
  });
  const parts = [polyline('lr', stairs, COLOR.lr, 2, panel.id)];
  const legend: LegendItem[] = [{ label: 'learning rate', color: COLOR.lr, mark: 'line' }];
  for (const d of curves.drops) {
    const px = xPixel(d.step);
    const label = `lr drop after epoch ${d.record.epoch}: ${formatNumber(d.record.from)} → ${formatNumber(d.record.to)} (${d.record.reason})`;
    parts.push(
      el(
        'g',
        { class: 'lr-drop', 'data-epoch': d.record.epoch, 'data-step': d.step },
        el('title', {}, text(label)),
        el('path', { d: `M${num(px - 5)},${num(panel.top + 2)}H${num(px + 5)}L${num(px)},${num(panel.top + 10)}Z`, fill: COLOR.drop }),
      ),
    );
  }
  if (curves.drops.length > 0) legend.push({ label: 'lr drop', color: COLOR.drop, mark: 'triangle' });
  return panelFrame(panel, x, xPixel, y, yPixel, epochLines, curves, legend, parts, []);
}

/** Why there is no validation curve: a legend-sized and a panel-sized sentence. */
function noValidation(curves: Curves, hasValidationSplit: boolean | undefined): { short: string; long: string } {
  if (curves.epochs.length === 0) {
    return { short: 'validation: none yet', long: 'no epoch has finished yet: validation is measured at epoch ends' };
  }
  if (hasValidationSplit === false) {
    return { short: 'no validation split', long: 'no validation split in this run (data.validation is not set): no validation loss or accuracy' };
  }
  return {
    short: 'no validation results',
    long: 'no validation results in metrics.jsonl (no data.validation, or no validation pass yet: training.eval_every)',
  };
}
