/**
 * `dlt data fetch <name>`: every file of a catalogued data set into the cache, each one
 * verified by src/data/download.ts, and an archive unpacked.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { RunError } from '../errors.js';
import { errnoCode } from '../util/ioError.js';
import { type CatalogEntry, cacheRoot, downloadUrls } from './catalog.js';
import { type DownloadOptions, type DownloadReporter, downloadVerified, md5File, quietReporter } from './download.js';
import { extractTarGz } from './tar.js';

export {
  type DownloadOptions,
  type DownloadReporter,
  type DownloadResult,
  downloadVerified,
  md5File,
  quietReporter,
} from './download.js';

export interface FetchOptions extends DownloadOptions {
  /** The environment for the cache folder and DLT_DATA_MIRROR (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface FetchedFile {
  file: string;
  /** downloaded now, or already in the cache with the published MD5. */
  status: 'downloaded' | 'present';
  bytes: number;
}

export interface FetchSummary {
  name: string;
  dir: string;
  files: FetchedFile[];
  /** Files unpacked from the archive, for a dataset that ships as one. */
  unpacked: number;
}

/**
 * `dlt data fetch <name>`: brings every file of `entry` into `<cache>/<name>/`, verified.
 * Files already there are checked against the published MD5 and kept when they match;
 * an archive is unpacked into a temporary folder, checked for the files the dataset
 * needs, moved into place and removed.
 */
export async function fetchDataset(entry: CatalogEntry, options: FetchOptions = {}): Promise<FetchSummary> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? quietReporter;
  const dir = path.join(cacheRoot(env), entry.name);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new RunError(
      `cannot create the cache folder ${dir}: ${err instanceof Error ? err.message : String(err)}; set DLT_DATA to a folder you can write`,
    );
  }
  removeStaleTemporaries(dir);
  const summary: FetchSummary = { name: entry.name, dir, files: [], unpacked: 0 };

  if (entry.archive && entry.required.every((f) => existsSync(path.join(dir, f)))) {
    reporter.info(`${entry.name}: already unpacked in ${path.join(dir, entry.archive.folder)}`);
    return summary;
  }

  for (const file of entry.downloads) {
    const dest = path.join(dir, file.file);
    if (existsSync(dest)) {
      const got = await md5File(dest);
      if (got === file.md5) {
        const bytes = statSync(dest).size;
        reporter.info(`${file.file}: already present, md5 ok`);
        summary.files.push({ file: file.file, status: 'present', bytes });
        continue;
      }
      reporter.warn(`${file.file}: the copy in the cache has md5 ${got}, not the published ${file.md5}; downloading it again`);
    }
    const result = await downloadVerified(downloadUrls(entry, file, env), dest, file.md5, { ...options, reporter });
    reporter.info(`${file.file}: ${formatBytes(result.bytes)}, md5 ok`);
    summary.files.push({ file: file.file, status: 'downloaded', bytes: result.bytes });
  }

  if (entry.archive) summary.unpacked = await unpack(entry, dir, reporter);
  return summary;
}

/** Unpack the verified archive next to it, atomically as far as the folder goes. */
async function unpack(entry: CatalogEntry, dir: string, reporter: DownloadReporter): Promise<number> {
  const { file, folder } = entry.archive!;
  const archive = path.join(dir, file);
  reporter.info(`${file}: unpacking into ${path.join(dir, folder)}`);
  const temp = mkdtempSync(path.join(dir, `.unpack-${process.pid}-`));
  try {
    const files = await extractTarGz(archive, temp);
    const missing = entry.required.filter((f) => !existsSync(path.join(temp, f)));
    if (missing.length > 0) {
      throw new RunError(`${archive} does not hold ${missing.join(', ')}; delete it and run dlt data fetch ${entry.name} again`);
    }
    rmSync(path.join(dir, folder), { recursive: true, force: true });
    renameSync(path.join(temp, folder), path.join(dir, folder));
    rmSync(archive);
    return files.length;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/**
 * Partial downloads and unpack folders left by a dlt that was killed: their names carry
 * the process id, so those of a process still running (a concurrent fetch) are kept.
 */
function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /^\..+\.(\d+)\.part$/.exec(name) ?? /^\.unpack-(\d+)-/.exec(name);
    if (m && !isRunning(Number(m[1]))) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** 26421880 → "26.4 MB" */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
