import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Split, SplitName, Splits } from '../data/load.js';
import { InputError } from '../errors.js';
import type { Layer } from '../layers/layer.js';
import { loadTrainedModel, type TrainedModel } from '../model/trainedModel.js';
import { learningCurves } from '../report/learningCurves.js';
import { readMetricsFile } from '../report/metricsFile.js';
import { readRunInfo } from '../report/runInfo.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Kernels } from '../tensor/kernels.js';
import { RunDirectory } from '../train/runDirectory.js';
import { type ConvUnits, scanActivations } from './activationScan.js';
import { type CalibrationBin, calibration } from './calibration.js';
import { type ClassMetrics, classMetrics, confusionMatrix, macroAverage } from './classMetrics.js';
import { SampleImages, type Tile, weightTile } from './imageTiles.js';
import { confidentMistakes, type Mistake } from './mistakes.js';
import { type ReceptiveField, receptiveFields } from './receptiveField.js';

/** One row of the layer table. */
export interface LayerRow {
  name: string;
  outputShape: readonly number[];
  params: number;
  /** For layers whose output is still an image: what one output unit sees of the input. */
  field?: ReceptiveField;
}

/** Everything report.html and report.json show, computed in one forward pass over the split. */
export interface RunReport {
  title: string;
  snapshot: string;
  split: SplitName;
  samples: number;
  /** Patches per unit (--top). */
  top: number;
  /** What to call class k: its name, else its index. */
  classNames: string[];
  facts: [string, string][];
  /** The learning curves (dlt plot's chart), when the run has metrics. */
  curvesSvg?: string;
  layers: LayerRow[];
  accuracy: number;
  labels: Int32Array;
  confusion: number[][];
  perClass: ClassMetrics[];
  macro: ClassMetrics;
  calibration: { bins: CalibrationBin[]; ece: number };
  mistakes: Mistake[];
  units: ConvUnits[];
  /** The split's samples as images, for an image model ([C, H, W] input of 1 or 3 channels, byte data). */
  images?: SampleImages;
  filters?: { layer: string; tiles: Tile[]; note: string };
  /** What to call sample k of the split where it has no image: `test.csv row 12`. */
  sampleName: (sample: number) => string;
  /** Things the user should know that did not stop the report. */
  warnings: string[];
}

export interface ReportOptions {
  split: 'test' | 'val';
  top: number;
}

/** The most confident mistakes shown: two rows of tiles for the default --top. */
const MISTAKES_PER_TOP = 3;

/**
 * Read a run directory and compute its report: the best (else latest) snapshot's
 * network, fed the chosen split once (src/insight/activationScan.ts), and the run's
 * metrics and summary for the summary section.
 */
export function runReport(runDir: string, snapshot: Snapshot, options: ReportOptions, kernels: Kernels): RunReport {
  const dir = RunDirectory.at(runDir);
  const model = loadTrainedModel(snapshot, kernels, [options.split]);
  const { config } = snapshot;
  const split = chosenSplit(model.splits, options.split, snapshot);
  const { network } = model;
  const classes = network.outputSize;
  const classNames = Array.from({ length: classes }, (_, k) => model.classNames?.[k] ?? String(k));

  const scan = scanActivations(network, config.model.layers, model.preprocessor, split, options.top);
  const confusion = confusionMatrix(scan.labels, scan.predicted, classes);
  const perClass = classMetrics(confusion);
  const correct = scan.labels.reduce((n, label, i) => n + (label === scan.predicted[i] ? 1 : 0), 0);
  const fields = receptiveFields(config.model.layers, network.inputShape);
  const images = imagesOf(split, network.inputShape);
  const warnings: string[] = [];
  const metrics = existsSync(dir.metricsFile) ? readMetricsFile(dir.metricsFile) : undefined;
  const epochsDone = metrics?.records.reduce((done, r) => (r.kind === 'epoch' ? Math.max(done, r.epoch) : done), 0) ?? snapshot.state.epoch;
  const info = readRunInfo(dir, epochsDone);
  warnings.push(...info.warnings);
  const title = path.basename(path.resolve(runDir));
  const curvesSvg = metrics
    ? learningCurves({ title, subtitle: info.subtitle, records: metrics.records, hasValidationSplit: info.hasValidationSplit }).svg
    : undefined;
  const samples = split.indices.length;
  const facts: [string, string][] = [
    ...info.facts,
    ['model input', `[${network.inputShape.join(', ')}]`],
    ['loss', config.loss.type],
    ['snapshot', `${path.basename(snapshot.file)} (epoch ${snapshot.state.epoch})`],
    [`accuracy on the ${options.split} split (this report)`, `${(correct / samples).toFixed(4)} on ${samples} samples`],
  ];
  return {
    title,
    snapshot: path.basename(snapshot.file),
    split: options.split,
    samples,
    top: options.top,
    classNames,
    facts,
    ...(curvesSvg ? { curvesSvg } : {}),
    layers: network.layers.map((layer, i) => ({
      name: layer.name,
      outputShape: layer.outputShape,
      params: layer.params.reduce((n, p) => n + p.value.length, 0),
      ...(fields[i] ? { field: fields[i] } : {}),
    })),
    accuracy: correct / samples,
    labels: scan.labels,
    confusion,
    perClass,
    macro: macroAverage(perClass),
    calibration: calibration(scan.probabilities, classes, scan.labels, scan.predicted),
    mistakes: confidentMistakes(scan, MISTAKES_PER_TOP * options.top),
    units: scan.convUnits,
    ...(images ? { images, ...firstFilters(model, images) } : {}),
    sampleName: (k) => `${path.basename(split.data.source)} sample ${split.indices[k]! + 1}`,
    warnings,
  };
}

/** The split to look at, loaded with the snapshot's class mapping, as dlt eval loads it. */
function chosenSplit(splits: Splits, name: 'test' | 'val', snapshot: Snapshot): Split {
  const chosen = splits[name];
  if (!chosen) {
    const other = name === 'test' ? 'val' : 'test';
    throw new InputError(
      `the run's config has no ${name} split (data.${name === 'val' ? 'validation' : 'test'})${splits[other] ? `; choose --split ${other}` : ''}`,
      snapshot.file,
    );
  }
  if (chosen.indices.length === 0) throw new InputError(`the ${name} split has no samples`, chosen.data.source);
  return chosen;
}

/** The split as images, when the model takes images a page can show: [1 or 3, H, W] of bytes. */
function imagesOf(split: Split, inputShape: readonly number[]): SampleImages | undefined {
  const x = split.data.x;
  if (inputShape.length !== 3 || (inputShape[0] !== 1 && inputShape[0] !== 3) || !(x instanceof Uint8Array)) return undefined;
  return new SampleImages(x, split.indices, inputShape);
}

/** At most this many filters or weight rows are drawn. */
const MAX_FILTERS = 64;

/**
 * The first conv layer's filters, [F, C, k, k], one tile each; with no conv layer, the
 * weight rows of the first dense layer when it reads the image directly (after a flatten):
 * each row, [C·H·W], is an image of what the unit looks for.
 */
function firstFilters(model: TrainedModel, images: SampleImages): { filters?: RunReport['filters'] } {
  const { layers } = model.network;
  const conv = layers.find((l) => l.type === 'conv2d');
  if (conv) {
    const [F = 0, C = 1, k = 1] = weightOf(conv).shape;
    return { filters: { layer: conv.name, tiles: tilesOf(conv, F, [C, k, k]), note: `Its ${F} filters, ${C}×${k}×${k}, as images.` } };
  }
  const first = layers.findIndex((l) => l.params.length > 0);
  const dense = layers[first];
  if (dense?.type !== 'dense' || !layers.slice(0, first).every((l) => l.type === 'flatten' || l.type === 'dropout')) return {};
  const units = weightOf(dense).shape[0] ?? 0;
  const [C = 1, H = 1, W = 1] = images.shape;
  return {
    filters: {
      layer: dense.name,
      tiles: tilesOf(dense, units, [C, H, W]),
      note: `The input weights of its ${units} units, each ${C}×${H}×${W}, as images.`,
    },
  };
}

function weightOf(layer: Layer) {
  const weight = layer.params.find((p) => p.name === 'weight');
  if (!weight) throw new Error(`${layer.name} has no weight`);
  return weight;
}

function tilesOf(layer: Layer, count: number, [C, H, W]: readonly number[]): Tile[] {
  const { value } = weightOf(layer);
  const size = C! * H! * W!;
  return Array.from({ length: Math.min(count, MAX_FILTERS) }, (_, k) => weightTile(value.subarray(k * size, (k + 1) * size), C!, H!, W!));
}
