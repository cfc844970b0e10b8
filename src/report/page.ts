/**
 * The HTML page of `dlt plot`: the chart's SVG inlined (so the page is one file that
 * views anywhere, offline, even when moved away from plot.svg), the run's facts, and
 * every lr drop and NaN event in a table. No scripts, no external fonts or styles.
 * The page's shell, figure and facts table serve the sweep's page too (sweepPage.ts).
 */
import type { ChartEvent } from './events.js';
import { el, text } from './svg.js';

export interface PageInput {
  title: string;
  /** A standalone SVG document, as learningCurves returns it. */
  svg: string;
  facts: readonly [string, string][];
  events: readonly ChartEvent[];
}

const STYLE = [
  'body{margin:8px;font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;background:#fff}',
  'figure{margin:0}',
  'figure svg{display:block;max-width:100%;height:auto}',
  'h2{font-size:15px;margin:20px 0 6px}',
  'table{border-collapse:collapse;font-size:13px}',
  'th,td{text-align:left;padding:3px 12px 3px 0;vertical-align:top;border-bottom:1px solid #eee}',
  'th{font-weight:600}',
  'p.made{font-size:12px;color:#666}',
].join('');

export function plotPage(input: PageInput): string {
  const sections: string[] = [figure(input.svg)];
  if (input.facts.length > 0) sections.push(el('h2', {}, text('Run')), factsTable(input.facts));
  sections.push(el('h2', {}, text('Events')));
  if (input.events.length === 0) {
    sections.push(el('p', {}, text('No learning-rate drops and no NaN losses.')));
  } else {
    const head = el('tr', {}, el('th', {}, text('step')), el('th', {}, text('epoch')), el('th', {}, text('event')));
    const rows = input.events.map((e) =>
      el('tr', { class: e.kind }, el('td', {}, text(String(e.step))), el('td', {}, text(String(e.epoch))), el('td', {}, text(e.description))),
    );
    sections.push(el('table', { class: 'events' }, head, ...rows));
  }
  sections.push(el('p', { class: 'made' }, text('Drawn by dlt plot from the run directory\u2019s metrics.jsonl, config.yaml and summary.json.')));
  return htmlPage(input.title, sections);
}

/** The chart, inlined. The XML declaration is for the standalone file; inside HTML it is not allowed. */
export function figure(svg: string): string {
  return el('figure', {}, '\n', svg.replace(/^<\?xml[^>]*\?>\s*/, '').trimEnd(), '\n');
}

/** Label and value pairs as a two-column table. */
export function factsTable(facts: readonly [string, string][]): string {
  return el('table', { class: 'facts' }, ...facts.map(([k, v]) => el('tr', {}, el('th', {}, text(k)), el('td', {}, text(v)))));
}

/** A whole page around `sections` (markup already), with the plot pages' style. */
export function htmlPage(title: string, sections: readonly string[]): string {
  return (
    '<!DOCTYPE html>\n' +
    '<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${text(title)}</title>\n` +
    `<style>${STYLE}</style>\n` +
    '</head>\n<body>\n' +
    sections.join('\n') +
    '\n</body>\n</html>\n'
  );
}
