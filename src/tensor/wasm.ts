/**
 * Just enough of a WebAssembly binary encoder to write small numeric kernels in
 * TypeScript, without a toolchain or a build step: dlt emits its wasm code as bytes at
 * load time and instantiates it synchronously. Names and numbers follow the
 * WebAssembly 2.0 specification (chapter 5, "Binary Format"); only the handful of
 * instructions dlt's kernels use are here.
 *
 * A module built here has one exported memory of fixed size (it never grows, so
 * typed-array views onto `memory.buffer` stay valid for good) and any number of
 * exported functions, whose bodies are written with the chainable `Code` builder:
 *
 *   new Code().localGet(0).localGet(1).i32Add().end()
 */

/** Value types (§5.3.1). */
export const i32 = 0x7f;
export const f64 = 0x7c;
export const v128 = 0x7b;
export type ValueType = typeof i32 | typeof f64 | typeof v128;

/** Block type of a loop that takes and leaves nothing on the stack (§5.4.1). */
const EMPTY_BLOCK = 0x40;
/** Instructions of the SIMD proposal (part of WebAssembly 2.0) are 0xfd followed by a LEB128 opcode. */
const SIMD_PREFIX = 0xfd;

/** Unsigned LEB128, the encoding of every count, index and offset (§5.2.2). */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, the encoding of i32.const's immediate (§5.2.2). */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an i32: ${value}`);
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7; // arithmetic shift: keeps the sign
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A name: its UTF-8 length, then its bytes (§5.2.4). */
function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb128(bytes.length), ...bytes];
}

/** A vector: its length, then its items (§5.1.3). */
function vector(items: number[][]): number[] {
  return [...unsignedLeb128(items.length), ...items.flat()];
}

/** A section: its id, its size in bytes, then its contents (§5.5.2). */
function section(id: number, contents: number[]): number[] {
  return [id, ...unsignedLeb128(contents.length), ...contents];
}

/**
 * The body of one function: a stream of instructions (§5.4), each method appending one.
 * Memory instructions take a static byte `offset` added to the address on the stack, and
 * the alignment hint the specification calls natural for their size.
 */
export class Code {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(SIMD_PREFIX, ...unsignedLeb128(opcode), ...immediates);
  }

  /** memarg: log2 of the alignment, then the offset. */
  private static memarg(log2Align: number, offset: number): number[] {
    return [...unsignedLeb128(log2Align), ...unsignedLeb128(offset)];
  }

  // Control instructions (§5.4.1).
  /** loop (0x03): a label that `br_if` jumps back to, at its start. */
  loop(): this {
    return this.op(0x03, EMPTY_BLOCK);
  }
  /** br_if (0x0d): pops an i32; if non-zero, branches to the label `depth` levels out (0 = innermost). */
  brIf(depth: number): this {
    return this.op(0x0d, ...unsignedLeb128(depth));
  }
  /** end (0x0b): closes a loop, or the function body. */
  end(): this {
    return this.op(0x0b);
  }

  // Variable instructions (§5.4.4).
  /** local.get (0x20): pushes a local (parameters come first). */
  localGet(index: number): this {
    return this.op(0x20, ...unsignedLeb128(index));
  }
  /** local.set (0x21): pops into a local. */
  localSet(index: number): this {
    return this.op(0x21, ...unsignedLeb128(index));
  }
  /** local.tee (0x22): stores into a local and leaves the value on the stack. */
  localTee(index: number): this {
    return this.op(0x22, ...unsignedLeb128(index));
  }

  // Numeric instructions (§5.4.7).
  /** i32.const (0x41). */
  i32Const(value: number): this {
    return this.op(0x41, ...signedLeb128(value));
  }
  // Comparisons pop y, then x, and push 1 if `x op y` holds, else 0.
  /** i32.ne (0x47): x ≠ y. */
  i32Ne(): this {
    return this.op(0x47);
  }
  /** i32.lt_u (0x49): x < y, as unsigned integers. */
  i32LtU(): this {
    return this.op(0x49);
  }
  /** i32.add (0x6a). */
  i32Add(): this {
    return this.op(0x6a);
  }
  /** i32.mul (0x6c). */
  i32Mul(): this {
    return this.op(0x6c);
  }
  /** i32.shl (0x74): x << y. */
  i32Shl(): this {
    return this.op(0x74);
  }

  // Vector instructions (§5.4.8), 0xfd-prefixed. f64x2 holds two doubles and f32x4 four floats, lane 0 at the lower address.
  /** v128.load (0xfd 0): 16 bytes from memory. */
  v128Load(offset = 0): this {
    return this.simd(0x00, ...Code.memarg(4, offset));
  }
  /** v128.load64_splat (0xfd 10): one double from memory into both lanes. */
  v128Load64Splat(offset = 0): this {
    return this.simd(0x0a, ...Code.memarg(3, offset));
  }
  /** v128.load32_splat (0xfd 9): one float from memory into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, ...Code.memarg(2, offset));
  }
  /** v128.store (0xfd 11): 16 bytes to memory (address, then value, on the stack). */
  v128Store(offset = 0): this {
    return this.simd(0x0b, ...Code.memarg(4, offset));
  }
  /** v128.const (0xfd 12) with all 16 bytes zero: +0.0 in both f64x2 lanes. */
  v128ConstZero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** f32x4.add (0xfd 228): lane-wise IEEE single addition, rounded to nearest. */
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  /** f32x4.mul (0xfd 230): lane-wise IEEE single multiplication, rounded to nearest. */
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** f64x2.add (0xfd 240): lane-wise IEEE double addition, rounded to nearest. */
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  /** f64x2.mul (0xfd 242): lane-wise IEEE double multiplication, rounded to nearest. */
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
}

/** One function of a module: its signature, the types of its locals beyond the parameters, and its body. */
export interface FunctionDefinition {
  name: string;
  params: ValueType[];
  results: ValueType[];
  locals: ValueType[];
  body: Code;
}

/**
 * The bytes of a module with one memory of `pages` 64-KiB pages (exported as "memory",
 * fixed in size: minimum = maximum) and the given functions, each exported under its name.
 */
export function encodeModule(pages: number, functions: FunctionDefinition[]): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d]; // "\0asm"
  const version = [0x01, 0x00, 0x00, 0x00];
  // Type section (id 1): one function type per function, 0x60 params results.
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
  // Function section (id 3): function i has type i.
  const typeIndices = functions.map((_, i) => unsignedLeb128(i));
  // Memory section (id 5): limits 0x01 min max.
  const memories = [[0x01, ...unsignedLeb128(pages), ...unsignedLeb128(pages)]];
  // Export section (id 7): name, kind (0x00 function, 0x02 memory), index.
  const exports = [[...name('memory'), 0x02, 0x00], ...functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb128(i)])];
  // Code section (id 10): per function, its size, then its locals as (count, type) runs, then its body.
  const bodies = functions.map((f) => {
    const runs: number[][] = [];
    for (let i = 0; i < f.locals.length; ) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...unsignedLeb128(j - i), f.locals[i]!]);
      i = j;
    }
    const contents = [...vector(runs), ...f.body.bytes];
    return [...unsignedLeb128(contents.length), ...contents];
  });
  return new Uint8Array([
    ...magic,
    ...version,
    ...section(1, vector(types)),
    ...section(3, vector(typeIndices)),
    ...section(5, vector(memories)),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}

/** The part of the WebAssembly JavaScript API used here (TypeScript's ES2022 library does not declare it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** An instance's exports: its memory (see encodeModule) and its functions. */
export interface Exports {
  memory: { buffer: ArrayBuffer };
  [name: string]: unknown;
}

/**
 * Compiles and instantiates `bytes` synchronously (fine for a module this small), or
 * returns null when this engine has no WebAssembly or rejects the module, e.g. because
 * it lacks the SIMD instructions.
 */
export function instantiate(bytes: Uint8Array): Exports | null {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (api === undefined || !api.validate(bytes)) return null;
  try {
    return new api.Instance(new api.Module(bytes), {}).exports as Exports;
  } catch {
    return null;
  }
}
