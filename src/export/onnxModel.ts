import path from 'node:path';
import type { TrainedModel } from '../model/trainedModel.js';
import { VERSION } from '../version.js';
import { intAttribute, OnnxGraph } from './onnxGraph.js';
import { addLayer } from './onnxLayers.js';
import { encodeModel, ONNX_FLOAT } from './onnxProto.js';

/** The opsets dlt writes: 13 (Softmax over one axis) up to 21. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;

/**
 * The model's IR version for an opset: the IR version of the ONNX release that
 * introduced the opset, so that every runtime which knows the opset reads the file.
 */
function irVersion(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/**
 * A trained dlt model as an ONNX file's bytes (SPEC §6, `dlt export --format onnx`):
 *
 *   input [N, ...model.input] (raw values, as in the data files)
 *     → (x − offset) / divisor        the run's preprocessing
 *     → the layers, in config order   → logits [N, K]
 *     → Softmax over classes          → probabilities [N, K]
 *
 * N is the symbolic dimension "N". Weights are stored as float32 (a float64 run is
 * rounded). Metadata: dlt_version, run_name, classes (JSON list, when named), source
 * snapshot and epoch.
 */
export function onnxModel(model: TrainedModel, opset: number): Uint8Array {
  const { network, snapshot, preprocessor } = model;
  const { config } = snapshot;
  const graph = new OnnxGraph();
  let tensor = preprocess(graph, 'input', network.inputShape, preprocessor);
  let shape = network.inputShape;
  network.layers.forEach((layer, i) => {
    tensor = addLayer(graph, { spec: config.model.layers[i]!, layer, tensor, inputShape: shape, opset });
    shape = layer.outputShape;
  });
  const logits = graph.rename(tensor, 'logits');
  graph.node('Softmax', 'probabilities', [logits], [intAttribute('axis', 1)]);

  const classes = network.outputSize;
  const metadata: Record<string, string> = {
    dlt_version: VERSION,
    run_name: config.name,
    snapshot: path.basename(snapshot.file),
    epoch: String(snapshot.state.epoch),
    ...(model.classNames ? { classes: JSON.stringify(model.classNames) } : {}),
  };
  return encodeModel({
    ir_version: irVersion(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'dlt',
    producer_version: VERSION,
    doc_string: `${config.name}: input [N, ${network.inputShape.join(', ')}] raw values as in the data files; outputs logits and probabilities [N, ${classes}]`,
    graph: {
      name: config.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [tensorInfo('input', network.inputShape)],
      output: [tensorInfo('logits', [classes]), tensorInfo('probabilities', [classes])],
    },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
}

/**
 * The run's preprocessing, x' = (x − offset) / divisor per feature, as Sub and Div
 * nodes; a constant that is the same for every feature is a scalar, and a step that
 * changes nothing (offset 0, divisor 1) is left out.
 */
function preprocess(graph: OnnxGraph, input: string, sampleShape: readonly number[], prep: TrainedModel['preprocessor']): string {
  let tensor = input;
  const uniform = (v: Float64Array) => v.every((x) => x === v[0]);
  const constant = (name: string, v: Float64Array) => (uniform(v) ? graph.floats(name, [], [v[0]!]) : graph.floats(name, [1, ...sampleShape], v));
  if (prep.offset.some((x) => x !== 0)) tensor = graph.node('Sub', 'centred', [tensor, constant('preprocess.offset', prep.offset)]);
  if (prep.divisor.some((x) => x !== 1)) tensor = graph.node('Div', 'scaled', [tensor, constant('preprocess.divisor', prep.divisor)]);
  return tensor;
}

/** A float tensor [N, ...sample] with a symbolic batch dimension. */
function tensorInfo(name: string, sample: readonly number[]) {
  return {
    name,
    type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: [{ dim_param: 'N' }, ...sample.map((d) => ({ dim_value: d }))] } } },
  };
}
