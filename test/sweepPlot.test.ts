/**
 * `dlt plot <sweep-dir>`: a small random sweep is run with the CLI, then plotted. The
 * SVG must hold one line per trial with the leaderboard's best one drawn apart, one panel
 * per swept parameter with one dot per finished trial at the right place on its axis (log,
 * categorical, linear), and the HTML page must embed it. A sweep still running (a trial
 * without a result, its log cut mid-line) and a damaged trial log still plot; a sweep
 * with no trial log is refused with one message. When a Chromium is installed, the page
 * is rendered headless and the screenshot checked for the colours inside their panels.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { addresses, allText, countColor, decodePng, findAll, findChromium, NO_CHROMIUM, parseXml, type XmlNode } from './support/plotCheck.js';

const tmp = tempDir('dlt-sweep-plot-');
afterAll(() => tmp.cleanup());

const BASE = `name: tiny
seed: 3
data:
  train: {format: spiral, classes: 3, points_per_class: 30, noise: 0.2}
  validation: {fraction: 0.25}
model:
  input: [2]
  layers:
    - {type: dense, units: 8}
    - relu
    - {type: dense, units: 3, init: xavier}
optimizer: {type: sgd, lr: 0.1}
training: {epochs: 3, batch_size: 16}
`;
// Seed 2's three draws take both optimizers and both batch sizes.
const SWEEP = `name: tiny-random
base: base.yaml
method: random
trials: 3
seed: 2
metric: {name: val_loss}
parameters:
  optimizer.lr: {min: 0.003, max: 0.3, scale: log}
  optimizer.type: {values: [sgd, adam]}
  training.batch_size: {values: [8, 32]}
`;
const KEYS = ['optimizer.lr', 'optimizer.type', 'training.batch_size'];

interface Result {
  id: number;
  status: string;
  params: Record<string, unknown>;
  metric: number | null;
}

function trialName(id: number): string {
  return `trial-${String(id).padStart(4, '0')}`;
}

function readResults(dir: string): Result[] {
  return readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Result);
}

/** The leaderboard's first trial, worked out here: the lowest val_loss of a finished trial, the lower id on ties. */
function bestOf(results: Result[]): number {
  const scored = results.filter((r) => r.status === 'finished' && r.metric !== null);
  scored.sort((a, b) => a.metric! - b.metric! || a.id - b.id);
  return scored[0]!.id;
}

/** A trial's val_loss per epoch, read from its metrics.jsonl. */
function valLosses(dir: string, id: number): number[] {
  return readFileSync(path.join(dir, 'trials', trialName(id), 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string; val_loss: number | null })
    .filter((r) => r.kind === 'epoch' && r.val_loss !== null)
    .map((r) => r.val_loss!);
}

function readSvg(file: string): XmlNode {
  expect(existsSync(file), `${file} was written`).toBe(true);
  return parseXml(readFileSync(file, 'utf8'));
}

function trialLines(svg: XmlNode): XmlNode[] {
  return findAll(svg, (n) => n.name === 'polyline' && n.attrs['data-panel'] === 'sweep-metric');
}

function pointsOf(line: XmlNode): [number, number][] {
  return line.attrs.points!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

function parameterPanel(svg: XmlNode, key: string): XmlNode {
  const panels = findAll(svg, (n) => n.attrs.class === 'parameter-panel' && n.attrs['data-param'] === key);
  expect(panels, `one panel for ${key}`).toHaveLength(1);
  return panels[0]!;
}

/** A panel's x tick labels: their text and x. */
function xTicks(panel: XmlNode): { label: string; x: number }[] {
  const axes = findAll(panel, (n) => n.attrs.class === 'x-axis');
  expect(axes, 'one x axis').toHaveLength(1);
  return axes[0]!.children.map((t) => ({ label: allText(t), x: Number(t.attrs.x) }));
}

function dots(panel: XmlNode): XmlNode[] {
  return findAll(panel, (n) => n.name === 'circle' && (n.attrs.class ?? '').split(' ').includes('trial-dot'));
}

// The sweep every test plots (or copies and changes first): 3 trials of 3 epochs.
tmp.write('base.yaml', BASE);
const sweep = dlt(['sweep', tmp.write('sweep.yaml', SWEEP), '--out', path.join(tmp.dir, 'sweeps'), '--backend', 'js', '--parallel', '2'], tmp.dir);
const dir = sweep.stdout.split('\n')[0]!;

describe('dlt plot on a finished sweep', () => {
  const plot = dlt(['plot', dir], tmp.dir);
  const svgFile = path.join(dir, 'plot.svg');
  const htmlFile = path.join(dir, 'plot.html');
  const results = sweep.code === 0 ? readResults(dir) : [];

  it('writes plot.svg and plot.html into the sweep directory and prints their paths', () => {
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(results.map((r) => r.status)).toEqual(['finished', 'finished', 'finished']);
    expect(plot.stderr).toBe('');
    expect(plot.code).toBe(0);
    expect(plot.stdout).toBe(`${svgFile}\n${htmlFile}\n`);
  });

  it('draws one line per trial, the best one thick and in its own colour, on top', () => {
    const svg = readSvg(svgFile);
    const lines = trialLines(svg);
    expect(lines.map((l) => l.attrs['data-series']).sort()).toEqual([1, 2, 3].map(trialName));
    const best = trialName(bestOf(results));
    const bestGroups = findAll(svg, (n) => n.attrs.class === 'best');
    expect(bestGroups).toHaveLength(1);
    expect(bestGroups[0]!.attrs['data-trial']).toBe(best);
    const bestLine = lines.find((l) => l.attrs['data-series'] === best)!;
    const others = lines.filter((l) => l !== bestLine);
    expect(lines[lines.length - 1]).toBe(bestLine); // drawn last, so over the others
    expect(new Set(others.map((l) => l.attrs.stroke)).size).toBe(1);
    expect(bestLine.attrs.stroke).not.toBe(others[0]!.attrs.stroke);
    expect(Number(bestLine.attrs['stroke-width'])).toBeGreaterThan(Number(others[0]!.attrs['stroke-width']));
    expect(allText(svg)).toContain(`best: ${best} (optimizer.lr=`);
  });

  it('puts one point per epoch on each line, a larger val_loss higher up, at the same x for the same epoch', () => {
    const svg = readSvg(svgFile);
    const all: { loss: number; y: number }[] = [];
    const xs: number[][] = [];
    for (const line of trialLines(svg)) {
      const id = Number(line.attrs['data-series']!.slice('trial-'.length));
      const losses = valLosses(dir, id);
      const points = pointsOf(line);
      expect(points).toHaveLength(losses.length);
      expect(losses.length).toBe(3);
      xs.push(points.map(([x]) => x));
      for (const [i, [, y]] of points.entries()) all.push({ loss: losses[i]!, y });
    }
    for (const epochXs of xs) expect(epochXs).toEqual(xs[0]);
    expect(xs[0]![1]! - xs[0]![0]!).toBeGreaterThan(100);
    for (const a of all) for (const b of all) if (a.loss > b.loss) expect(a.y).toBeLessThanOrEqual(b.y);
    const top = all.reduce((m, p) => (p.y < m.y ? p : m));
    expect(top.loss).toBe(Math.max(...all.map((p) => p.loss)));
  });

  it('draws one panel per swept key, with one dot per finished trial and the best dot marked', () => {
    const svg = readSvg(svgFile);
    const panels = findAll(svg, (n) => n.attrs.class === 'parameter-panel');
    expect(panels.map((p) => p.attrs['data-param'])).toEqual(KEYS);
    const best = trialName(bestOf(results));
    for (const key of KEYS) {
      const found = dots(parameterPanel(svg, key));
      expect(found.map((d) => d.attrs['data-trial']).sort(), key).toEqual([1, 2, 3].map(trialName));
      const marked = found.filter((d) => d.attrs.class === 'trial-dot best');
      expect(
        marked.map((d) => d.attrs['data-trial']),
        key,
      ).toEqual([best]);
      expect(marked[0]!.attrs.fill).not.toBe(found.find((d) => d !== marked[0])!.attrs.fill);
    }
    // the dots' heights follow the scores: a lower val_loss lower down
    const byTrial = new Map(dots(parameterPanel(svg, KEYS[0]!)).map((d) => [d.attrs['data-trial']!, Number(d.attrs.cy)]));
    for (const a of results)
      for (const b of results) if (a.metric! > b.metric!) expect(byTrial.get(trialName(a.id))!).toBeLessThan(byTrial.get(trialName(b.id))!);
  });

  it('gives a scale: log parameter a log axis, its dots at the logarithm of their values', () => {
    const panel = parameterPanel(readSvg(svgFile), 'optimizer.lr');
    expect(panel.attrs['data-axis']).toBe('log');
    expect(allText(panel)).toContain('optimizer.lr (log scale)');
    const ticks = xTicks(panel);
    expect(ticks.map((t) => t.label)).toEqual(['0.001', '0.01', '0.1', '1']);
    const decade = ticks[1]!.x - ticks[0]!.x;
    expect(decade).toBeGreaterThan(20);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.x - ticks[i - 1]!.x).toBeCloseTo(decade, 0);
    for (const d of dots(panel)) {
      const lr = results.find((r) => trialName(r.id) === d.attrs['data-trial'])!.params['optimizer.lr'] as number;
      expect(Number(d.attrs.cx)).toBeCloseTo(ticks[0]!.x + (Math.log10(lr) + 3) * decade, 0);
    }
  });

  it('gives a list of names a categorical axis, and a list of numbers a linear one', () => {
    const svg = readSvg(svgFile);
    const type = parameterPanel(svg, 'optimizer.type');
    expect(type.attrs['data-axis']).toBe('category');
    const names = xTicks(type);
    expect(names.map((t) => t.label)).toEqual(['sgd', 'adam']); // the sweep file's order
    for (const d of dots(type)) {
      const value = results.find((r) => trialName(r.id) === d.attrs['data-trial'])!.params['optimizer.type'];
      expect(Number(d.attrs.cx)).toBeCloseTo(names.find((t) => t.label === value)!.x, 1);
    }
    const batch = parameterPanel(svg, 'training.batch_size');
    expect(batch.attrs['data-axis']).toBe('linear');
    const ticks = xTicks(batch).map((t) => ({ value: Number(t.label), x: t.x }));
    const [t0, t1] = [ticks[0]!, ticks[ticks.length - 1]!];
    for (const d of dots(batch)) {
      const size = results.find((r) => trialName(r.id) === d.attrs['data-trial'])!.params['training.batch_size'] as number;
      expect(Number(d.attrs.cx)).toBeCloseTo(t0.x + ((size - t0.value) / (t1.value - t0.value)) * (t1.x - t0.x), 0);
    }
  });

  it('writes a page that embeds the chart, lists every trial and loads nothing', () => {
    expect([existsSync(htmlFile), existsSync(svgFile)]).toEqual([true, true]);
    const html = readFileSync(htmlFile, 'utf8');
    const svgText = readFileSync(svgFile, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(svgText.replace(/^<\?xml[^>]*\?>\s*/, '').trim());
    expect(addresses(html)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).not.toMatch(/<script|<link|<img|@import|@font-face|src=/i);
    const rows = [...html.matchAll(/<tr( class="best")?><td>(\d+)<\/td><td>(trial-\d{4})<\/td>/g)];
    expect(rows.map((m) => m[3])).toHaveLength(3);
    expect(rows[0]![1]).toBe(' class="best"');
    expect(rows[0]![3]).toBe(trialName(bestOf(results)));
  });

  it('--out chooses the files, with the same bytes', () => {
    const out = path.join(tmp.dir, 'elsewhere', 'sweep.svg');
    const r = dlt(['plot', dir, '--out', out], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${out}\n${path.join(tmp.dir, 'elsewhere', 'sweep.html')}\n`);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(svgFile, 'utf8'));
  });

  describe('while it runs, and with a damaged log', () => {
    it('draws a trial without a result (its last line cut short) as a line but gives it no dot', () => {
      const copy = path.join(tmp.dir, 'running');
      cpSync(dir, copy, { recursive: true });
      const removed = bestOf(results);
      const kept = results.filter((r) => r.id !== removed);
      writeFileSync(path.join(copy, 'results.jsonl'), kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
      appendFileSync(path.join(copy, 'trials', trialName(removed), 'metrics.jsonl'), '{"kind":"epoch","epo');
      const r = dlt(['plot', copy], tmp.dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const svg = readSvg(path.join(copy, 'plot.svg'));
      expect(trialLines(svg)).toHaveLength(3);
      expect(findAll(svg, (n) => n.attrs.class === 'best').map((g) => g.attrs['data-trial'])).toEqual([trialName(bestOf(kept))]);
      for (const key of KEYS)
        expect(
          dots(parameterPanel(svg, key))
            .map((d) => d.attrs['data-trial'])
            .sort(),
        ).toEqual(kept.map((k) => trialName(k.id)).sort());
      expect(allText(svg)).toContain('3 trials: 2 finished, 0 failed, 1 not ended');
    });

    it('leaves out a trial whose log is damaged, with a warning naming the line', () => {
      const copy = path.join(tmp.dir, 'damaged');
      cpSync(dir, copy, { recursive: true });
      const log = path.join(copy, 'trials', trialName(2), 'metrics.jsonl');
      writeFileSync(log, `not json\n${readFileSync(log, 'utf8')}`);
      const r = dlt(['plot', copy], tmp.dir);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(
        `warning: ${log}:1:1: not a JSON object (${jsonError('not json')}); each line of metrics.jsonl must be one record such as {"kind":"step",...}; this trial is left out of the chart\n`,
      );
      expect(
        trialLines(readSvg(path.join(copy, 'plot.svg')))
          .map((l) => l.attrs['data-series'])
          .sort(),
      ).toEqual([trialName(1), trialName(3)]);
    });
  });
});

/** The message JSON.parse gives for `text` (it differs between Node versions). */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${text} parsed`);
}

describe('dlt plot on a sweep with nothing to draw yet', () => {
  it('refuses a sweep directory whose trials have logged no epoch, with one message', () => {
    const fresh = path.join(tmp.dir, 'fresh');
    mkdirSync(path.join(fresh, 'trials', trialName(1)), { recursive: true });
    expect(sweep.code).toBe(0);
    cpSync(path.join(dir, 'sweep.yaml'), path.join(fresh, 'sweep.yaml'));
    writeFileSync(path.join(fresh, 'trials', trialName(1), 'metrics.jsonl'), ''); // a trial that has just started
    const message = expectInputError(dlt(['plot', fresh], tmp.dir));
    expect(message).toBe(
      `error: ${fresh}: no trial has logged val_loss yet (trials/*/metrics.jsonl has no epoch with it): nothing to plot; try again once a trial has finished its first epoch\n`,
    );
    expect(existsSync(path.join(fresh, 'plot.svg'))).toBe(false);
  });
});

const chromium = findChromium();

describe('dlt plot on a sweep, in headless Chromium', () => {
  // The default reporter does not name skipped tests; say why on stderr as well.
  if (!chromium) console.warn(`test/sweepPlot.test.ts: the headless Chromium check is skipped: ${NO_CHROMIUM}`);

  it.skipIf(!chromium)(
    `renders the page: the screenshot shows the lines and the dots inside their panels${chromium ? '' : ` — skipped: ${NO_CHROMIUM}`}`,
    () => {
      expect(dlt(['plot', dir], tmp.dir).code).toBe(0);
      const svg = readSvg(path.join(dir, 'plot.svg'));
      const png = path.join(tmp.dir, 'sweep-shot.png');
      const shoot = () => {
        const r = spawnSync(path.join(repoRoot, 'scripts', 'plot-screenshot.sh'), [dir, png], { encoding: 'utf8', timeout: 180_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim().split('\n').pop()).toBe(png);
        const shot = decodePng(readFileSync(png));
        expect(shot.width).toBe(Number(svg.attrs.width) + 16);
        expect(shot.height).toBe(Number(svg.attrs.height) + 16);
        return shot;
      };

      // A panel's plot area on the screenshot: its clip rectangle, offset by the page's
      // 8-pixel margin, less 6 pixels each side, so the grey frame's anti-aliased edge
      // (close to the muted colours) is not counted.
      // The best trial's orange is nowhere near the frame's grey, so its dot is counted over
      // the whole clip (`inset` 0): a dot at the end of an axis lies half on the edge.
      const area = (id: string, inset = 6) => {
        const clips = findAll(svg, (n) => n.name === 'clipPath' && n.attrs.id === `clip-${id}`);
        expect(clips, `the clip of ${id}`).toHaveLength(1);
        const clip = clips[0]!.children[0]!.attrs;
        const [x, y, w, h] = [clip.x, clip.y, clip.width, clip.height].map(Number) as [number, number, number, number];
        return { left: x + 8 + inset, top: y + 8 + 2, right: x + w + 8 - inset, bottom: y + h + 8 - 2 };
      };
      // The colours, from the SVG: the best line's, the others' (one colour), the other dots'.
      const bestTrial = trialName(bestOf(readResults(dir)));
      const strokes = (best: boolean) =>
        new Set(trialLines(svg).flatMap((l) => ((l.attrs['data-series'] === bestTrial) === best ? [l.attrs.stroke] : [])));
      const fills = new Set(
        KEYS.flatMap((key) => dots(parameterPanel(svg, key)).flatMap((d) => (d.attrs.class === 'trial-dot' ? [d.attrs.fill] : []))),
      );
      expect([strokes(true).size, strokes(false).size, fills.size]).toEqual([1, 1, 1]);
      const [best, muted, dot] = [...strokes(true), ...strokes(false), ...fills] as [string, string, string];

      // Three times in whole-suite runs under load, headless Chromium wrote a screenshot
      // with the curves painted and none of the dots' colours in the panels below: a frame
      // captured before the lower part was painted. A chart with a misplaced dot still has
      // the other colours in each panel, so only a panel without any of them is taken for
      // such a frame, and the screenshot taken again (three tries in all).
      const unpainted = (shot: ReturnType<typeof decodePng>) =>
        KEYS.some((_, i) => {
          const panel = area(`parameter-${i + 1}`, 0);
          return [best, dot].every((color) => countColor(shot, color, panel.top, panel.bottom, panel.left, panel.right) === 0);
        });
      let image = shoot();
      for (let retry = 1; retry < 3 && unpainted(image); retry++) {
        console.warn(`test/sweepPlot.test.ts: a parameter panel of the screenshot was not painted; taking it again (try ${retry + 1} of 3)`);
        image = shoot();
      }
      const count = (color: string, a: ReturnType<typeof area>) => countColor(image, color, a.top, a.bottom, a.left, a.right);
      const curves = area('sweep-metric');
      expect(count(best, curves), 'the best line').toBeGreaterThanOrEqual(500);
      expect(count(muted, curves), 'the other lines').toBeGreaterThanOrEqual(500);
      for (const [i, key] of KEYS.entries()) {
        expect(count(best, area(`parameter-${i + 1}`, 0)), `the best dot of ${key}`).toBeGreaterThanOrEqual(30);
        expect(count(dot, area(`parameter-${i + 1}`)), `the other dots of ${key}`).toBeGreaterThanOrEqual(20);
      }
      // between the two sections there is only text: no line or dot strays there
      const firstParameter = area('parameter-1');
      expect(countColor(image, best, curves.bottom + 1, firstParameter.top - 30)).toBe(0);
    },
  );
});
