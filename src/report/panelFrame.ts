/**
 * What every panel draws around its curves or dots: the frame, the grid and tick labels,
 * the legend row and notes; for a run chart, also the epoch boundaries, lr-drop and NaN
 * lines.
 */
import { COLOR, ellipsize, LEFT, PLOT_W, type Placed } from './chartLayout.js';
import type { Curves } from './curves.js';
import { type LegendItem, legendRow } from './legend.js';
import type { Scale } from './scale.js';
import { el, text, textWidth } from './svg.js';

/** Where a panel's plot area sits across the page, in pixels: [left, left + width]. */
export interface PanelSpan {
  left: number;
  width: number;
}

/** The run chart's panels all span the page's plot width. */
const FULL_SPAN: PanelSpan = { left: LEFT, width: PLOT_W };

export interface FrameContent {
  /** The x pixel of each vertical grid line. */
  xGrid: readonly number[];
  y: Scale;
  yPixel: (v: number) => number;
  legend: LegendItem[];
  /** Drawn over the grid and under the marks, not clipped (the run chart's epoch, drop and NaN lines). */
  underlay: string[];
  /** Curves or dots, clipped to the plot area (with 4 px to spare left and right for a marker on the edge). */
  marks: string[];
  /** Sentences in italics across the middle of the plot, when there is nothing to draw. */
  notes: string[];
}

/**
 * A panel anywhere on the page: its title and legend row, grid, y tick labels, the
 * content, notes and frame, in one group `#panel-<id>`.
 */
export function frame(panel: Placed, span: PanelSpan, content: FrameContent): string {
  const right = span.left + span.width;
  const h = panel.bottom - panel.top;
  const clipId = `clip-${panel.id}`;
  const out: string[] = [];
  // Wider than the frame by a marker's radius, so a dot on the left or right edge (the
  // last epoch's) is drawn whole; marks cannot leave the plot vertically.
  out.push(el('clipPath', { id: clipId }, el('rect', { x: span.left - 4, y: panel.top, width: span.width + 8, height: h })));
  const title = ellipsize(panel.title, 13, span.width);
  out.push(el('text', { x: span.left, y: panel.y0 + 15, 'font-size': 13, 'font-weight': 'bold', fill: COLOR.text }, text(title)));
  out.push(legendRow(content.legend, right, panel.y0 + 15, span.left + textWidth(title, 13) + 16));

  const { y, yPixel } = content;
  const grid: string[] = [];
  for (const t of y.ticks) {
    const py = yPixel(t);
    if (py < panel.top - 0.5 || py > panel.bottom + 0.5) continue;
    grid.push(el('line', { x1: span.left, x2: right, y1: py, y2: py, stroke: COLOR.grid }));
  }
  for (const px of content.xGrid) grid.push(el('line', { x1: px, x2: px, y1: panel.top, y2: panel.bottom, stroke: COLOR.grid }));
  out.push(el('g', { class: 'grid' }, ...grid));

  const labels = y.ticks.flatMap((t, i) => {
    const py = yPixel(t);
    if (py < panel.top - 0.5 || py > panel.bottom + 0.5) return [];
    return [el('text', { x: span.left - 6, y: py + 4, 'text-anchor': 'end', 'font-size': 11, fill: COLOR.text }, text(y.labels[i]!))];
  });
  out.push(el('g', { class: 'y-axis' }, ...labels));
  out.push(...content.underlay);

  out.push(el('g', { 'clip-path': `url(#${clipId})` }, ...content.marks));
  content.notes.forEach((note, i) => {
    out.push(
      el(
        'text',
        {
          x: span.left + span.width / 2,
          y: panel.top + h / 2 + (i - (content.notes.length - 1) / 2) * 16 + 4,
          'text-anchor': 'middle',
          'font-size': 12,
          'font-style': 'italic',
          fill: COLOR.muted,
          class: 'note',
        },
        text(ellipsize(note, 12, span.width - 16)),
      ),
    );
  });
  out.push(el('rect', { x: span.left, y: panel.top, width: span.width, height: h, fill: 'none', stroke: COLOR.frame }));
  return el('g', { class: 'panel', id: `panel-${panel.id}` }, ...out);
}

/**
 * A run chart's panel: the frame around its curves, with the epoch boundaries, lr-drop
 * and NaN lines that run through every panel.
 */
export function panelFrame(
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
  const underlay = runEventLines(panel, xPixel, epochLines, curves);
  return frame(panel, FULL_SPAN, { xGrid: x.ticks.map(xPixel), y, yPixel, legend, underlay, marks: curvesMarkup, notes });
}

/** The epoch boundaries, lr-drop lines and NaN lines through one panel of a run chart. */
function runEventLines(panel: Placed, xPixel: (s: number) => number, epochLines: number[], curves: Curves): string[] {
  const right = LEFT + PLOT_W;
  const out: string[] = [];
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
  return out;
}
