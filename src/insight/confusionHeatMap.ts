import { el, svgDocument, text, textWidth } from '../report/svg.js';

/**
 * The confusion matrix as a heat map: rows are the true classes, columns the predicted
 * ones, each cell shaded by its share of the row (so a class's recall reads along its
 * row whatever its size) and labelled with its count. Class names label both axes.
 */
export function confusionHeatMap(confusion: readonly (readonly number[])[], names: readonly string[]): string {
  const K = confusion.length;
  const cell = K > 20 ? 18 : 36;
  const label = Math.min(160, Math.max(...names.map((n) => textWidth(n, 12))) + 10);
  const left = label + 24;
  const top = label + 24;
  const size = cell * K;
  const parts: string[] = [
    el('text', { x: left + size / 2, y: 14, 'text-anchor': 'middle', 'font-size': 12 }, text('predicted class')),
    el(
      'text',
      { x: 12, y: top + size / 2, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 12 ${top + size / 2})` },
      text('true class'),
    ),
  ];
  for (let k = 0; k < K; k++) {
    const name = names[k]!;
    parts.push(el('text', { x: left - 6, y: top + k * cell + cell / 2 + 4, 'text-anchor': 'end', 'font-size': 12 }, text(name)));
    const cx = left + k * cell + cell / 2;
    parts.push(el('text', { x: cx, y: top - 6, 'font-size': 12, transform: `rotate(-60 ${cx} ${top - 6})` }, text(name)));
  }
  for (const [t, row] of confusion.entries()) {
    const total = row.reduce((a, b) => a + b, 0);
    for (const [p, count] of row.entries()) {
      const share = total > 0 ? count / total : 0;
      // white → dark blue as the share grows; the diagonal in the same scale
      const shade = (v: number) => Math.round(255 - share * (255 - v));
      const fill = `rgb(${shade(8)},${shade(69)},${shade(148)})`;
      const x = left + p * cell;
      const y = top + t * cell;
      parts.push(
        el('rect', {
          x,
          y,
          width: cell,
          height: cell,
          fill,
          stroke: '#ddd',
          class: 'cell',
          'data-true': t,
          'data-predicted': p,
          'data-count': count,
        }),
      );
      if (cell >= 30 && count > 0) {
        parts.push(
          el(
            'text',
            { x: x + cell / 2, y: y + cell / 2 + 4, 'text-anchor': 'middle', 'font-size': 11, fill: share > 0.5 ? '#fff' : '#222' },
            text(String(count)),
          ),
        );
      }
    }
  }
  return svgDocument(left + size + 8, top + size + 8, { 'font-family': 'DejaVu Sans, Helvetica, Arial, sans-serif', class: 'confusion' }, ...parts);
}
