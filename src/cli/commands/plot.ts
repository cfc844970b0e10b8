import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { learningCurves } from '../../report/learningCurves.js';
import { readMetricsFile } from '../../report/metricsFile.js';
import { plotPage } from '../../report/page.js';
import { readRunInfo } from '../../report/runInfo.js';
import { RunDirectory } from '../../train/runDirectory.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';

export interface PlotCommandOptions {
  /** A .svg or .html file (the other is written beside it, same name), or a folder; default the run directory. */
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
 * plot.html (the SVG inlined). Both are written atomically, and only ever under names
 * ending in .svg or .html, so plotting a run — even one still training — never touches
 * its other files.
 */
export function plotCommand(runDir: string, options: PlotCommandOptions = {}): PlotResult {
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

  const { svgFile, htmlFile } = outputFiles(dir, options.out);
  mkdirSync(path.dirname(svgFile), { recursive: true });
  writeFileAtomic(svgFile, chart.svg);
  writeFileAtomic(htmlFile, html);

  const warnings = [...info.warnings];
  if (metrics.partialLastLine) warnings.push(`${metricsFile}: the last line is incomplete (a run still writing it?); plotted the lines before it`);
  if (metrics.unknownKinds.length > 0)
    warnings.push(`${metricsFile}: skipped records of kinds this dlt does not know: ${metrics.unknownKinds.join(', ')}`);
  return { svgFile, htmlFile, warnings };
}

/**
 * --out: `x.svg` or `x.html` names one of the pair and the other goes beside it with
 * the same stem; anything else is a folder (created when missing) that receives
 * plot.svg and plot.html.
 */
function outputFiles(dir: RunDirectory, out: string | undefined): { svgFile: string; htmlFile: string } {
  if (out === undefined) return { svgFile: dir.plotFiles.svg, htmlFile: dir.plotFiles.html };
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
