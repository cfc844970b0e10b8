import { COLOR, ellipsize, LEFT, RIGHT, WIDTH } from './chartLayout.js';
import { el, text } from './svg.js';

/**
 * The top of a chart, a run's or a sweep's: its <title> (`name`, read by screen readers
 * and shown by browsers), the white background, `height` tall, and the title and subtitle
 * lines, each cut with an ellipsis to the chart's width.
 */
export function chartHeading(name: string, title: string, subtitle: string, height: number): string[] {
  return [
    el('title', {}, text(name)),
    el('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#ffffff' }),
    el(
      'text',
      { x: LEFT, y: 26, 'font-size': 17, 'font-weight': 'bold', fill: COLOR.text, class: 'title' },
      text(ellipsize(title, 17, WIDTH - LEFT - RIGHT)),
    ),
    el('text', { x: LEFT, y: 46, 'font-size': 12, fill: COLOR.muted, class: 'subtitle' }, text(ellipsize(subtitle, 12, WIDTH - LEFT - RIGHT))),
  ];
}
