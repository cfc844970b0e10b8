/**
 * The HTML page of `dlt plot <sweep-dir>`: the sweep chart inlined, what the sweep was,
 * and every trial in the leaderboard's order (ended trials best first, then those that
 * have not ended). Like the run's page, one file that loads nothing.
 */
import { describeParams, formatValue } from '../sweep/sweepFile.js';
import { factsTable, figure, htmlPage } from './page.js';
import { el, text } from './svg.js';
import { describeTrialCounts, type SweepPlotData, type SweepTrial } from './sweepData.js';

export function sweepPage(data: SweepPlotData, svg: string): string {
  const { record, best } = data;
  const facts: [string, string][] = [
    ['sweep', record.name],
    ['sweep file', record.sweep_file],
    ['base config', record.base],
    ['method', record.method === 'random' ? `random, seed ${record.seed}` : record.method],
    ['ranked by', `${record.metric.name} (${record.metric.goal})`],
    ['trials', describeTrialCounts(data.trials)],
  ];
  if (best !== null && best.score !== null) {
    facts.push(
      ['best trial', `${best.name}: ${best.score.toFixed(4)} at epoch ${best.scoreEpoch ?? '?'}`],
      ['its parameters', describeParams(best.params)],
      ['its run directory', best.runDir],
    );
  }

  const keys = data.parameters.map((p) => p.key);
  const byId = new Map(data.trials.map((t) => [t.id, t]));
  const ended = data.ranked.flatMap((row) => byId.get(row.id) ?? []);
  const unended = data.trials.filter((t) => t.status === 'unended');
  const head = el('tr', {}, ...['#', 'trial', 'status', record.metric.name, 'epoch', ...keys].map((h) => el('th', {}, text(h))));
  const row = (t: SweepTrial, place: string) => {
    const cells = [
      place,
      t.name,
      t.status === 'unended' ? 'not ended' : t.status,
      t.score === null ? '-' : t.score.toFixed(4),
      String(t.scoreEpoch ?? '-'),
    ];
    cells.push(...keys.map((k) => (k in t.params ? formatValue(t.params[k]) : '')));
    return el('tr', { class: t === best ? 'best' : undefined }, ...cells.map((c) => el('td', {}, text(c))));
  };
  const rows = [...ended.map((t, i) => row(t, String(i + 1))), ...unended.map((t) => row(t, '-'))];

  return htmlPage(`${data.title}: sweep`, [
    figure(svg),
    el('h2', {}, text('Sweep')),
    factsTable(facts),
    el('h2', {}, text('Trials')),
    el('table', { class: 'trials' }, head, ...rows),
    el(
      'p',
      { class: 'made' },
      text('Drawn by dlt plot from the sweep directory\u2019s sweep.yaml and results.jsonl, and each trial\u2019s metrics.jsonl.'),
    ),
  ]);
}
