import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { learningCurves } from '../../report/learningCurves.js';
import { readMetricsFile } from '../../report/metricsFile.js';
import { plotPage } from '../../report/page.js';
import { readRunInfo } from '../../report/runInfo.js';
import { sweepChart } from '../../report/sweepChart.js';
import { readSweepPlotData } from '../../report/sweepData.js';
import { sweepPage } from '../../report/sweepPage.js';
import { SweepDirectory } from '../../sweep/sweepDirectory.js';
import { RunDirectory } from '../../train/runDirectory.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';

export interface PlotCommandOptions {
  /** A .svg or .html file (the other is written beside it, same name), or a folder; default the run or sweep directory. */
  out?: string;
}

export interface PlotResult {
  svgFile: string;
  htmlFile: string;
  /** Things the user should know that did not stop the plot. */
  warnings: string[];
}

/**
 * `dlt plot <run-dir>`: learning curves from the run's metrics.jsonl as plot.svg and
 * plot.html (the SVG inlined). `dlt plot <sweep-dir>` (a folder with a sweep.yaml): the
 * sweep chart instead. Both files are written atomically, and only ever under names
 * ending in .svg or .html, so plotting a run or a sweep — even one still training —
 * never touches its other files.
 */
export function plotCommand(folder: string, options: PlotCommandOptions = {}): PlotResult {
  return SweepDirectory.isSweepDirectory(folder) ? plotSweep(folder, options) : plotRun(folder, options);
}

/** A run's learning curves, from its metrics.jsonl (and config.yaml and summary.json for the facts). */
function plotRun(runDir: string, options: PlotCommandOptions): PlotResult {
  const dir = RunDirectory.at(runDir);
  if (!existsSync(dir.metricsFile) && !existsSync(dir.configFile)) {
    throw new InputError(
      'not a run directory: it has neither metrics.jsonl nor config.yaml; give the folder dlt train printed on its first line',
      runDir,
    );
  }
  const { metricsFile } = dir;
  const metrics = readMetricsFile(metricsFile);
  const epochsDone = metrics.records.reduce((done, r) => (r.kind === 'epoch' ? Math.max(done, r.epoch) : done), 0);
  const info = readRunInfo(dir, epochsDone);
  const title = path.basename(path.resolve(runDir));
  const chart = learningCurves({ title, subtitle: info.subtitle, records: metrics.records, hasValidationSplit: info.hasValidationSplit });
  const html = plotPage({ title: `${title}: learning curves`, svg: chart.svg, facts: info.facts, events: chart.events });

  const { svgFile, htmlFile } = writePlot(chart.svg, html, dir.plotFiles, options.out);
  const warnings = [...info.warnings];
  if (metrics.partialLastLine) warnings.push(`${metricsFile}: the last line is incomplete (a run still writing it?); plotted the lines before it`);
  if (metrics.unknownKinds.length > 0)
    warnings.push(`${metricsFile}: skipped records of kinds this dlt does not know: ${metrics.unknownKinds.join(', ')}`);
  return { svgFile, htmlFile, warnings };
}

/** The sweep chart, from sweep.yaml, results.jsonl and every trial's metrics.jsonl (src/report/sweepData.ts). */
function plotSweep(root: string, options: PlotCommandOptions): PlotResult {
  const dir = SweepDirectory.open(root);
  const data = readSweepPlotData(dir);
  const chart = sweepChart(data);
  const files = writePlot(chart.svg, sweepPage(data, chart.svg), dir.plotFiles, options.out);
  return { ...files, warnings: data.warnings };
}

/** Write the chart and its page where --out says, else to `defaults`. */
function writePlot(
  svg: string,
  html: string,
  defaults: { svg: string; html: string },
  out: string | undefined,
): { svgFile: string; htmlFile: string } {
  const { svgFile, htmlFile } = outputFiles(defaults, out);
  mkdirSync(path.dirname(svgFile), { recursive: true });
  writeFileAtomic(svgFile, svg);
  writeFileAtomic(htmlFile, html);
  return { svgFile, htmlFile };
}

/**
 * --out: `x.svg` or `x.html` names one of the pair and the other goes beside it with
 * the same stem; anything else is a folder (created when missing) that receives
 * plot.svg and plot.html.
 */
function outputFiles(defaults: { svg: string; html: string }, out: string | undefined): { svgFile: string; htmlFile: string } {
  if (out === undefined) return { svgFile: defaults.svg, htmlFile: defaults.html };
  const target = out;
  const ext = path.extname(target).toLowerCase();
  if (ext === '.svg' || ext === '.html' || ext === '.htm') {
    if (existsSync(target) && statSync(target).isDirectory()) {
      throw new InputError('--out names a folder whose name ends in .svg or .html; give a file name, or another folder', target);
    }
    const stem = target.slice(0, target.length - ext.length);
    return ext === '.svg' ? { svgFile: target, htmlFile: `${stem}.html` } : { svgFile: `${stem}.svg`, htmlFile: target };
  }
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new InputError('--out names an existing file that is not .svg or .html; give a folder, or a file name ending in .svg or .html', target);
  }
  return { svgFile: path.join(target, 'plot.svg'), htmlFile: path.join(target, 'plot.html') };
}
