/** The legend row in each panel's header: a swatch and a label per curve, or a note in italics. */
import { COLOR } from './chartLayout.js';
import { el, num, text, textWidth } from './svg.js';

export interface LegendItem {
  label: string;
  color: string;
  /** 'none': a note in the legend row, in italics, without a swatch. */
  mark: 'line' | 'thin' | 'dot' | 'triangle' | 'none';
}

/** Legend items laid out leftwards from `right`; items that would reach `minX` are dropped from the left end. */
export function legendRow(items: LegendItem[], right: number, baseline: number, minX: number): string {
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
