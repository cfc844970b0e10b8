/**
 * The learning-curve chart of `dlt plot`: one SVG of three panels sharing the step
 * axis — loss (training loss per logged step, its rolling average, validation loss per
 * epoch), validation accuracy per epoch, and the learning rate on a log scale — with
 * epoch boundaries, learning-rate drops and NaN events marked, and the events listed
 * under the chart. Pure: the same records give the same bytes.
 *
 * This file lays the page out; the parts are drawn by panels.ts (the curves of each
 * panel), panelFrame.ts and legend.ts (what surrounds them), epochMarks.ts and events.ts,
 * from the records as curves.ts sorts them, with chartLayout.ts's geometry.
 */
import type { MetricsRecord } from '../train/metrics.js';
import { chartHeading } from './chartHeading.js';
import {
  COLOR,
  EVENT_LINE,
  FONT,
  LEFT,
  MAX_EVENT_LINES,
  PANEL_GAP,
  PANEL_HEADER,
  PANEL_TOP,
  PANELS,
  type Panel,
  PLOT_W,
  type Placed,
  WIDTH,
} from './chartLayout.js';
import { sortCurves } from './curves.js';
import { epochAxis, epochBoundaries } from './epochMarks.js';
import { type ChartEvent, describeEvents, eventList } from './events.js';
import { accuracyPlot, lossPlot, lrPlot } from './panels.js';
import { linearScale } from './scale.js';
import { el, svgDocument, text } from './svg.js';

export interface ChartInput {
  /** Top line, e.g. the run directory's name. */
  title: string;
  /** Second line: what ran (from config.yaml and summary.json). */
  subtitle: string;
  records: readonly MetricsRecord[];
  /** From the run's config: false when it has no validation split; undefined when unknown. */
  hasValidationSplit?: boolean;
}

export interface Chart {
  svg: string;
  width: number;
  height: number;
  events: ChartEvent[];
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
  body.push(...chartHeading(`${input.title}: learning curves`, input.title, input.subtitle, height));
  body.push(epochAxis(curves, xPixel));
  const epochLines = epochBoundaries(curves, xPixel);

  body.push(lossPlot(lossPanel, curves, input.hasValidationSplit, x, xPixel, epochLines));
  body.push(accuracyPlot(accuracyPanel, curves, input.hasValidationSplit, x, xPixel, epochLines));
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
