/**
 * The named datasets (`{name: mnist | fashion-mnist | cifar10}` in a config): which
 * files each consists of, where their authors publish them with which checksums, and
 * where dlt looks for them on this machine.
 *
 * Lookup order for a name: the cache folder (`$DLT_DATA`, else `$XDG_CACHE_HOME/dlt`,
 * else `~/.cache/dlt`), holding `<name>/…` as `dlt data fetch` writes it; then known
 * system locations, such as the folder Debian's dataset-fashion-mnist package installs.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { didYouMean } from '../config/didYouMean.js';
import { InputError } from '../errors.js';

export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10';
export type SplitKind = 'train' | 'test';

/** One file as its authors publish it. */
export interface RemoteFile {
  /** File name, in the cache folder and at the end of every URL. */
  readonly file: string;
  /** Where to download it, tried in order: the authors' URL first, then mirrors. */
  readonly urls: readonly string[];
  /** The MD5 the authors (or, for MNIST, torchvision) publish, lower-case hex. */
  readonly md5: string;
}

/** The dataset specs a named dataset resolves to (shapes of src/config/schema.ts). */
export type LocatedSpec = { format: 'idx'; images: string; labels: string } | { format: 'cifar10'; path: string; split: SplitKind };

export interface CatalogEntry {
  readonly name: DatasetName;
  readonly title: string;
  /** The authors' page, where the URLs and checksums below are published. */
  readonly homepage: string;
  readonly downloads: readonly RemoteFile[];
  /** When the download is an archive: unpacked, then removed; `folder` is what it holds. */
  readonly archive?: { readonly file: string; readonly folder: string };
  /** Files (relative to the dataset's folder) that must all exist for it to count as present. */
  readonly required: readonly string[];
  /** Folders outside the cache where a system package may have installed the set. */
  readonly systemDirs: readonly string[];
  /** The authors' names of classes 0, 1, … (absent where the index is the name). */
  readonly classNames?: readonly string[];
  /** The dataset spec of one split, given the folder that holds `required`. */
  spec(dir: string, split: SplitKind): LocatedSpec;
}

const IDX_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

function idxSpec(dir: string, split: SplitKind): LocatedSpec {
  const prefix = split === 'train' ? 'train' : 't10k';
  return {
    format: 'idx',
    images: path.join(dir, `${prefix}-images-idx3-ubyte.gz`),
    labels: path.join(dir, `${prefix}-labels-idx1-ubyte.gz`),
  };
}

function withMd5(bases: readonly string[], md5: Record<string, string>): RemoteFile[] {
  return Object.entries(md5).map(([file, sum]) => ({ file, urls: bases.map((b) => b + file), md5: sum }));
}

const CIFAR10_FOLDER = 'cifar-10-batches-bin';
const CIFAR10_BATCHES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

export const CATALOG: Readonly<Record<DatasetName, CatalogEntry>> = {
  // MNIST's home, yann.lecun.com/exdb/mnist/, publishes the files but no checksums, and
  // is often unreachable. The MD5s are the ones torchvision (torchvision/datasets/mnist.py)
  // checks for both that site and its mirror on ossci-datasets.s3.amazonaws.com, which
  // serves the same bytes. dlt tries the home site first, then the mirror.
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits (LeCun, Cortes, Burges)',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    downloads: withMd5(['http://yann.lecun.com/exdb/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'], {
      'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
      't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
      't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
    }),
    required: IDX_FILES,
    systemDirs: [],
    spec: idxSpec,
  },
  // URLs and MD5s from the "Get the Data" table of the README at
  // github.com/zalandoresearch/fashion-mnist (the same MD5s torchvision checks).
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST article images (Zalando Research)',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    downloads: withMd5(['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'], {
      'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
      't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
      't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
    }),
    required: IDX_FILES,
    // Debian's dataset-fashion-mnist. Its .gz files hold the same IDX data but were
    // compressed again, so their bytes (and MD5s) differ from the published ones: they are
    // trusted as the package manager installed them, not checked against the table above.
    systemDirs: ['/usr/share/datasets/fashion-mnist'],
    // the README's "Labels" table
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    spec: idxSpec,
  },
  // The "binary version (suitable for C programs)" row of www.cs.toronto.edu/~kriz/cifar.html.
  // The archive holds cifar-10-batches-bin/ with data_batch_1..5.bin and test_batch.bin,
  // 10000 records of 1 label byte + 3072 pixel bytes each (30,730,000 bytes per file).
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10 tiny images (Krizhevsky, Nair, Hinton)',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    downloads: withMd5(['https://www.cs.toronto.edu/~kriz/'], { 'cifar-10-binary.tar.gz': 'c32a1d4ab5d03f1284b67883e8d87530' }),
    archive: { file: 'cifar-10-binary.tar.gz', folder: CIFAR10_FOLDER },
    required: CIFAR10_BATCHES.map((f) => `${CIFAR10_FOLDER}/${f}`),
    systemDirs: [],
    // as listed in the archive's batches.meta.txt
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    spec: (dir, split) => ({ format: 'cifar10', path: path.join(dir, CIFAR10_FOLDER), split }),
  },
};

export const DATASET_NAMES: readonly DatasetName[] = Object.values(CATALOG).map((entry) => entry.name);

/** The catalog entry of `name`, or an InputError with a did-you-mean hint. */
export function catalogEntry(name: string): CatalogEntry {
  const entry = Object.values(CATALOG).find((e) => e.name === name);
  if (entry) return entry;
  const guess = didYouMean(name, DATASET_NAMES);
  throw new InputError(`unknown dataset "${name}" (known: ${DATASET_NAMES.join(', ')})${guess ? `; did you mean "${guess}"?` : ''}`);
}

/**
 * The cache folder: `$DLT_DATA`, else `$XDG_CACHE_HOME/dlt`, else `~/.cache/dlt`.
 * The XDG base-directory rules ignore a relative XDG_CACHE_HOME; DLT_DATA may be relative
 * (to the current folder).
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DLT_DATA) return path.resolve(env.DLT_DATA);
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return path.join(env.XDG_CACHE_HOME, 'dlt');
  return path.join(homedir(), '.cache', 'dlt');
}

/**
 * Where to download each file: `$DLT_DATA_MIRROR/<name>/<file>` when that is set (a local
 * mirror, or the test server), else the published URLs.
 */
export function downloadUrls(entry: CatalogEntry, file: RemoteFile, env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const mirror = env.DLT_DATA_MIRROR;
  if (mirror) return [`${mirror.replace(/\/+$/, '')}/${entry.name}/${file.file}`];
  return file.urls;
}

export interface LookupOptions {
  env?: NodeJS.ProcessEnv;
  /** Replaces every entry's systemDirs (tests). */
  systemDirs?: (name: DatasetName) => readonly string[];
}

/** One place looked at for a dataset. */
export interface Candidate {
  readonly dir: string;
  readonly kind: 'cache' | 'system';
  /** Required files absent there (all of them when the folder does not exist). */
  readonly missing: readonly string[];
}

/** Every place `entry` may be, in lookup order, with what each lacks. */
export function candidates(entry: CatalogEntry, options: LookupOptions = {}): Candidate[] {
  const dirs: { dir: string; kind: 'cache' | 'system' }[] = [{ dir: path.join(cacheRoot(options.env), entry.name), kind: 'cache' }];
  for (const dir of options.systemDirs ? options.systemDirs(entry.name) : entry.systemDirs) dirs.push({ dir, kind: 'system' });
  return dirs.map(({ dir, kind }) => ({ dir, kind, missing: entry.required.filter((f) => !isFile(path.join(dir, f))) }));
}

/** The first place that holds every required file of `entry`, if any. */
export function findDataset(entry: CatalogEntry, options: LookupOptions = {}): Candidate | undefined {
  return candidates(entry, options).find((c) => c.missing.length === 0);
}

/**
 * The dataset spec for one split of a named dataset: `{format: 'idx', images, labels}` for
 * the MNISTs, `{format: 'cifar10', path, split}` for CIFAR-10 (path: the folder
 * cifar-10-batches-bin).
 *
 * @throws InputError for an unknown name (with did-you-mean), or when no place holds the
 *   whole set: the message lists where dlt looked and says to run `dlt data fetch <name>`.
 */
export function locateDataset(name: string, split: SplitKind, options: LookupOptions = {}): LocatedSpec {
  const entry = catalogEntry(name);
  const places = candidates(entry, options);
  const found = places.find((c) => c.missing.length === 0);
  if (found) return entry.spec(found.dir, split);
  const looked = places.map((c) => `  ${c.dir} (${c.kind}): ${describeMissing(c, entry)}`).join('\n');
  throw new InputError(
    `dataset "${name}" is not on this machine; looked in:\n${looked}\nrun \`dlt data fetch ${name}\` to download it into the cache`,
  );
}

function describeMissing(c: Candidate, entry: CatalogEntry): string {
  if (!existsSync(c.dir)) return 'no such folder';
  if (c.missing.length === entry.required.length) return 'none of its files';
  return `missing ${c.missing.join(', ')}`;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
