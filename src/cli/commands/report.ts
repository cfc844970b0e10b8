import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { reportJson } from '../../insight/reportJson.js';
import { reportPage } from '../../insight/reportPage.js';
import { runReport } from '../../insight/runReport.js';
import { type BackendChoice, selectKernels } from '../../tensor/backend.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { withIo } from '../../util/ioError.js';
import { readTargetSnapshot } from '../snapshotTarget.js';

export interface ReportCommandOptions {
  out?: string;
  split: 'test' | 'val';
  top: number;
  json?: true;
  backend?: BackendChoice;
  threads?: number;
}

export interface ReportResult {
  htmlFile: string;
  jsonFile?: string;
  warnings: string[];
}

/**
 * `dlt report <run-dir>`: report.html in the run directory (or --out), and with --json
 * report.json beside it. Both are written atomically once everything is computed, so a
 * failing report leaves the run directory as it was.
 */
export async function reportCommand(runDir: string, options: ReportCommandOptions): Promise<ReportResult> {
  if (!existsSync(runDir)) throw new InputError('no such run directory; give the folder dlt train printed on its first line', runDir);
  if (!withIo('read', runDir, () => statSync(runDir)).isDirectory()) {
    throw new InputError(
      "not a run directory: dlt report reads the run's metrics and summary beside its snapshot; give the folder dlt train printed",
      runDir,
    );
  }
  const snapshot = readTargetSnapshot(runDir, 'best');
  const report = runReport(runDir, snapshot, options, selectKernels(options.backend, options.threads));
  const htmlFile = options.out ?? path.join(runDir, 'report.html');
  if (!/\.html?$/i.test(htmlFile)) throw new InputError('--out must name an .html file', htmlFile);
  const html = await reportPage(report);
  writeFileAtomic(htmlFile, html);
  if (!options.json) return { htmlFile, warnings: report.warnings };
  const jsonFile = htmlFile.replace(/\.html?$/i, '.json');
  writeFileAtomic(jsonFile, reportJson(report));
  return { htmlFile, jsonFile, warnings: report.warnings };
}
