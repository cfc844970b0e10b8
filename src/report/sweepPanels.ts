/**
 * The sweep chart's panels: the metric per epoch of every trial, and a trial's score
 * against one swept parameter. Each is drawn inside panelFrame.ts's frame.
 */
import { describeParams, formatValue } from '../sweep/sweepFile.js';
import type { SweepMetricName } from '../sweep/sweepSchema.js';
import { COLOR, ellipsize, INSET, LEFT, PLOT_W, type Placed } from './chartLayout.js';
import { maxOf, minOf } from './curves.js';
import type { LegendItem } from './legend.js';
import { frame, type PanelSpan } from './panelFrame.js';
import { LOG_LOSS_SPAN } from './panels.js';
import { categoryScale, linearScale, logScale, type Scale } from './scale.js';
import { polyline } from './series.js';
import { el, text, textWidth } from './svg.js';
import type { ParameterAxis, SweepParameter, SweepPlotData, SweepTrial } from './sweepData.js';

export const CURVES_PANEL_HEIGHT = 240;
export const PARAMETER_PANEL_HEIGHT = 150;
/** The best trial's line has a dot per epoch when it has at most this many; more would blur into the line. */
const MAX_DOTTED_EPOCHS = 40;
/** Kept free at each end of a parameter's x axis, so that the dots at its ends are drawn whole. */
const PARAMETER_INSET = 12;

/** How each metric a sweep can rank by is named, and the range its values live in. */
export const METRICS: Record<SweepMetricName, { label: string; fraction: boolean }> = {
  val_accuracy: { label: 'Validation accuracy', fraction: true },
  val_loss: { label: 'Validation loss', fraction: false },
  train_loss_avg: { label: 'Training loss (rolling average)', fraction: false },
};

/**
 * The y scale of a metric's values: fitted to them, within [0, 1] for an accuracy; for a
 * loss, logarithmic when the values are orders of magnitude apart (a trial whose rate was
 * too high), as the run chart's loss panel does.
 */
export function scoreScale(values: readonly number[], metric: SweepMetricName, maxIntervals = 4): Scale & { log: boolean } {
  if (values.length === 0) return { ...linearScale(0, 1, maxIntervals), log: false };
  const positive = values.filter((v) => v > 0);
  if (!METRICS[metric].fraction && positive.length > 0 && maxOf(values) / minOf(positive) > LOG_LOSS_SPAN) {
    return { ...logScale(minOf(positive), maxOf(values)), log: true };
  }
  const clamp: [number, number] = METRICS[metric].fraction ? [0, 1] : [-Infinity, Infinity];
  return { ...linearScale(minOf(values), maxOf(values), maxIntervals, { extend: true, clamp }), log: false };
}

/**
 * Panel 1: the metric at each epoch, one line per trial that has logged it, by trial
 * number, muted; the best trial's line last (on top), thick and bright, with a ring at
 * the epoch that gave its score.
 */
export function curvesPanel(placed: Placed, data: SweepPlotData): string {
  const { metric } = data.record;
  const drawn = data.trials.filter((t) => t.curve.length > 0);
  const values = drawn.flatMap((t) => t.curve.map(([, v]) => v));
  const y = scoreScale(values, metric.name, 5);
  const panel = { ...placed, title: `${METRICS[metric.name].label} per epoch${y.log ? ' (log scale)' : ''}` };
  const lastEpoch = maxOf(drawn.flatMap((t) => t.curve.map(([epoch]) => epoch)));
  const x = linearScale(1, lastEpoch, 10, { minStep: 1 });
  const xPixel = (epoch: number) => x.pixel(epoch, LEFT + INSET, LEFT + PLOT_W - INSET);
  const yPixel = (v: number) => y.pixel(Math.max(v, y.lo), panel.bottom - INSET, panel.top + INSET);
  const points = (t: SweepTrial) => t.curve.map(([epoch, v]): [number, number] => [xPixel(epoch), yPixel(v)]);

  const best = data.best !== null && data.best.curve.length > 0 ? data.best : null;
  const others = drawn.filter((t) => t !== best);
  const marks = others.map((t) => polyline(t.name, points(t), COLOR.trial, 1.25, panel.id));
  const legend: LegendItem[] = [];
  if (others.length > 0) legend.push({ label: `other trials (${others.length})`, color: COLOR.trial, mark: 'thin' });
  if (best === null) {
    const why = data.best === null ? 'no trial has finished with a score yet' : `the best, ${data.best.name}, has no log to draw`;
    legend.push({ label: why, color: COLOR.muted, mark: 'none' });
  } else {
    const at = best.curve.find(([epoch]) => epoch === best.scoreEpoch);
    const ring = at
      ? el('circle', { class: 'best-epoch', cx: xPixel(at[0]), cy: yPixel(at[1]), r: 6, fill: 'none', stroke: COLOR.best, 'stroke-width': 1.5 })
      : '';
    const dots = best.curve.length <= MAX_DOTTED_EPOCHS;
    marks.push(el('g', { class: 'best', 'data-trial': best.name }, polyline(best.name, points(best), COLOR.best, 2.5, panel.id, dots), ring));
    // The label gets what the title and the other item leave of the row.
    const room = PLOT_W - textWidth(panel.title, 13) - 16 - legend.reduce((w, item) => w + 22 + textWidth(item.label, 11) + 14, 0) - 22;
    legend.push({ label: ellipsize(`best: ${best.name} (${describeParams(best.params)})`, 11, room), color: COLOR.best, mark: 'dot' });
  }

  const xLabels = x.ticks.map((t, i) =>
    el('text', { x: xPixel(t), y: panel.bottom + 16, 'text-anchor': 'middle', 'font-size': 11, fill: COLOR.text }, text(x.labels[i]!)),
  );
  return (
    frame(panel, { left: LEFT, width: PLOT_W }, { xGrid: x.ticks.map(xPixel), y, yPixel, legend, underlay: [], marks, notes: [] }) +
    el('g', { class: 'x-axis' }, ...xLabels) +
    el('text', { x: LEFT + PLOT_W / 2, y: panel.bottom + 34, 'text-anchor': 'middle', 'font-size': 12, fill: COLOR.muted }, text('epoch'))
  );
}

function parameterScale(axis: ParameterAxis): Scale {
  if (axis.kind === 'category') return categoryScale(axis.labels);
  return axis.kind === 'log' ? logScale(axis.min, axis.max) : linearScale(axis.min, axis.max, 4, { extend: true });
}

/**
 * A parameter's panel: one dot per finished trial with a score, at its value of the
 * parameter and its score (on `y`, shared by every parameter panel so that they compare),
 * the best trial's dot last, larger and bright.
 */
export function parameterPanel(placed: Placed, span: PanelSpan, parameter: SweepParameter, data: SweepPlotData, y: Scale): string {
  const { axis, key } = parameter;
  const x = parameterScale(axis);
  const panel = { ...placed, title: axis.kind === 'log' ? `${key} (log scale)` : key };
  const xPixel = (v: number) => x.pixel(v, span.left + PARAMETER_INSET, span.left + span.width - PARAMETER_INSET);
  const yPixel = (v: number) => y.pixel(Math.max(v, y.lo), panel.bottom - INSET, panel.top + INSET);
  /** Where a trial's value sits on the x axis; null for one the axis cannot show. */
  const position = (value: unknown): number | null => {
    if (axis.kind === 'category') {
      const k = axis.categoryOf(value);
      return k >= 0 ? k : null;
    }
    return typeof value === 'number' && Number.isFinite(value) && (axis.kind === 'linear' || value > 0) ? value : null;
  };

  const { metric } = data.record;
  const scored = data.trials.filter((t) => t.status === 'finished' && t.score !== null && position(t.params[key]) !== null);
  const ordered = [...scored.filter((t) => t !== data.best), ...scored.filter((t) => t === data.best)];
  const marks = ordered.map((t) => {
    const isBest = t === data.best;
    const hover = `${t.name}: ${key}=${formatValue(t.params[key])}, ${metric.name} ${t.score!.toFixed(4)}`;
    return el(
      'circle',
      {
        class: isBest ? 'trial-dot best' : 'trial-dot',
        'data-trial': t.name,
        cx: xPixel(position(t.params[key])!),
        cy: yPixel(t.score!),
        r: isBest ? 5.5 : 3.5,
        fill: isBest ? COLOR.best : COLOR.trialDot,
        stroke: '#ffffff', // a white rim parts dots that overlap
        'stroke-width': 1,
      },
      el('title', {}, text(hover)),
    );
  });
  const notes = scored.length === 0 ? ['no finished trial yet'] : [];

  // Category names get the width of their band; numbers are short.
  const labelWidth = axis.kind === 'category' ? span.width / axis.labels.length - 4 : span.width;
  const xLabels = x.ticks.map((t, i) =>
    el(
      'text',
      { x: xPixel(t), y: panel.bottom + 15, 'text-anchor': 'middle', 'font-size': 11, fill: COLOR.text },
      text(ellipsize(x.labels[i]!, 11, labelWidth)),
    ),
  );
  return el(
    'g',
    { class: 'parameter-panel', 'data-param': key, 'data-axis': axis.kind },
    frame(panel, span, { xGrid: x.ticks.map(xPixel), y, yPixel, legend: [], underlay: [], marks, notes }),
    el('g', { class: 'x-axis' }, ...xLabels),
  );
}
