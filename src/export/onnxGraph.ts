import { ATTRIBUTE_FLOAT, ATTRIBUTE_INT, ATTRIBUTE_INTS, ONNX_FLOAT, ONNX_INT64 } from './onnxProto.js';

/** A node attribute, as ONNX's AttributeProto: one float, one int or a list of ints. */
export type Attribute = { name: string; type: number; f?: number; i?: number; ints?: number[] };

export const floatAttribute = (name: string, f: number): Attribute => ({ name, type: ATTRIBUTE_FLOAT, f });
export const intAttribute = (name: string, i: number): Attribute => ({ name, type: ATTRIBUTE_INT, i });
export const intsAttribute = (name: string, ints: readonly number[]): Attribute => ({ name, type: ATTRIBUTE_INTS, ints: [...ints] });

interface Node {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}

interface Initializer {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/**
 * An ONNX graph under construction: nodes in execution order, each with one output
 * named after the node, and the constant tensors (weights, shapes) they read. Names are
 * chosen by the caller (dlt's layer names), so the graph reads like the config.
 */
export class OnnxGraph {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];

  /**
   * A float32 constant of shape `dims` (a scalar for []), stored little-endian as ONNX
   * requires; float64 values are rounded to float32.
   */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values);
    return this.initializer(name, dims, ONNX_FLOAT, new Uint8Array(data.buffer));
  }

  /** An int64 constant, for shapes and axes. */
  int64s(name: string, values: readonly number[]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.initializer(name, [values.length], ONNX_INT64, new Uint8Array(data.buffer));
  }

  /** Add a node computing `op` from `inputs`; its output tensor is called `name`, which is returned. */
  node(op: string, name: string, inputs: readonly string[], attributes: readonly Attribute[] = []): string {
    this.nodes.push({ name, op_type: op, input: [...inputs], output: [name], attribute: [...attributes] });
    return name;
  }

  /**
   * Give the tensor `tensor` the name `name`: the last node's output is renamed when it
   * made that tensor (no later node reads it yet), else an Identity node is added (a
   * graph whose output is its input).
   */
  rename(tensor: string, name: string): string {
    const last = this.nodes.at(-1);
    if (last && last.output[0] === tensor) last.output[0] = name;
    else this.node('Identity', name, [tensor]);
    return name;
  }

  private initializer(name: string, dims: readonly number[], dataType: number, bytes: Uint8Array): string {
    this.initializers.push({ name, dims: [...dims], data_type: dataType, raw_data: bytes });
    return name;
  }
}
