/**
 * dlt report: the page of a CNN run and of a CSV run. The numbers agree with dlt eval;
 * the page is self-contained (no address but the SVG namespace, no script, images as
 * data URIs); and headless Chromium draws every section: its border colour is found in
 * the screenshot, and the box beside it holds drawn pixels.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECTION_COLOURS, type SectionId } from '../src/insight/reportPage.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { addresses, decodePng, findChromium, type Image, NO_CHROMIUM } from './support/plotCheck.js';

const tmp = tempDir('dlt-report-');
afterAll(() => tmp.cleanup());

const TOP = 4;

const MINI = path.join(repoRoot, 'datasets', 'fashion-mnist-mini');

function train(config: string, overrides: string[] = []): string {
  const sets = ['training.epochs=1', ...overrides].flatMap((s) => ['--set', s]);
  const r = dlt(['train', path.join(repoRoot, 'configs', config), '--out', path.join(tmp.dir, 'runs'), ...sets], tmp.dir);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n')[0]!;
}

const runs: Record<string, string> = {};
/** fashion-cnn.yaml (two conv layers, 32 and 64 units), one epoch on the shipped Fashion-MNIST subset. */
const cnnRun = () =>
  (runs.cnn ??= train('fashion-cnn.yaml', [
    `data.train.images=${path.join(MINI, 'train-images-idx3-ubyte.gz')}`,
    `data.train.labels=${path.join(MINI, 'train-labels-idx1-ubyte.gz')}`,
    `data.test.images=${path.join(MINI, 't10k-images-idx3-ubyte.gz')}`,
    `data.test.labels=${path.join(MINI, 't10k-labels-idx1-ubyte.gz')}`,
  ]));
const csvRun = () => (runs.csv ??= train('penguins.yaml'));

function report(runDir: string, extra: string[] = []): { html: string; json: Record<string, unknown> } {
  const r = dlt(['report', runDir, '--top', String(TOP), '--json', ...extra], tmp.dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const [htmlFile, jsonFile] = r.stdout.trim().split('\n');
  expect(htmlFile).toBe(path.join(runDir, 'report.html'));
  expect(jsonFile).toBe(path.join(runDir, 'report.json'));
  return { html: readFileSync(htmlFile!, 'utf8'), json: JSON.parse(readFileSync(jsonFile!, 'utf8')) };
}

function sectionIds(html: string): string[] {
  return [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]!);
}

function evalJson(runDir: string): { accuracy: number; confusion: number[][] } {
  const r = dlt(['eval', runDir, '--json'], tmp.dir);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('dlt report', () => {
  it('a CNN run: every section, numbers that agree with dlt eval, top patches per unit, nothing fetched', () => {
    const runDir = cnnRun();
    const { html, json } = report(runDir);
    expect(sectionIds(html)).toEqual(['summary', 'filters', 'receptive-fields', 'confusion', 'mistakes', 'calibration']);
    expect(addresses(html).filter((a) => a !== 'http://www.w3.org/2000/svg')).toEqual([]);
    expect(html).not.toMatch(/<script|<link|@import|url\((?!#)/i); // url(#…) is an SVG clip path inside the page
    const images = [...html.matchAll(/<img src="([^"]*)"/g)].map((m) => m[1]!);
    // 32 filters, TOP patches for each live unit, 3·TOP mistakes
    expect(images.length).toBeGreaterThanOrEqual(32 + 3 * TOP);
    for (const src of images) expect(src).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    expect(html).toContain('conv2d_1: 32 units, receptive field 3×3 pixels');
    expect(html).toContain('conv2d_2: 64 units, receptive field 8×8 pixels');

    const evaluated = evalJson(runDir);
    expect(json.accuracy).toBe(evaluated.accuracy);
    expect(json.confusion).toEqual(evaluated.confusion);
    const perClass = json.per_class as { recall: number; support: number }[];
    for (const [k, row] of evaluated.confusion.entries()) {
      const total = row.reduce((a, b) => a + b, 0);
      expect(perClass[k]!.support).toBe(total);
      expect(perClass[k]!.recall).toBeCloseTo(row[k]! / total, 12);
    }
    const units = json.units as { layer: string; receptive_field: { size: number }; top: { sample: number; value: number }[][] }[];
    expect(units.map((u) => u.layer)).toEqual(['conv2d_1', 'conv2d_2']);
    // conv 3 (same) → relu → maxpool 2 → conv 3 (same): 3, then 3 + 1·1 = 4, then 4 + 2·2 = 8
    expect(units.map((u) => u.receptive_field.size)).toEqual([3, 8]);
    expect(units.map((u) => u.top.length)).toEqual([32, 64]);
    for (const patches of units.flatMap((u) => u.top)) {
      expect(patches.length).toBe(TOP);
      expect(new Set(patches.map((p) => p.sample)).size).toBe(TOP); // one patch per image
      for (let i = 1; i < patches.length; i++) expect(patches[i]!.value).toBeLessThanOrEqual(patches[i - 1]!.value);
    }
    const mistakes = json.mistakes as { label: number; predicted: number; probability: number }[];
    expect(mistakes).toHaveLength(3 * TOP);
    for (const m of mistakes) expect(m.predicted).not.toBe(m.label);
    for (let i = 1; i < mistakes.length; i++) expect(mistakes[i]!.probability).toBeLessThanOrEqual(mistakes[i - 1]!.probability);
    expect(json.ece).toBeGreaterThanOrEqual(0);
    expect(json.ece).toBeLessThanOrEqual(1);
  });

  it('a CSV run: no image sections; confusion, per-class table, mistakes as rows and calibration', () => {
    const runDir = csvRun();
    const { html, json } = report(runDir);
    expect(sectionIds(html)).toEqual(['summary', 'confusion', 'mistakes', 'calibration']);
    expect(html).not.toContain('<img');
    expect(html).toContain('Adelie');
    const evaluated = evalJson(runDir);
    expect(json.confusion).toEqual(evaluated.confusion);
    expect(json.units).toEqual([]);
  });

  it('refuses bad input with one message and leaves the run directory as it was', () => {
    const runDir = csvRun();
    const before = readdirSync(runDir).sort();
    expect(expectInputError(dlt(['report', path.join(tmp.dir, 'nowhere')], tmp.dir))).toMatch(/nowhere: no such run directory/);
    const snapshot = path.join(runDir, 'best.safetensors');
    expect(expectInputError(dlt(['report', snapshot], tmp.dir))).toMatch(/best\.safetensors: not a run directory/);
    expect(expectInputError(dlt(['report', runDir, '--out', path.join(tmp.dir, 'report.txt')], tmp.dir))).toMatch(/--out must name an \.html file/);
    expect(readdirSync(runDir).sort()).toEqual(before);
  });

  const chromium = findChromium();
  if (!chromium) console.warn(`test/report.test.ts: the headless Chromium check is skipped: ${NO_CHROMIUM}`);

  for (const [name, run, sections] of [
    ['CNN', cnnRun, ['summary', 'filters', 'receptive-fields', 'confusion', 'mistakes', 'calibration']],
    ['CSV', csvRun, ['summary', 'confusion', 'mistakes', 'calibration']],
  ] as const) {
    it.skipIf(!chromium)(
      `renders in headless Chromium (${name} run): every section's box holds drawn pixels${chromium ? '' : ` — skipped: ${NO_CHROMIUM}`}`,
      () => {
        const runDir = run();
        report(runDir);
        const image = screenshot(chromium!, path.join(runDir, 'report.html'));
        const boxes = sections.map((id) => ({ id, ...sectionBox(image, id) }));
        for (const { id, top, bottom } of boxes) {
          expect(bottom - top, `${id}: the height of its border`).toBeGreaterThan(60);
          // drawn (not white) pixels right of the border, within the section's rows
          expect(inked(image, top, bottom, 16, image.width), `${id}: drawn pixels`).toBeGreaterThan(2000);
        }
        for (let i = 1; i < boxes.length; i++) expect(boxes[i]!.top, 'sections in page order').toBeGreaterThan(boxes[i - 1]!.bottom);
      },
    );
  }
});

const WIDTH = 1280;
const HEIGHT = 12000;

/** A screenshot of the page, WIDTH × HEIGHT, in a throwaway Chromium profile. */
function screenshot(chromium: string, page: string): Image {
  const profile = mkdtempSync(path.join(tmpdir(), 'dlt-chromium-'));
  const png = path.join(profile, 'shot.png');
  try {
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--disable-background-networking',
        '--force-device-scale-factor=1',
        `--user-data-dir=${profile}`,
        `--window-size=${WIDTH},${HEIGHT}`,
        `--screenshot=${png}`,
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    return decodePng(readFileSync(png));
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The rows where the section's border colour runs down the page's left margin (x 8 to 14). */
function sectionBox(image: Image, id: SectionId): { top: number; bottom: number } {
  const want = [1, 3, 5].map((k) => parseInt(SECTION_COLOURS[id].slice(k, k + 2), 16));
  let top = -1;
  let bottom = -1;
  for (let y = 0; y < image.height; y++) {
    const at = (y * image.width + 10) * image.channels;
    if (want.every((c, k) => image.pixels[at + k] === c)) {
      if (top < 0) top = y;
      bottom = y + 1;
    }
  }
  expect(top, `${id}: its border colour ${SECTION_COLOURS[id]} in the screenshot`).toBeGreaterThanOrEqual(0);
  return { top, bottom };
}

/** Pixels in rows [top, bottom) and columns [left, right) that are not white. */
function inked(image: Image, top: number, bottom: number, left: number, right: number): number {
  let count = 0;
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const at = (y * image.width + x) * image.channels;
      if (image.pixels[at]! < 240 || image.pixels[at + 1]! < 240 || image.pixels[at + 2]! < 240) count++;
    }
  }
  return count;
}
