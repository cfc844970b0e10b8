/**
 * What every panel of the chart draws around its curves: the frame, the grid and tick
 * labels, the epoch boundaries, the lr-drop and NaN lines, the legend row and notes.
 */
import { COLOR, ellipsize, LEFT, PLOT_W, type Placed } from './chartLayout.js';
import type { Curves } from './curves.js';
import { type LegendItem, legendRow } from './legend.js';
import type { Scale } from './scale.js';
import { el, text, textWidth } from './svg.js';

/**
 * A panel's frame, grid, tick labels, epoch boundaries, event lines, curves (clipped
 * to the plot), legend and notes.
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
