import { factsTable, figure } from '../report/page.js';
import { el, text } from '../report/svg.js';
import { isDead } from './activationScan.js';
import type { ClassMetrics } from './classMetrics.js';
import { confusionHeatMap } from './confusionHeatMap.js';
import { pngDataUris, type Tile } from './imageTiles.js';
import { reliabilityDiagram } from './reliabilityDiagram.js';
import type { RunReport } from './runReport.js';

/**
 * The sections of report.html, in page order, each a <section> whose id is its name
 * and whose left border has a colour of its own: a guide for the eye, and how the
 * screenshot test finds each section's box.
 */
export const SECTION_COLOURS = {
  summary: '#7b3294',
  filters: '#008837',
  'receptive-fields': '#e66101',
  confusion: '#0a6e8a',
  mistakes: '#c51b7d',
  calibration: '#4d9221',
} as const;
export type SectionId = keyof typeof SECTION_COLOURS;

/** Shown images are enlarged, without smoothing, by a whole factor: at least 3, and to at least this many pixels on their longer side. */
const MIN_SIDE = 48;

const STYLE = [
  'body{margin:8px;font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;background:#fff;max-width:1400px}',
  'h1{font-size:20px;margin:4px 0 12px}',
  'h2{font-size:17px;margin:0 0 8px}',
  'h3{font-size:14px;margin:14px 0 6px}',
  'section{border-left:6px solid;padding:2px 0 8px 12px;margin:0 0 20px}',
  ...Object.entries(SECTION_COLOURS).map(([id, colour]) => `section#${id}{border-left-color:${colour}}`),
  'figure{margin:0}',
  'figure svg{display:block;max-width:100%;height:auto}',
  'table{border-collapse:collapse;font-size:13px}',
  'th,td{text-align:left;padding:3px 12px 3px 0;vertical-align:top;border-bottom:1px solid #eee}',
  'td.n{text-align:right}',
  'th{font-weight:600}',
  'img{image-rendering:pixelated;display:block;background:#fff}',
  '.tiles{display:flex;flex-wrap:wrap;gap:6px}',
  '.tile{font-size:10px;color:#444;text-align:center}',
  '.tile figcaption{max-width:90px;overflow-wrap:anywhere}',
  'p.note{font-size:12px;color:#666}',
].join('');

/** report.html: one self-contained page (images inlined as PNG data URIs, no scripts, no requests). */
export async function reportPage(report: RunReport): Promise<string> {
  const images = new ImageBank();
  const sections = [
    summary(report),
    filters(report, images),
    receptiveFields(report, images),
    confusion(report),
    mistakes(report, images),
    calibration(report),
  ];
  const uris = await pngDataUris(images.tiles);
  const body = sections
    .filter((s) => s !== undefined)
    .join('\n')
    .replace(/@@image:(\d+)@@/g, (_, i: string) => uris[Number(i)]!);
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${text(`${report.title}: report`)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    `${el('h1', {}, text(`${report.title}: what the network learned`))}\n${body}\n` +
    el('p', { class: 'note' }, text(`Made by dlt report from ${report.snapshot}, on the ${report.split} split (${report.samples} samples).`)) +
    '\n</body>\n</html>\n'
  );
}

/** Tiles to encode once the page's markup is known; the markup holds a placeholder for each. */
class ImageBank {
  readonly tiles: Tile[] = [];
  img(tile: Tile, alt: string): string {
    this.tiles.push(tile);
    const zoom = Math.max(3, Math.ceil(MIN_SIDE / Math.max(tile.width, tile.height)));
    return el('img', { src: `@@image:${this.tiles.length - 1}@@`, width: tile.width * zoom, height: tile.height * zoom, alt });
  }
}

function section(id: SectionId, title: string, ...content: string[]): string {
  return el('section', { id }, el('h2', {}, text(title)), ...content);
}

function summary(r: RunReport): string {
  const head = el('tr', {}, ...['layer', 'output shape', 'parameters', 'receptive field'].map((h) => el('th', {}, text(h))));
  const rows = r.layers.map((l) =>
    el(
      'tr',
      {},
      el('td', {}, text(l.name)),
      el('td', {}, text(`[${l.outputShape.join(', ')}]`)),
      el('td', { class: 'n' }, text(l.params.toLocaleString('en-US'))),
      el('td', {}, text(l.field ? `${l.field.size}×${l.field.size} (stride ${l.field.jump})` : '')),
    ),
  );
  return section(
    'summary',
    'Summary',
    factsTable(r.facts),
    el('h3', {}, text('Layers')),
    el('table', { class: 'layers' }, head, ...rows),
    ...(r.curvesSvg ? [el('h3', {}, text('Learning curves')), figure(r.curvesSvg)] : []),
  );
}

/** The first conv layer's filters; for a network without one, the first dense layer's weight rows as images. */
function filters(r: RunReport, images: ImageBank): string | undefined {
  if (!r.filters) return undefined;
  const { layer, tiles, note } = r.filters;
  const shown = tiles.map((tile, k) =>
    el('figure', { class: 'tile' }, images.img(tile, `${layer} unit ${k}`), el('figcaption', {}, text(String(k)))),
  );
  return section(
    'filters',
    `Filters: ${layer}`,
    el('p', { class: 'note' }, text(`${note} Grey is zero; lighter is positive, darker negative, each filter on its own scale.`)),
    el('div', { class: 'tiles' }, ...shown),
  );
}

function receptiveFields(r: RunReport, images: ImageBank): string | undefined {
  if (!r.images || r.units.length === 0) return undefined;
  const { images: samples } = r;
  const parts: string[] = [
    el(
      'p',
      { class: 'note' },
      text(
        `For each unit (channel) of each conv layer, the ${r.top} images of the ${r.split} split that excite it most, cropped to the unit's receptive field at its strongest position; each labelled with the activation and the image's class.`,
      ),
    ),
  ];
  for (const units of r.units) {
    const dead: number[] = [];
    const rows: string[] = [];
    for (const [c, patches] of units.top.entries()) {
      if (isDead(patches)) {
        dead.push(c);
        continue;
      }
      const shown = patches.map((p) => {
        const tile = samples.patch(p.sample, units.field, p.y, p.x);
        const caption = `${p.value.toPrecision(3)} · ${r.classNames[r.labels[p.sample]!]}`;
        return el('figure', { class: 'tile' }, images.img(tile, caption), el('figcaption', {}, text(caption)));
      });
      rows.push(el('tr', {}, el('th', {}, text(`unit ${c}`)), el('td', {}, el('div', { class: 'tiles' }, ...shown))));
    }
    parts.push(el('h3', {}, text(`${units.layer}: ${units.channels} units, receptive field ${units.field.size}×${units.field.size} pixels`)));
    if (rows.length > 0) parts.push(el('table', { class: 'units' }, ...rows));
    if (dead.length > 0) {
      parts.push(el('p', { class: 'dead' }, text(`Dead (no positive activation on any of the ${r.samples} images): unit ${dead.join(', ')}.`)));
    }
  }
  return section('receptive-fields', 'Receptive fields: what excites each unit', ...parts);
}

function confusion(r: RunReport): string {
  const head = el('tr', {}, ...['class', 'precision', 'recall', 'F1', 'samples'].map((h) => el('th', {}, text(h))));
  const row = (name: string, m: ClassMetrics) =>
    el(
      'tr',
      {},
      el('td', {}, text(name)),
      ...[m.precision, m.recall, m.f1].map((v) => el('td', { class: 'n' }, text(fixed(v)))),
      el('td', { class: 'n' }, text(String(m.support))),
    );
  return section(
    'confusion',
    'Confusion',
    el(
      'p',
      {},
      text(
        `Accuracy ${fixed(r.accuracy)} on ${r.samples} ${r.split} samples. Rows are the true classes; each cell is shaded by its share of the row.`,
      ),
    ),
    figure(confusionHeatMap(r.confusion, r.classNames)),
    el('h3', {}, text('Per class')),
    el('table', { class: 'per-class' }, head, ...r.perClass.map((m, k) => row(r.classNames[k]!, m)), row('macro average', r.macro)),
  );
}

function mistakes(r: RunReport, images: ImageBank): string {
  const intro = el('p', { class: 'note' }, text(`The ${r.mistakes.length} wrong predictions the model was surest of.`));
  if (r.mistakes.length === 0) return section('mistakes', 'Most confident mistakes', el('p', {}, text(`No mistakes on the ${r.split} split.`)));
  const describe = (m: (typeof r.mistakes)[number]) =>
    `true ${r.classNames[m.label]}, predicted ${r.classNames[m.predicted]} (${fixed(m.probability)})`;
  if (!r.images) {
    const head = el('tr', {}, ...['sample', 'true class', 'predicted', 'probability'].map((h) => el('th', {}, text(h))));
    const rows = r.mistakes.map((m) =>
      el(
        'tr',
        {},
        el('td', {}, text(r.sampleName(m.sample))),
        el('td', {}, text(r.classNames[m.label]!)),
        el('td', {}, text(r.classNames[m.predicted]!)),
        el('td', { class: 'n' }, text(fixed(m.probability))),
      ),
    );
    return section('mistakes', 'Most confident mistakes', intro, el('table', { class: 'mistakes' }, head, ...rows));
  }
  const samples = r.images;
  const shown = r.mistakes.map((m) => {
    const tile = samples.whole(m.sample);
    return el('figure', { class: 'tile' }, images.img(tile, describe(m)), el('figcaption', {}, text(describe(m))));
  });
  return section('mistakes', 'Most confident mistakes', intro, el('div', { class: 'tiles' }, ...shown));
}

function calibration(r: RunReport): string {
  const head = el('tr', {}, ...['confidence', 'samples', 'mean confidence', 'accuracy'].map((h) => el('th', {}, text(h))));
  const rows = r.calibration.bins.map((b) =>
    el(
      'tr',
      {},
      el('td', {}, text(`${b.lo.toFixed(1)}–${b.hi.toFixed(1)}`)),
      el('td', { class: 'n' }, text(String(b.count))),
      el('td', { class: 'n' }, text(fixed(b.confidence))),
      el('td', { class: 'n' }, text(fixed(b.accuracy))),
    ),
  );
  return section(
    'calibration',
    'Calibration',
    el(
      'p',
      {},
      text(
        `Expected calibration error ${(100 * r.calibration.ece).toFixed(2)}%: the gap between confidence and accuracy, averaged over the bins by their share of the samples.`,
      ),
    ),
    figure(reliabilityDiagram(r.calibration.bins, r.calibration.ece)),
    el('table', { class: 'bins' }, head, ...rows),
  );
}

/** Four decimals, or a dash where the value is undefined (NaN). */
function fixed(v: number): string {
  return Number.isNaN(v) ? '—' : v.toFixed(4);
}
