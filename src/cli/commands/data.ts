import chalk from 'chalk';
import cliProgress from 'cli-progress';
import {
  CATALOG,
  type Candidate,
  cacheRoot,
  candidates,
  catalogEntry,
  DATASET_NAMES,
  type DatasetName,
  type LookupOptions,
} from '../../data/catalog.js';
import { type DownloadReporter, type FetchOptions, type FetchSummary, fetchDataset, formatBytes } from '../../data/fetch.js';

/**
 * `dlt data fetch <name>`: downloads a named dataset into the cache, verified against
 * its published checksums.
 * @throws InputError for an unknown name (exit 2); RunError when a download fails or a
 *   checksum does not match (exit 1).
 */
export async function dataFetchCommand(name: string, options: FetchOptions = {}): Promise<FetchSummary> {
  const entry = catalogEntry(name);
  const system = candidates(entry, { env: options.env }).find((c) => c.kind === 'system' && c.missing.length === 0);
  if (system) options.reporter?.info(`note: ${name} is also installed at ${system.dir}; the copy in the cache is used first`);
  return fetchDataset(entry, options);
}

/** A progress bar on a terminal, plain lines otherwise (SPEC §1). */
export function downloadReporter(): DownloadReporter {
  return process.stdout.isTTY ? new TtyDownloadReporter() : new PlainDownloadReporter();
}

/** What `dlt data list` shows for one dataset. */
export interface DataListRow {
  name: DatasetName;
  title: string;
  /** The place it was found, or undefined when it is missing everywhere. */
  found: Candidate | undefined;
  /** Every place looked at, in lookup order. */
  lookedIn: Candidate[];
}

export interface DataListResult {
  cacheDir: string;
  rows: DataListRow[];
}

/** `dlt data list`: each named dataset, whether it is present, and where. */
export function dataListCommand(options: LookupOptions = {}): DataListResult {
  const rows = DATASET_NAMES.map((name) => {
    const entry = CATALOG[name];
    const lookedIn = candidates(entry, options);
    return { name, title: entry.title, found: lookedIn.find((c) => c.missing.length === 0), lookedIn };
  });
  return { cacheDir: cacheRoot(options.env), rows };
}

/** The `--json` object: `{"cache_dir", "datasets": [{"name", "present", "location", "path", "looked_in"}]}`. */
export function dataListJson(r: DataListResult): object {
  return {
    cache_dir: r.cacheDir,
    datasets: r.rows.map((row) => ({
      name: row.name,
      title: row.title,
      present: row.found !== undefined,
      location: row.found?.kind ?? null,
      path: row.found?.dir ?? null,
      looked_in: row.lookedIn.map((c) => ({ path: c.dir, kind: c.kind, missing: c.missing })),
    })),
  };
}

/** A table of the datasets, then how to fetch the missing ones. */
export function dataListTable(r: DataListResult): string {
  const header = ['name', 'status', 'where', 'path'];
  const cells = r.rows.map((row) => [row.name, row.found ? 'present' : 'missing', row.found?.kind ?? '-', row.found?.dir ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  const lines = [`cache folder: ${r.cacheDir}`, '', line(header), ...cells.map(line)];
  const missing = r.rows.filter((row) => !row.found).map((row) => row.name);
  if (missing.length > 0) {
    lines.push('', `missing: ${missing.join(', ')}; fetch with ${missing.map((n) => `dlt data fetch ${n}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** The summary line after a fetch. */
export function fetchSummaryLine(s: FetchSummary): string {
  const downloaded = s.files.filter((f) => f.status === 'downloaded');
  const present = s.files.length - downloaded.length;
  const parts = [`${downloaded.length} downloaded (${formatBytes(downloaded.reduce((a, f) => a + f.bytes, 0))})`, `${present} already present`];
  if (s.unpacked > 0) parts.push(`${s.unpacked} files unpacked`);
  return `${s.name} is in ${s.dir}: ${parts.join(', ')}`;
}

/** One plain line per event: for pipes, CI and log files. */
export class PlainDownloadReporter implements DownloadReporter {
  start(label: string, url: string, total: number | undefined, from: number): void {
    const size = total !== undefined ? ` (${formatBytes(total)})` : '';
    const verb = from > 0 ? `resuming at byte ${from} of` : 'downloading';
    process.stdout.write(`${label}: ${verb} ${url}${size}\n`);
  }
  progress(_received: number): void {}
  stop(): void {}
  warn(message: string): void {
    process.stderr.write(`${chalk.yellow('warning:')} ${message}\n`);
  }
  info(message: string): void {
    process.stdout.write(`${message}\n`);
  }
}

/** A live progress bar per file on a terminal, with bytes, speed and ETA. */
export class TtyDownloadReporter extends PlainDownloadReporter {
  private bar: cliProgress.SingleBar | undefined;
  /** Where this transfer started (bytes already on disk) and when, for the speed. */
  private from = 0;
  private started = 0;

  override start(label: string, url: string, total: number | undefined, from: number): void {
    this.from = from;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} ${chalk.cyan('{bar}')} {percentage}% | {done} of {size} | {speed}/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    process.stdout.write(`${label}: ${from > 0 ? `resuming at byte ${from} of` : 'downloading'} ${url}\n`);
    // Without a size from the server the bar cannot fill; it still shows bytes and speed.
    this.bar.start(total ?? 0, from, { done: formatBytes(from), size: total !== undefined ? formatBytes(total) : '?', speed: '-' });
    this.started = Date.now();
  }

  override progress(received: number): void {
    const seconds = (Date.now() - this.started) / 1000;
    const speed = seconds > 0 ? formatBytes(Math.round((received - this.from) / seconds)) : '-';
    this.bar?.update(received, { done: formatBytes(received), speed });
  }

  override stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
