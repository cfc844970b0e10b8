import { el, svgDocument, text } from '../report/svg.js';
import type { CalibrationBin } from './calibration.js';

const SIZE = 260;
const LEFT = 48;
const TOP = 16;

/**
 * A reliability diagram: for each confidence bin, a bar as high as the accuracy of the
 * predictions whose confidence (top probability) fell in it, over the diagonal that a
 * perfectly calibrated model would follow. Bars below the diagonal are overconfidence.
 * Each bar's width is its bin; its count is written above it.
 */
export function reliabilityDiagram(bins: readonly CalibrationBin[], ece: number): string {
  const x = (p: number) => LEFT + p * SIZE;
  const y = (p: number) => TOP + (1 - p) * SIZE;
  const parts: string[] = [el('rect', { x: LEFT, y: TOP, width: SIZE, height: SIZE, fill: 'none', stroke: '#999' })];
  for (const bin of bins) {
    if (bin.count === 0) continue;
    const width = x(bin.hi) - x(bin.lo);
    parts.push(
      el('rect', {
        x: x(bin.lo) + 1,
        y: y(bin.accuracy),
        width: width - 2,
        height: y(0) - y(bin.accuracy),
        fill: '#1f78b4',
        class: 'bin',
        'data-count': bin.count,
      }),
      el(
        'text',
        { x: x(bin.lo) + width / 2, y: y(bin.accuracy) - 3, 'text-anchor': 'middle', 'font-size': 9, fill: '#555' },
        text(String(bin.count)),
      ),
    );
  }
  parts.push(el('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: '#e31a1c', 'stroke-dasharray': '4 3' }));
  for (const t of [0, 0.5, 1]) {
    parts.push(
      el('text', { x: x(t), y: y(0) + 14, 'text-anchor': 'middle', 'font-size': 11 }, text(String(t))),
      el('text', { x: LEFT - 6, y: y(t) + 4, 'text-anchor': 'end', 'font-size': 11 }, text(String(t))),
    );
  }
  parts.push(
    el('text', { x: x(0.5), y: y(0) + 30, 'text-anchor': 'middle', 'font-size': 12 }, text('confidence (top probability)')),
    el('text', { x: 12, y: y(0.5), 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 12 ${y(0.5)})` }, text('accuracy')),
    el('text', { x: x(0) + 6, y: TOP + 14, 'font-size': 12 }, text(`ECE ${(100 * ece).toFixed(2)}%`)),
  );
  return svgDocument(
    LEFT + SIZE + 12,
    TOP + SIZE + 40,
    { 'font-family': 'DejaVu Sans, Helvetica, Arial, sans-serif', class: 'reliability' },
    ...parts,
  );
}
