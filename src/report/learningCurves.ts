/**
 * The learning-curve chart of `dlt plot`: one SVG of three panels sharing the step
 * axis — loss (training loss per logged step, its rolling average, validation loss per
 * epoch), validation accuracy per epoch, and the learning rate on a log scale — with
 * epoch boundaries, learning-rate drops and NaN events marked, and the events listed
 * under the chart. Pure: the same records give the same bytes.
 */
import type { EpochRecord, LrDropRecord, MetricsRecord, NanRecord, StepRecord } from '../train/metrics.js';
import { formatNumber, linearScale, logScale, niceStep, type Scale } from './scale.js';
import { el, num, points, svgDocument, text, textWidth } from './svg.js';

export interface ChartInput {
  /** Top line, e.g. the run directory's name. */
  title: string;
  /** Second line: what ran (from config.yaml and summary.json). */
  subtitle: string;
  records: readonly MetricsRecord[];
  /** From the run's config: false when it has no validation split; undefined when unknown. */
  hasValidationSplit?: boolean;
}

/** An lr drop or NaN event, placed on the step axis, with its description. */
export interface ChartEvent {
  kind: 'lr_drop' | 'nan';
  epoch: number;
  step: number;
  description: string;
}

export interface Chart {
  svg: string;
  width: number;
  height: number;
  events: ChartEvent[];
}

// Layout, in pixels. The panels share the plot's left and right edges.
const WIDTH = 960;
const LEFT = 72;
const RIGHT = 24;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PANEL_TOP = 84;
const PANEL_HEADER = 22;
const PANEL_GAP = 22;
/** Kept free inside each plot, so a curve at the end of its range does not run along the frame. */
const INSET = 6;
/** The strip at the top of the learning-rate plot where drop markers sit, above the curve. */
const DROP_STRIP = 14;
const EVENT_LINE = 17;
/** Smooth losses further apart than this factor are drawn on a log scale. */
const LOG_LOSS_SPAN = 1e4;
/** Events listed under the chart; the HTML page lists them all. */
const MAX_EVENT_LINES = 8;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const COLOR = {
  loss: '#a6cee3',
  lossAvg: '#1f78b4',
  valLoss: '#ff7f00',
  valAccuracy: '#33a02c',
  lr: '#6a3d9a',
  drop: '#b15928',
  nan: '#e31a1c',
  grid: '#ececec',
  epoch: '#bdbdbd',
  frame: '#888888',
  text: '#222222',
  muted: '#666666',
};

interface Panel {
  id: string;
  title: string;
  height: number;
}

const PANELS = {
  loss: { id: 'loss', title: 'Loss', height: 230 },
  accuracy: { id: 'accuracy', title: 'Validation accuracy', height: 150 },
  lr: { id: 'lr', title: 'Learning rate (log scale)', height: 130 },
} satisfies Record<string, Panel>;

/** A panel placed on the page: its plot area is [LEFT, LEFT + PLOT_W] × [top, bottom]. */
interface Placed extends Panel {
  y0: number;
  top: number;
  bottom: number;
}

interface LegendItem {
  label: string;
  color: string;
  /** 'none': a note in the legend row, in italics, without a swatch. */
  mark: 'line' | 'thin' | 'dot' | 'triangle' | 'none';
}

/** The records sorted out by kind, each event placed on the step axis. */
interface Curves {
  steps: StepRecord[];
  epochs: EpochRecord[];
  drops: { record: LrDropRecord; step: number }[];
  nans: NanRecord[];
  maxStep: number;
}

function sortCurves(records: readonly MetricsRecord[]): Curves {
  const steps: StepRecord[] = [];
  const epochs: EpochRecord[] = [];
  const drops: { record: LrDropRecord; step: number }[] = [];
  const nans: NanRecord[] = [];
  // An lr_drop record has no step: it follows its epoch's record, at that epoch's last step.
  const endStep = new Map<number, number>();
  let lastStep = 0;
  for (const r of records) {
    if (r.kind === 'step') {
      steps.push(r);
      lastStep = r.step;
    } else if (r.kind === 'epoch') {
      epochs.push(r);
      endStep.set(r.epoch, r.step);
      lastStep = r.step;
    } else if (r.kind === 'lr_drop') {
      drops.push({ record: r, step: endStep.get(r.epoch) ?? lastStep });
    } else {
      nans.push(r);
    }
  }
  // The writer appends in step order (resume and rollback cut the file back first); a
  // stable sort keeps the chart monotone in x even for a file that was edited by hand.
  const byStep = <T extends { step: number }>(a: T, b: T) => a.step - b.step;
  steps.sort(byStep);
  epochs.sort(byStep);
  drops.sort(byStep);
  nans.sort(byStep);
  const maxStep = maxOf([1, ...steps.map((s) => s.step), ...epochs.map((e) => e.step), ...nans.map((n) => n.step)]);
  return { steps, epochs, drops, nans, maxStep };
}

/** The chart for a run's records (any order; sorted by step here), and its events for the page's table. */
export function learningCurves(input: ChartInput): Chart {
  const curves = sortCurves(input.records);
  const x = linearScale(0, curves.maxStep, 8, { minStep: 1 });
  const xPixel = (step: number) => x.pixel(step, LEFT, LEFT + PLOT_W);

  let y0 = PANEL_TOP;
  const place = (panel: Panel): Placed => {
    const placed = { ...panel, y0, top: y0 + PANEL_HEADER, bottom: y0 + PANEL_HEADER + panel.height };
    y0 = placed.bottom + PANEL_GAP;
    return placed;
  };
  const lossPanel = place(PANELS.loss);
  const accuracyPanel = place(PANELS.accuracy);
  const lrPanel = place(PANELS.lr);
  const plotBottom = lrPanel.bottom;

  const events = describeEvents(curves);
  const shown = events.length > MAX_EVENT_LINES ? MAX_EVENT_LINES - 1 : events.length;
  const eventLines = shown + (events.length > shown ? 1 : 0);
  const height = plotBottom + 46 + (eventLines > 0 ? 14 + eventLines * EVENT_LINE : 0) + 10;

  const body: string[] = [];
  body.push(el('title', {}, text(`${input.title}: learning curves`)));
  body.push(el('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#ffffff' }));
  body.push(
    el(
      'text',
      { x: LEFT, y: 26, 'font-size': 17, 'font-weight': 'bold', fill: COLOR.text, class: 'title' },
      text(ellipsize(input.title, 17, WIDTH - LEFT - RIGHT)),
    ),
    el('text', { x: LEFT, y: 46, 'font-size': 12, fill: COLOR.muted, class: 'subtitle' }, text(ellipsize(input.subtitle, 12, WIDTH - LEFT - RIGHT))),
  );
  body.push(epochAxis(curves, xPixel));
  const epochLines = epochBoundaries(curves, xPixel);

  body.push(lossPlot(lossPanel, curves, input, x, xPixel, epochLines));
  body.push(accuracyPlot(accuracyPanel, curves, input, x, xPixel, epochLines));
  body.push(lrPlot(lrPanel, curves, x, xPixel, epochLines));

  // The shared step axis, under the last panel.
  const stepLabels = x.ticks.map((t, i) =>
    el('text', { x: xPixel(t), y: plotBottom + 16, 'text-anchor': 'middle', 'font-size': 11, fill: COLOR.text }, text(x.labels[i]!)),
  );
  body.push(el('g', { class: 'x-axis' }, ...stepLabels));
  body.push(el('text', { x: LEFT + PLOT_W / 2, y: plotBottom + 34, 'text-anchor': 'middle', 'font-size': 12, fill: COLOR.muted }, text('step')));

  if (eventLines > 0) body.push(eventList(events, shown, plotBottom + 62));

  const svg = svgDocument(WIDTH, height, { 'font-family': FONT }, '\n', body.join('\n'), '\n');
  return { svg, width: WIDTH, height, events };
}

// ------------------------------------------------------------------------ panels

function lossPlot(panel: Placed, curves: Curves, input: ChartInput, x: Scale, xPixel: (s: number) => number, epochLines: number[]): string {
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
  if (valLoss.length === 0) legend.push({ label: noValidation(curves, input).short, color: COLOR.muted, mark: 'none' });
  return panelFrame(panel, x, xPixel, y, yPixel, epochLines, curves, legend, parts, []);
}

function accuracyPlot(panel: Placed, curves: Curves, input: ChartInput, x: Scale, xPixel: (s: number) => number, epochLines: number[]): string {
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
    notes.push(noValidation(curves, input).long);
  }
  return panelFrame(panel, x, xPixel, y, yPixel, epochLines, curves, legend, parts, notes);
}

function lrPlot(panel: Placed, curves: Curves, x: Scale, xPixel: (s: number) => number, epochLines: number[]): string {
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
function noValidation(curves: Curves, input: ChartInput): { short: string; long: string } {
  if (curves.epochs.length === 0) {
    return { short: 'validation: none yet', long: 'no epoch has finished yet: validation is measured at epoch ends' };
  }
  if (input.hasValidationSplit === false) {
    return { short: 'no validation split', long: 'no validation split in this run (data.validation is not set): no validation loss or accuracy' };
  }
  return {
    short: 'no validation results',
    long: 'no validation results in metrics.jsonl (no data.validation, or no validation pass yet: training.eval_every)',
  };
}

/**
 * A panel's frame, grid, tick labels, epoch boundaries, event lines, curves (clipped
 * to the plot), legend and notes.
 */
function panelFrame(
  panel: Placed,
  x: Scale,
  xPixel: (s: number) => number,
  y: Scale,
  yPixel: (v: number) => number,
  epochLines: number[],
  curves: Curves,
  legend: LegendItem[],
  curvesMarkup: string[],
  notes: string[],
): string {
  const right = LEFT + PLOT_W;
  const h = panel.bottom - panel.top;
  const clipId = `clip-${panel.id}`;
  const out: string[] = [];
  // Wider than the frame by a marker's radius, so the dot of the last epoch, which sits
  // on the right edge, is drawn whole; curves cannot leave the plot vertically.
  out.push(el('clipPath', { id: clipId }, el('rect', { x: LEFT - 4, y: panel.top, width: PLOT_W + 8, height: h })));
  out.push(el('text', { x: LEFT, y: panel.y0 + 15, 'font-size': 13, 'font-weight': 'bold', fill: COLOR.text }, text(panel.title)));
  out.push(legendRow(legend, right, panel.y0 + 15, LEFT + textWidth(panel.title, 13) + 16));

  const grid: string[] = [];
  for (const t of y.ticks) {
    const py = yPixel(t);
    if (py < panel.top - 0.5 || py > panel.bottom + 0.5) continue;
    grid.push(el('line', { x1: LEFT, x2: right, y1: py, y2: py, stroke: COLOR.grid }));
  }
  for (const t of x.ticks) grid.push(el('line', { x1: xPixel(t), x2: xPixel(t), y1: panel.top, y2: panel.bottom, stroke: COLOR.grid }));
  out.push(el('g', { class: 'grid' }, ...grid));

  const labels = y.ticks.flatMap((t, i) => {
    const py = yPixel(t);
    if (py < panel.top - 0.5 || py > panel.bottom + 0.5) return [];
    return [el('text', { x: LEFT - 6, y: py + 4, 'text-anchor': 'end', 'font-size': 11, fill: COLOR.text }, text(y.labels[i]!))];
  });
  out.push(el('g', { class: 'y-axis' }, ...labels));

  if (epochLines.length > 0) {
    out.push(
      el(
        'g',
        { class: 'epochs', stroke: COLOR.epoch, 'stroke-dasharray': '3,3' },
        ...epochLines.map((px) => el('line', { x1: px, x2: px, y1: panel.top, y2: panel.bottom })),
      ),
    );
  }
  if (curves.drops.length > 0) {
    out.push(
      el(
        'g',
        { class: 'drop-lines', stroke: COLOR.drop, 'stroke-dasharray': '6,3', 'stroke-opacity': 0.7 },
        ...curves.drops.map((d) => el('line', { x1: xPixel(d.step), x2: xPixel(d.step), y1: panel.top, y2: panel.bottom })),
      ),
    );
  }
  if (curves.nans.length > 0) {
    let lastLabel = -Infinity;
    const marks = curves.nans.map((n) => {
      const px = xPixel(n.step);
      const line = el('line', { x1: px, x2: px, y1: panel.top, y2: panel.bottom, stroke: COLOR.nan, 'stroke-width': 1.5 });
      // "NaN" once per event in the loss panel, unless it would overlap the previous label
      if (panel.id !== 'loss' || px - lastLabel < 34) return el('g', { class: 'nan-event', 'data-step': n.step }, line);
      lastLabel = px;
      const anchor = px > right - 40 ? 'end' : 'start';
      const label = el(
        'text',
        {
          x: anchor === 'end' ? px - 3 : px + 3,
          y: panel.top + 12,
          'font-size': 11,
          fill: COLOR.nan,
          'text-anchor': anchor,
          // a white halo keeps the label readable where a curve passes under it
          stroke: '#ffffff',
          'stroke-width': 3,
          'paint-order': 'stroke',
        },
        text('NaN'),
      );
      return el('g', { class: 'nan-event', 'data-step': n.step }, line, label);
    });
    out.push(...marks);
  }

  out.push(el('g', { 'clip-path': `url(#${clipId})` }, ...curvesMarkup));
  notes.forEach((note, i) => {
    out.push(
      el(
        'text',
        {
          x: LEFT + PLOT_W / 2,
          y: panel.top + h / 2 + (i - (notes.length - 1) / 2) * 16 + 4,
          'text-anchor': 'middle',
          'font-size': 12,
          'font-style': 'italic',
          fill: COLOR.muted,
          class: 'note',
        },
        text(ellipsize(note, 12, PLOT_W - 16)),
      ),
    );
  });
  out.push(el('rect', { x: LEFT, y: panel.top, width: PLOT_W, height: h, fill: 'none', stroke: COLOR.frame }));
  return el('g', { class: 'panel', id: `panel-${panel.id}` }, ...out);
}

/** One series; `dots` adds a marker per point (epoch series have few points, each meaningful). */
function polyline(series: string, xy: [number, number][], color: string, width: number, panel: string, dots = false): string {
  const line = el('polyline', {
    class: 'series',
    'data-series': series,
    'data-panel': panel,
    points: points(xy),
    fill: 'none',
    stroke: color,
    'stroke-width': width,
    'stroke-linejoin': 'round',
    'stroke-linecap': 'round',
  });
  // A lone point draws nothing as a polyline; give it a dot too.
  if (!dots && xy.length !== 1) return line;
  const marks = xy.map(([px, py]) => el('circle', { cx: px, cy: py, r: 3, fill: color }));
  return line + el('g', { class: 'markers', 'data-series': series }, ...marks);
}

/** Legend items laid out leftwards from `right`; items that would reach `minX` are dropped from the left end. */
function legendRow(items: LegendItem[], right: number, baseline: number, minX: number): string {
  const out: string[] = [];
  let xEnd = right;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    const note = item.mark === 'none';
    const swatchWidth = note ? 0 : 22;
    const x0 = xEnd - swatchWidth - textWidth(item.label, 11);
    if (x0 < minX) break;
    const label = el(
      'text',
      { x: x0 + swatchWidth, y: baseline, 'font-size': 11, 'font-style': note ? 'italic' : undefined, fill: note ? COLOR.muted : COLOR.text },
      text(item.label),
    );
    out.unshift(el('g', { class: note ? 'legend-note' : 'legend-item' }, note ? '' : swatch(item, x0, baseline - 4), label));
    xEnd = x0 - 14;
  }
  return el('g', { class: 'legend' }, ...out);
}

function swatch(item: LegendItem, x0: number, yMid: number): string {
  switch (item.mark) {
    case 'none':
      return '';
    case 'triangle':
      return el('path', { d: `M${num(x0 + 4)},${num(yMid - 4)}H${num(x0 + 14)}L${num(x0 + 9)},${num(yMid + 4)}Z`, fill: item.color });
    case 'dot':
      return (
        el('line', { x1: x0, x2: x0 + 18, y1: yMid, y2: yMid, stroke: item.color, 'stroke-width': 2 }) +
        el('circle', { cx: x0 + 9, cy: yMid, r: 3, fill: item.color })
      );
    default:
      return el('line', { x1: x0, x2: x0 + 18, y1: yMid, y2: yMid, stroke: item.color, 'stroke-width': item.mark === 'thin' ? 1.5 : 2.5 });
  }
}

// --------------------------------------------------------------- epochs and events

/** Every `stride`-th epoch end gets a line, so lines stay at least 6 px apart. */
function epochStride(curves: Curves, minPx: number, multipleOf = 1): number {
  const last = curves.epochs[curves.epochs.length - 1];
  if (!last) return 1;
  const perEpoch = (PLOT_W * (last.step / curves.maxStep)) / Math.max(1, last.epoch);
  let stride = 1;
  while (stride * perEpoch < minPx || stride % multipleOf !== 0) stride = niceStep(stride + 1);
  return stride;
}

function epochBoundaries(curves: Curves, xPixel: (s: number) => number): number[] {
  const stride = epochStride(curves, 6);
  return curves.epochs.filter((e) => e.epoch % stride === 0).map((e) => xPixel(e.step));
}

/** Epoch numbers above the first panel, each at the step where that epoch ended. */
function epochAxis(curves: Curves, xPixel: (s: number) => number): string {
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

function describeEvents(curves: Curves): ChartEvent[] {
  const events: ChartEvent[] = [
    ...curves.drops.map(({ record: d, step }) => ({
      kind: 'lr_drop' as const,
      epoch: d.epoch,
      step,
      description: `lr drop after epoch ${d.epoch} (step ${step}): ${formatNumber(d.from)} → ${formatNumber(d.to)}, ${d.reason}`,
    })),
    ...curves.nans.map((n) => ({
      kind: 'nan' as const,
      epoch: n.epoch,
      step: n.step,
      description:
        `the loss became ${n.loss === null ? 'NaN' : formatNumber(n.loss)} at epoch ${n.epoch}, step ${n.step} (lr ${formatNumber(n.lr)}): ` +
        (n.action === 'rollback' ? 'rolled back to the last snapshot with the learning rate × 0.1' : 'training stopped'),
    })),
  ];
  // by step; at equal steps drops first (the order of the two lists), as the sort is stable
  return events.sort((a, b) => a.step - b.step);
}

function eventList(events: ChartEvent[], shown: number, y: number): string {
  const out: string[] = [el('text', { x: LEFT, y, 'font-size': 12, 'font-weight': 'bold', fill: COLOR.text }, text('Events'))];
  events.slice(0, shown).forEach((e, i) => {
    const baseline = y + (i + 1) * EVENT_LINE;
    const mark =
      e.kind === 'lr_drop'
        ? el('path', { d: `M${num(LEFT)},${num(baseline - 9)}H${num(LEFT + 10)}L${num(LEFT + 5)},${num(baseline - 1)}Z`, fill: COLOR.drop })
        : el('line', { x1: LEFT + 5, x2: LEFT + 5, y1: baseline - 11, y2: baseline + 2, stroke: COLOR.nan, 'stroke-width': 2 });
    out.push(
      el(
        'g',
        { class: 'event', 'data-kind': e.kind },
        el('title', {}, text(e.description)),
        mark,
        el('text', { x: LEFT + 16, y: baseline, 'font-size': 12, fill: COLOR.text }, text(ellipsize(e.description, 12, PLOT_W - 16))),
      ),
    );
  });
  if (events.length > shown) {
    const baseline = y + (shown + 1) * EVENT_LINE;
    out.push(
      el(
        'text',
        { x: LEFT + 16, y: baseline, 'font-size': 12, 'font-style': 'italic', fill: COLOR.muted },
        text(`… and ${events.length - shown} more, all listed in the HTML page`),
      ),
    );
  }
  return el('g', { class: 'events' }, ...out);
}

// Loops rather than Math.max(...values): a long run logged at every step has more
// points than a call may take arguments.
function maxOf(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

function minOf(values: readonly number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

/** `value`, cut with an ellipsis when it would be wider than `width`. */
function ellipsize(value: string, fontSize: number, width: number): string {
  if (textWidth(value, fontSize) <= width) return value;
  const chars = [...value];
  const keep = Math.max(1, Math.floor(width / (fontSize * 0.56)) - 1);
  return `${chars.slice(0, keep).join('')}…`;
}
