/** A curve of the chart: one SVG polyline, tagged with its series and panel for tests and styling. */
import { el, points } from './svg.js';

/** One series; `dots` adds a marker per point (epoch series have few points, each meaningful). */
export function polyline(series: string, xy: [number, number][], color: string, width: number, panel: string, dots = false): string {
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
