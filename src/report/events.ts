/**
 * The chart's events, lr drops and NaNs: each described in a sentence, for the list under
 * the chart and for the HTML page's table.
 */

import { NAN_ROLLBACK_REASON } from '../train/metrics.js';
import { COLOR, EVENT_LINE, ellipsize, LEFT, PLOT_W } from './chartLayout.js';
import type { Curves } from './curves.js';
import { formatNumber } from './scale.js';
import { el, num, text } from './svg.js';

/** An lr drop or NaN event, placed on the step axis, with its description. */
export interface ChartEvent {
  kind: 'lr_drop' | 'nan';
  epoch: number;
  step: number;
  description: string;
}

export function describeEvents(curves: Curves): ChartEvent[] {
  const rollbackDrops = curves.drops.filter((d) => d.record.reason === NAN_ROLLBACK_REASON);
  const events: ChartEvent[] = [
    ...curves.drops.map(({ record: d, step }) => ({
      kind: 'lr_drop' as const,
      epoch: d.epoch,
      step,
      description:
        d.reason === NAN_ROLLBACK_REASON
          ? `lr drop at step ${step}, after a NaN (on_nan: rollback): ${formatNumber(d.from)} → ${formatNumber(d.to)}`
          : `lr drop after epoch ${d.epoch} (step ${step}): ${formatNumber(d.from)} → ${formatNumber(d.to)}, ${d.reason}`,
    })),
    ...curves.nans.map((n) => {
      // The rate after the rollback comes from the lr_drop record it wrote (logs older than that record have none).
      const drop = rollbackDrops.find((d) => d.step === n.step)?.record;
      const rolledBack = drop
        ? `rolled back to the last snapshot, the learning rate ${formatNumber(drop.from)} → ${formatNumber(drop.to)}`
        : 'rolled back to the last snapshot';
      return {
        kind: 'nan' as const,
        epoch: n.epoch,
        step: n.step,
        description:
          `the loss became ${n.loss === null ? 'NaN' : formatNumber(n.loss)} at epoch ${n.epoch}, step ${n.step} (lr ${formatNumber(n.lr)}): ` +
          (n.action === 'rollback' ? rolledBack : 'training stopped'),
      };
    }),
  ];
  // by step; at equal steps drops first (the order of the two lists), as the sort is stable
  return events.sort((a, b) => a.step - b.step);
}

export function eventList(events: ChartEvent[], shown: number, y: number): string {
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
