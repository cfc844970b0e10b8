/**
 * The sweep chart of `dlt plot <sweep-dir>`: one SVG with, on top, the sweep's metric at
 * every epoch of every trial that has logged it (muted lines, the best trial's bright
 * and thick, drawn last), and under it one small panel per swept parameter with each
 * finished trial's score against its value of that parameter (the best trial's dot
 * bright). Pure: the same data give the same bytes.
 *
 * This file lays the page out; sweepPanels.ts draws the panels, with panelFrame.ts's
 * frame and chartLayout.ts's geometry.
 */
import { chartHeading } from './chartHeading.js';
import { COLOR, ellipsize, FONT, LEFT, PLOT_W, type Placed, WIDTH } from './chartLayout.js';
import { el, svgDocument, text } from './svg.js';
import { describeTrialCounts, type SweepPlotData } from './sweepData.js';
import { CURVES_PANEL_HEIGHT, curvesPanel, METRICS, PARAMETER_PANEL_HEIGHT, parameterPanel, scoreScale } from './sweepPanels.js';

/** Parameter panels side by side, at most. */
const PARAMETER_COLUMNS = 3;
/** Between two parameter panels side by side: room for the right one's y tick labels. */
const PARAMETER_GAP = 60;
/** From a parameter panel's header to the next row's: header, plot, x tick labels and a gap. */
const PARAMETER_ROW = 22 + PARAMETER_PANEL_HEIGHT + 44;

export interface SweepChart {
  svg: string;
  width: number;
  height: number;
}

export function sweepChart(data: SweepPlotData): SweepChart {
  const { metric } = data.record;
  const best = data.best;
  const subtitle = [describeTrialCounts(data.trials), data.record.method, `ranked by ${metric.name} (${metric.goal})`];
  if (best !== null && best.score !== null) subtitle.push(`best ${best.name}: ${best.score.toFixed(4)} at epoch ${best.scoreEpoch ?? '?'}`);

  // The curves panel's title says whether its scale is logarithmic: curvesPanel sets it.
  const curves: Placed = { id: 'sweep-metric', title: '', height: CURVES_PANEL_HEIGHT, y0: 60, top: 82, bottom: 82 + CURVES_PANEL_HEIGHT };
  const heading = curves.bottom + 66;
  const columns = Math.min(PARAMETER_COLUMNS, data.parameters.length);
  const panelWidth = (PLOT_W - (columns - 1) * PARAMETER_GAP) / columns;
  const rows = Math.ceil(data.parameters.length / columns);
  const rowsTop = heading + 12;
  const height = rowsTop + rows * PARAMETER_ROW - 8;

  const body: string[] = [];
  body.push(...chartHeading(`${data.title}: sweep`, data.title, subtitle.join(' · '), height));
  body.push(curvesPanel(curves, data));

  const scored = data.trials.filter((t) => t.status === 'finished' && t.score !== null);
  const y = scoreScale(
    scored.map((t) => t.score!),
    metric.name,
  );
  const what = `${METRICS[metric.name].label} of each finished trial (the best over its epochs), by swept parameter`;
  body.push(
    el(
      'text',
      { x: LEFT, y: heading, 'font-size': 13, 'font-weight': 'bold', fill: COLOR.text, class: 'section' },
      text(ellipsize(what, 13, PLOT_W)),
    ),
  );
  data.parameters.forEach((parameter, i) => {
    const column = i % columns;
    const y0 = rowsTop + Math.floor(i / columns) * PARAMETER_ROW;
    const panel: Placed = {
      id: `parameter-${i + 1}`,
      title: parameter.key,
      height: PARAMETER_PANEL_HEIGHT,
      y0,
      top: y0 + 22,
      bottom: y0 + 22 + PARAMETER_PANEL_HEIGHT,
    };
    body.push(parameterPanel(panel, { left: LEFT + column * (panelWidth + PARAMETER_GAP), width: panelWidth }, parameter, data, y));
  });

  const svg = svgDocument(WIDTH, height, { 'font-family': FONT }, '\n', body.join('\n'), '\n');
  return { svg, width: WIDTH, height };
}
