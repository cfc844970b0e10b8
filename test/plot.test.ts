/**
 * `dlt plot`: the SVG is well-formed XML whose curves carry exactly the records of
 * metrics.jsonl, in step order, with lr drops and NaN events marked; the HTML page
 * embeds it and references nothing on the network; bad run directories exit 2. When a
 * Chromium is installed, the page is rendered headless and the screenshot is checked
 * for the curves' colours inside their panels.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linearScale, logScale, niceStep } from '../src/report/scale.js';
import { el, escapeXml, text } from '../src/report/svg.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { addresses, allText, countColor, decodePng, findAll, findChromium, NO_CHROMIUM, parseXml, type XmlNode } from './support/plotCheck.js';

const tmp = tempDir('dlt-plot-');
afterAll(() => tmp.cleanup());

// ------------------------------------------------------------ reading the chart

function polyline(svg: XmlNode, series: string): [number, number][] {
  const lines = findAll(svg, (n) => n.name === 'polyline' && n.attrs['data-series'] === series);
  expect(lines, `one polyline for ${series}`).toHaveLength(1);
  return lines[0]!.attrs.points!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

function hasSeries(svg: XmlNode, series: string): boolean {
  return findAll(svg, (n) => n.name === 'polyline' && n.attrs['data-series'] === series).length > 0;
}

// ------------------------------------------------------------ a hand-made run

const REASON = 'step: epoch 1 is a multiple of 1 <& "so">';

/** A run of 3 epochs of 4 logged steps: a drop after epoch 1, a NaN rollback in epoch 2, no validation in epoch 3. */
function handMadeRecords(): object[] {
  const records: object[] = [];
  const loss = [1.2, 0.9, 1.0, 0.7, 0.6, 0.65, 0.4, 0.45, 0.3, 0.35, 0.25, 0.2];
  let k = 0;
  for (let epoch = 1; epoch <= 3; epoch++) {
    const lr = epoch === 1 ? 0.1 : 0.01;
    for (let s = 1; s <= 4; s++) {
      const step = (epoch - 1) * 8 + s * 2;
      records.push({ kind: 'step', epoch, step, loss: loss[k], loss_avg: loss[k]! + 0.05, lr });
      k++;
      if (epoch === 2 && s === 2) records.push({ kind: 'nan', epoch: 2, step: 13, loss: null, lr: 0.01, action: 'rollback' });
    }
    const val = epoch < 3 ? { val_loss: 1 / epoch, val_accuracy: 0.5 + 0.2 * epoch } : { val_loss: null, val_accuracy: null };
    records.push({ kind: 'epoch', epoch, step: epoch * 8, train_loss_avg: 0.5, ...val, lr, samples_per_s: 1000, seconds: 0.1 });
    if (epoch === 1) records.push({ kind: 'lr_drop', epoch: 1, from: 0.1, to: 0.01, reason: REASON });
  }
  return records;
}

function makeRun(
  name: string,
  records: object[],
  config = 'name: hand\ndata:\n  validation: {fraction: 0.2}\noptimizer: {type: sgd, lr: 0.1}\ntraining: {epochs: 3}\n',
): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.yaml'), config);
  writeFileSync(path.join(dir, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return dir;
}

describe('dlt plot on a hand-made run', () => {
  const records = handMadeRecords();
  const runDir = makeRun('hand-run', records);
  const before = Object.fromEntries(readdirSync(runDir).map((f) => [f, readFileSync(path.join(runDir, f))]));
  const r = dlt(['plot', runDir], tmp.dir);
  const svgText = existsSync(path.join(runDir, 'plot.svg')) ? readFileSync(path.join(runDir, 'plot.svg'), 'utf8') : '';
  const htmlText = existsSync(path.join(runDir, 'plot.html')) ? readFileSync(path.join(runDir, 'plot.html'), 'utf8') : '';
  const steps = records.filter((x) => (x as { kind: string }).kind === 'step') as { step: number; loss: number; loss_avg: number }[];

  it('writes plot.svg and plot.html into the run directory and touches nothing else', () => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${path.join(runDir, 'plot.svg')}\n${path.join(runDir, 'plot.html')}\n`);
    expect(readdirSync(runDir).sort()).toEqual([...Object.keys(before), 'plot.html', 'plot.svg'].sort()); // no temp files left
    for (const [f, bytes] of Object.entries(before)) expect(readFileSync(path.join(runDir, f)).equals(bytes), f).toBe(true);
  });

  it('writes well-formed XML with one svg root in the SVG namespace', () => {
    const svg = parseXml(svgText);
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(svg.attrs.width)).toBeGreaterThan(0);
    expect(allText(svg)).toContain('hand-run');
  });

  it('draws one point per record, in step order, higher losses higher up', () => {
    const svg = parseXml(svgText);
    const loss = polyline(svg, 'loss');
    const avg = polyline(svg, 'loss_avg');
    expect(loss).toHaveLength(steps.length);
    expect(avg).toHaveLength(steps.length);
    expect(polyline(svg, 'val_loss')).toHaveLength(2); // epoch 3 has no validation
    expect(polyline(svg, 'val_accuracy')).toHaveLength(2);
    for (const series of ['loss', 'loss_avg', 'val_loss', 'val_accuracy', 'lr']) {
      const xs = polyline(svg, series).map(([x]) => x);
      for (let i = 1; i < xs.length; i++) expect(xs[i]!, `${series} x[${i}]`).toBeGreaterThanOrEqual(xs[i - 1]!);
    }
    // x is linear in the step: the same slope between any two points
    const slope = (loss[loss.length - 1]![0] - loss[0]![0]) / (steps[steps.length - 1]!.step - steps[0]!.step);
    expect(slope).toBeGreaterThan(0);
    for (const [i, [x]] of loss.entries()) expect(Math.abs(x - loss[0]![0] - slope * (steps[i]!.step - steps[0]!.step))).toBeLessThan(0.15);
    // y: SVG y grows downwards, so a larger loss has a smaller y
    for (let i = 0; i < steps.length; i++) {
      for (let j = 0; j < steps.length; j++) {
        if (steps[i]!.loss > steps[j]!.loss) expect(loss[i]![1]).toBeLessThan(loss[j]![1]);
      }
    }
    // validation accuracy rises from 0.7 to 0.9: its second point is higher up
    const acc = polyline(svg, 'val_accuracy');
    expect(acc[1]![1]).toBeLessThan(acc[0]![1]);
  });

  it('marks the lr drop at the end of its epoch, with its reason, and the staircase steps down there', () => {
    const svg = parseXml(svgText);
    const drops = findAll(svg, (n) => n.name === 'g' && n.attrs.class === 'lr-drop');
    expect(drops).toHaveLength(1);
    expect(drops[0]!.attrs['data-epoch']).toBe('1');
    expect(drops[0]!.attrs['data-step']).toBe('8');
    expect(allText(drops[0]!)).toContain(REASON); // escaped in the file, intact once parsed
    expect(svgText).not.toContain(REASON);
    const dropX = polyline(svg, 'val_loss')[0]![0]; // epoch 1's record is at step 8 too
    const lr = polyline(svg, 'lr');
    const ys = [...new Set(lr.map(([, y]) => y))];
    expect(ys).toHaveLength(2); // 0.1, then 0.01
    const jump = lr.findIndex(([, y], i) => i > 0 && y !== lr[i - 1]![1]);
    expect(lr[jump]![0]).toBeCloseTo(dropX, 1);
    expect(lr[jump]![1]).toBeGreaterThan(lr[0]![1]); // a lower rate is further down
    const events = findAll(svg, (n) => n.attrs.class === 'event');
    expect(events.map((e) => e.attrs['data-kind'])).toEqual(['lr_drop', 'nan']);
  });

  it('marks the NaN rollback in every panel', () => {
    const svg = parseXml(svgText);
    const nans = findAll(svg, (n) => n.attrs.class === 'nan-event');
    expect(nans).toHaveLength(3);
    for (const n of nans) expect(n.attrs['data-step']).toBe('13');
    // A log from before rollbacks recorded their lr_drop: no factor is claimed.
    expect(allText(svg)).toContain('the loss became NaN at epoch 2, step 13 (lr 0.01): rolled back to the last snapshot');
    expect(allText(svg)).not.toMatch(/× ?0\.1/);
  });

  it('reads the rate a rollback set from its lr_drop record, and places that drop at the NaN', () => {
    const withDrop = handMadeRecords().flatMap((rec) =>
      (rec as { kind: string }).kind === 'nan' ? [rec, { kind: 'lr_drop', epoch: 2, from: 0.01, to: 0.001, reason: 'nan_rollback' }] : [rec],
    );
    const dir = makeRun('hand-rollback', withDrop);
    expect(dlt(['plot', dir], tmp.dir).code).toBe(0);
    const svg = parseXml(readFileSync(path.join(dir, 'plot.svg'), 'utf8'));
    expect(allText(svg)).toContain(
      'the loss became NaN at epoch 2, step 13 (lr 0.01): rolled back to the last snapshot, the learning rate 0.01 → 0.001',
    );
    const drops = findAll(svg, (n) => n.name === 'g' && n.attrs.class === 'lr-drop');
    expect(drops.map((d) => d.attrs['data-step'])).toEqual(['8', '13']);
  });

  it('references nothing on the network, and the page embeds the SVG', () => {
    expect(addresses(svgText)).toEqual(['http://www.w3.org/2000/svg']);
    expect(addresses(htmlText)).toEqual(['http://www.w3.org/2000/svg']);
    expect(htmlText).not.toMatch(/<script|<link|<img|@import|@font-face|src=/i);
    expect([...htmlText.matchAll(/url\(([^)]*)\)/g)].every((m) => m[1]!.startsWith('#'))).toBe(true);
    expect(htmlText.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(htmlText).toContain(svgText.replace(/^<\?xml[^>]*\?>\s*/, '').trim());
    expect(htmlText).not.toContain('<?xml');
    // the page's event table lists both events, the reason escaped
    expect(htmlText).toContain(escapeXml(REASON));
  });

  it('gives the same bytes every time, and --out chooses the files', () => {
    const asSvg = path.join(tmp.dir, 'out', 'curves.svg');
    expect(dlt(['plot', runDir, '--out', asSvg], tmp.dir).code).toBe(0);
    expect(readFileSync(asSvg, 'utf8')).toBe(svgText);
    expect(readFileSync(path.join(tmp.dir, 'out', 'curves.html'), 'utf8')).toBe(htmlText);
    const asHtml = path.join(tmp.dir, 'out2', 'page.html');
    expect(dlt(['plot', runDir, '--out', asHtml], tmp.dir).code).toBe(0);
    expect(existsSync(path.join(tmp.dir, 'out2', 'page.svg'))).toBe(true);
    const folder = path.join(tmp.dir, 'out3');
    const r3 = dlt(['plot', runDir, '--out', folder], tmp.dir);
    expect(r3.stdout).toBe(`${path.join(folder, 'plot.svg')}\n${path.join(folder, 'plot.html')}\n`);
    expect(readFileSync(path.join(folder, 'plot.svg'), 'utf8')).toBe(svgText);
  });
});

describe('dlt plot without validation or step records', () => {
  it('says on the chart that there is no validation split instead of drawing nothing', () => {
    const records = handMadeRecords().map((r) => ((r as { kind: string }).kind === 'epoch' ? { ...r, val_loss: null, val_accuracy: null } : r));
    const runDir = makeRun('no-val', records, 'name: noval\ndata: {train: {format: xor}}\ntraining: {epochs: 3}\n');
    expect(dlt(['plot', runDir], tmp.dir).code).toBe(0);
    const svg = parseXml(readFileSync(path.join(runDir, 'plot.svg'), 'utf8'));
    expect(hasSeries(svg, 'val_loss')).toBe(false);
    expect(hasSeries(svg, 'val_accuracy')).toBe(false);
    const notes = findAll(svg, (n) => n.attrs.class === 'note').map(allText);
    expect(notes).toEqual([expect.stringContaining('no validation split')]);
    expect(findAll(svg, (n) => n.attrs.class === 'legend-note').map(allText)).toEqual(['no validation split']);
  });

  it('draws the rolling average from the epoch records when no step was logged', () => {
    const records = handMadeRecords().filter((r) => (r as { kind: string }).kind !== 'step');
    const runDir = makeRun('no-steps', records);
    expect(dlt(['plot', runDir], tmp.dir).code).toBe(0);
    const svg = parseXml(readFileSync(path.join(runDir, 'plot.svg'), 'utf8'));
    expect(hasSeries(svg, 'loss')).toBe(false);
    expect(polyline(svg, 'loss_avg')).toHaveLength(3);
    expect(allText(svg)).toContain('rolling average at epoch ends');
  });

  it('switches the loss to a log scale when a diverging run spans many orders of magnitude', () => {
    const records = handMadeRecords().map((r) =>
      (r as { kind: string; step: number }).kind === 'step' && (r as { step: number }).step > 16 ? { ...r, loss: 1e30, loss_avg: 1e30 } : r,
    );
    const runDir = makeRun('diverged', records);
    expect(dlt(['plot', runDir], tmp.dir).code).toBe(0);
    const svg = parseXml(readFileSync(path.join(runDir, 'plot.svg'), 'utf8'));
    expect(allText(svg)).toContain('Loss (log scale)');
    // on a log scale the small early losses are still spread out, not squashed onto one row
    const ys = polyline(svg, 'loss')
      .slice(0, 4)
      .map(([, y]) => y);
    expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(1);
  });
});

describe('dlt plot: bad input exits 2 with one message', () => {
  it('refuses a missing folder, a file, and a folder that is not a run', () => {
    expect(expectInputError(dlt(['plot', path.join(tmp.dir, 'nowhere')], tmp.dir))).toMatch(/nowhere: no such run directory/);
    const file = tmp.write('some-file.txt', 'x');
    expect(expectInputError(dlt(['plot', file], tmp.dir))).toMatch(/not a run directory/);
    const empty = path.join(tmp.dir, 'empty-folder');
    mkdirSync(empty);
    expect(expectInputError(dlt(['plot', empty], tmp.dir))).toMatch(/not a run directory: it has neither metrics\.jsonl nor config\.yaml/);
  });

  it('refuses a run without metrics.jsonl, or with an empty one', () => {
    const noMetrics = path.join(tmp.dir, 'no-metrics');
    mkdirSync(noMetrics);
    writeFileSync(path.join(noMetrics, 'config.yaml'), 'name: x\n');
    expect(expectInputError(dlt(['plot', noMetrics], tmp.dir))).toMatch(/metrics\.jsonl: no metrics\.jsonl/);
    const empty = makeRun('empty-metrics', []);
    expect(expectInputError(dlt(['plot', empty], tmp.dir))).toMatch(/metrics\.jsonl: metrics\.jsonl has no records/);
    expect(existsSync(path.join(empty, 'plot.svg'))).toBe(false);
  });

  it('names the file, line and field of a malformed record', () => {
    const records = handMadeRecords();
    const badField = makeRun('bad-field', [records[0]!, records[1]!, { ...(records[2] as object), loss: 'high' }, records[3]!]);
    expect(expectInputError(dlt(['plot', badField], tmp.dir))).toContain(
      `${path.join(badField, 'metrics.jsonl')}:3:1: "loss" of a "step" record must be a number; found the string "high"`,
    );
    const missing = makeRun('missing-field', [records[0]!, { kind: 'lr_drop', epoch: 1, from: 0.1, to: 0.01 }]);
    expect(expectInputError(dlt(['plot', missing], tmp.dir))).toMatch(
      /metrics\.jsonl:2:1: "reason" of a "lr_drop" record must be a string; it is missing/,
    );
    const notJson = makeRun('not-json', [records[0]!]);
    writeFileSync(path.join(notJson, 'metrics.jsonl'), `${JSON.stringify(records[0])}\n{"kind":"step",\n${JSON.stringify(records[1])}\n`);
    expect(expectInputError(dlt(['plot', notJson], tmp.dir))).toMatch(/metrics\.jsonl:2:1: not a JSON object/);
    const array = makeRun('array-line', [records[0]!, [1, 2]]);
    expect(expectInputError(dlt(['plot', array], tmp.dir))).toMatch(/metrics\.jsonl:2:1: expected a JSON object, found an array/);
  });

  it('skips an unfinished last line (a run still writing it) with a warning', () => {
    const records = handMadeRecords();
    const runDir = makeRun('partial', records);
    writeFileSync(path.join(runDir, 'metrics.jsonl'), `${records.map((x) => `${JSON.stringify(x)}\n`).join('')}{"kind":"st`);
    const r = dlt(['plot', runDir], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: .*metrics\.jsonl: the last line is incomplete/);
  });

  it('refuses --out naming an existing file that is not .svg or .html', () => {
    const runDir = makeRun('out-clash', handMadeRecords());
    expect(expectInputError(dlt(['plot', runDir, '--out', path.join(runDir, 'metrics.jsonl')], tmp.dir))).toMatch(/--out names an existing file/);
    expect(readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')).toContain('"kind":"step"');
  });
});

// ------------------------------------------------------------ the pieces

describe('scales and SVG text', () => {
  it('picks nice steps and ticks', () => {
    expect([0.3, 0.2, 7, 0.011, 1].map(niceStep)).toEqual([0.5, 0.2, 10, 0.02, 1]);
    expect(linearScale(0, 1.07, 6, { extend: true }).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2]);
    expect(linearScale(0, 750, 8).ticks).toEqual([0, 100, 200, 300, 400, 500, 600, 700]);
    expect(linearScale(0, 12000, 6).labels).toEqual(['0', '2k', '4k', '6k', '8k', '10k', '12k']);
    expect(linearScale(0.72, 0.98, 4, { extend: true, clamp: [0, 1] }).labels).toEqual(['0.7', '0.8', '0.9', '1.0']);
    expect(linearScale(0, 3, 8, { minStep: 1 }).ticks).toEqual([0, 1, 2, 3]);
    const log = logScale(0.003, 0.3);
    expect(log.labels).toEqual(['0.001', '0.01', '0.1', '1']);
    expect(log.pixel(0.01, 100, 0)).toBeCloseTo(100 * (2 / 3), 9);
    expect(logScale(0.3, 0.3).labels).toEqual(['0.1', '0.2', '0.5', '1']);
    expect(logScale(1e-6, 1e-6).labels).toEqual(['1e-7', '1e-6', '1e-5']);
  });

  it('escapes text and attribute values', () => {
    expect(el('text', { 'data-x': 'a"b<c' }, text('x & <y>'))).toBe('<text data-x="a&quot;b&lt;c">x &amp; &lt;y&gt;</text>');
    expect(el('circle', { cx: 1.04, cy: -0.01, r: undefined })).toBe('<circle cx="1" cy="0"/>');
    expect(escapeXml('bell\u0007')).toBe('bell\ufffd');
  });
});

// ------------------------------------------------------------ a real run, and Chromium

const configText = `name: plot-spiral
seed: 5
data:
  train: {format: spiral, classes: 3, points_per_class: 40, noise: 0.1}
  validation: {fraction: 0.25}
model:
  input: [2]
  layers:
    - {type: dense, units: 16}
    - relu
    - {type: dense, units: 3, init: xavier}
optimizer: {type: sgd, lr: 0.2, momentum: 0.9}
schedule: {type: multistep, milestones: [2], factor: 0.1}
training: {epochs: 4, batch_size: 10, log_every: 3}
`;

const chromium = findChromium();

describe('dlt plot on a trained run', () => {
  const config = tmp.write('plot-spiral.yaml', configText);
  const train = dlt(['train', config, '--out', path.join(tmp.dir, 'runs')], tmp.dir);
  const runDir = train.stdout.split('\n')[0]!;
  const plot = dlt(['plot', runDir], tmp.dir);
  const svgText = plot.code === 0 ? readFileSync(path.join(runDir, 'plot.svg'), 'utf8') : '';

  it('plots every record the run wrote and its lr drop', () => {
    expect(train.code).toBe(0);
    expect(plot.stderr).toBe('');
    expect(plot.code).toBe(0);
    const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const svg = parseXml(svgText);
    const stepRecords = records.filter((r) => r.kind === 'step');
    expect(stepRecords.length).toBeGreaterThan(10);
    expect(polyline(svg, 'loss')).toHaveLength(stepRecords.length);
    expect(polyline(svg, 'val_accuracy')).toHaveLength(4);
    expect(findAll(svg, (n) => n.attrs.class === 'lr-drop').map((n) => n.attrs['data-epoch'])).toEqual(['2']);
    expect(allText(svg)).toContain('multistep: epoch 2 is a milestone');
  });

  // The default reporter does not name skipped tests; say why on stderr as well.
  if (!chromium) console.warn(`test/plot.test.ts: the headless Chromium check is skipped: ${NO_CHROMIUM}`);

  it.skipIf(!chromium)(
    `renders in headless Chromium: the screenshot shows each curve inside its panel${chromium ? '' : ` — skipped: ${NO_CHROMIUM}`}`,
    () => {
      const png = path.join(tmp.dir, 'shot.png');
      const r = spawnSync(path.join(repoRoot, 'scripts', 'plot-screenshot.sh'), [runDir, png], { encoding: 'utf8', timeout: 180_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').pop()).toBe(png);
      const image = decodePng(readFileSync(png));
      const svg = parseXml(svgText);
      // the window is the chart plus the page's 8-pixel margins
      expect(image.width).toBe(Number(svg.attrs.width) + 16);
      expect(image.height).toBe(Number(svg.attrs.height) + 16);

      // Each curve's colour must appear inside its own panel's plot area (the clip
      // rectangles in the SVG, offset by the page margin).
      const band = (panel: string) => {
        const clip = findAll(svg, (n) => n.name === 'clipPath' && n.attrs.id === `clip-${panel}`)[0]!.children[0]!.attrs;
        return { top: Number(clip.y) + 8, bottom: Number(clip.y) + Number(clip.height) + 8 };
      };
      const stroke = (series: string) => findAll(svg, (n) => n.name === 'polyline' && n.attrs['data-series'] === series)[0]!.attrs.stroke!;
      const checks: [string, string, number][] = [
        [stroke('loss_avg'), 'loss', 100],
        [stroke('val_loss'), 'loss', 50],
        [stroke('val_accuracy'), 'accuracy', 50],
        [stroke('lr'), 'lr', 100],
        ['#b15928', 'lr', 10], // the drop marker
      ];
      for (const [color, panel, atLeast] of checks) {
        const { top, bottom } = band(panel);
        expect(countColor(image, color, top, bottom), `${color} in the ${panel} panel`).toBeGreaterThanOrEqual(atLeast);
      }
      // and no curve colour outside the chart's panels and legends: below the axis there is only text
      expect(countColor(image, stroke('loss_avg'), band('lr').bottom + 40, image.height)).toBe(0);
    },
  );
});
