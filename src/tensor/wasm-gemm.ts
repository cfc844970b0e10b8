import { Code, encodeModule, i32, instantiate, type ValueType, v128 } from './wasm.js';

/**
 * GEMM's macro-kernel in WebAssembly SIMD: all the register tiles of one packed MC×KC
 * block of op(A) times one packed KC×NC block of op(B), in one call. gemm.ts packs the
 * operands straight into this module's memory, and copies the result block into C.
 *
 * There are two modules, one per precision, each bit-identical to gemm.ts's scalar
 * micro-kernel of that precision: every entry of a tile is a sum that starts at +0 and
 * adds a[p]·b[p] for p = 0, 1, … kc−1 in order, each product and each sum rounded to the
 * precision (mul, then add: WebAssembly has no fused multiply-add outside relaxed SIMD,
 * which is not used). The lanes of a vector are neighbouring entries of the tile, i.e.
 * independent sums, so vectorising changes nothing but speed.
 * - f64: 4×4 tiles, two doubles per instruction, for float64 tensors (and gradcheck).
 * - f32: 4×8 tiles, four floats per instruction, for float32 tensors: twice the f64
 *   kernel's flops per instruction.
 */

/** Rows of a register tile, and the width of a packed panel (packed panels are kc×4). */
const TILE = 4;

/** The blocking the module is sized for: its areas hold MC×KC, KC×NC and MC×NC numbers. */
export interface Blocking {
  mc: number;
  kc: number;
  nc: number;
}

/** The two precisions: the element type of the packed operands, the result and the arithmetic. */
export type Precision = 'f64' | 'f32';

type ArrayOf<P extends Precision> = P extends 'f64' ? Float64Array : Float32Array;

/** The instantiated module: views onto its memory, and the macro-kernel. */
export interface WasmGemm<P extends Precision> {
  /** Packed op(A): ⌈mc/4⌉ panels of kc×4 numbers, element (p, r) of panel i at 4i·kc + 4p + r. */
  packedA: ArrayOf<P>;
  /**
   * Packed op(B): panels of kc×4 numbers, laid out the same way. The f32 kernel reads
   * them in pairs (tiles 8 wide): an odd last panel must be followed by a zero one.
   */
  packedB: ArrayOf<P>;
  /** The macro-kernel's result: entry (i, j) at i·NC + j, for i < ⌈mc/4⌉·4 and j < nc rounded up to a tile. */
  block: ArrayOf<P>;
  /** Columns of a register tile: 4 (f64) or 8 (f32). */
  tileColumns: number;
  /** block ← packedA (mc rows, depth kc) · packedB (nc columns), whole tiles (padding included). */
  run(kc: number, mc: number, nc: number): void;
}

/**
 * The module compiled for this blocking and precision, or null when this engine lacks
 * WebAssembly or its SIMD instructions (the caller then keeps its JavaScript kernel).
 */
export function createWasmGemm<P extends Precision>({ mc, kc, nc }: Blocking, precision: P): WasmGemm<P> | null {
  const bytes = precision === 'f64' ? 8 : 4;
  // Byte addresses of the three areas; the memory is sized to hold them and never grows,
  // so views onto it stay valid.
  const size = { a: bytes * mc * kc, b: bytes * kc * nc, block: bytes * mc * nc };
  const base = { a: 0, b: size.a, block: size.a + size.b };
  const pages = Math.ceil((base.block + size.block) / 65536);
  const body = precision === 'f64' ? runBodyF64(nc, base) : runBodyF32(nc, base);
  const exports = instantiate(encodeModule(pages, [{ name: 'run', params: [i32, i32, i32], results: [], locals: RUN_LOCALS, body }]));
  if (exports === null) return null;
  const buffer = exports.memory.buffer;
  const view = (offset: number, length: number) =>
    (precision === 'f64' ? new Float64Array(buffer, offset, length) : new Float32Array(buffer, offset, length)) as ArrayOf<P>;
  return {
    packedA: view(base.a, size.a / bytes),
    packedB: view(base.b, size.b / bytes),
    block: view(base.block, size.block / bytes),
    tileColumns: precision === 'f64' ? TILE : 2 * TILE,
    run: exports.run as (kc: number, mc: number, nc: number) => void,
  };
}

// ---------------------------------------------------------------------------------------
// run(kc, mc, nc): the macro-kernel.
//
//   for (jr = 0; jr < nc; jr += tile columns)  // op(B) panels, in order
//     for (ir = 0; ir < mc; ir += 4)           // op(A) panels, in order
//       tile = Σ_p a[p]ᵀ·b[p]  for p = 0 … kc−1
//       block[ir.., jr..] = tile
//
// f64: the tile is 8 f64x2 accumulators, acc[r][j] holding row r, columns 2j and 2j+1.
// Each step loads b[p] as two vectors and each a[p][r] into both lanes of a third (a
// "splat"): 8 multiplies and 8 adds for 6 loads, with 11 vectors live (8 sums, 2 of b[p],
// the splat) plus a product: within x64's 16 SSE registers, and V8 spills none.
// Timed with Node 20 against other shapes: 5×4 tiles ran within noise of 4×4, and 2×8,
// 3×8, 6×4, 4×6, 8×4 and 4×8 were slower. The loop does one step per iteration:
// TurboFan unrolls it itself (3 steps), and unrolling it by hand (2 or 4 steps per
// iteration) was slower. Without FMA, the kernel is bound by instruction throughput:
// 22 instructions per step for 32 flops.
//
// f32: the same loop with f32x4 vectors over a 4×8 tile: acc[r][j] holds row r, columns
// 4j … 4j+3, and b[p] is four floats from each of two adjacent op(B) panels. The same 22
// instructions per step now do 64 flops. README, "Speed", gives both kernels' figures.
// ---------------------------------------------------------------------------------------

// Local variable indices: parameters first, then i32 scalars, then v128 vectors.
const KC = 0; // param: depth of the slice
const MC = 1; // param: rows of op(A)
const NC = 2; // param: columns of op(B)
const PANEL_BYTES = 3; // kc·4 numbers, for op(A) and op(B) alike
const B_PANEL = 4; // address of the current op(B) panel
const JR = 5; // first column of the current tile
const IR = 6; // first row of the current tile
const PA = 7; // address of a[p] in the current op(A) panel
const PB = 8; // address of b[p] in the current op(B) panel
const PA_END = 9; // end of the current op(A) panel
const OUT = 10; // address of the tile's top-left entry in the result block
const PB2 = 11; // f32: address of b[p] in the next op(B) panel
const SPLAT = 12; // a[p][r], in every lane
const B0 = 13; // f64: b[p][0..1]; f32: b[p][0..3]
const B1 = 14; // f64: b[p][2..3]; f32: b[p][4..7]
const ACC = 15; // acc[r][j] is local ACC + 2r + j
const RUN_LOCALS: ValueType[] = [...Array<ValueType>(SPLAT - PANEL_BYTES).fill(i32), ...Array<ValueType>(3 + 8).fill(v128)];
const acc = (r: number, j: number) => ACC + 2 * r + j;

/** The f64 kernel: element size 8, 4×4 tiles. */
// biome-ignore format: one instruction sequence per line, indented by the wasm loop (loop … end) it is in, which the formatter cannot see
function runBodyF64(ldBlock: number, base: { a: number; b: number; block: number }): Code {
  const code = new Code();
  code.localGet(KC).i32Const(8 * TILE).i32Mul().localSet(PANEL_BYTES);
  code.i32Const(base.b).localSet(B_PANEL);
  code.i32Const(0).localSet(JR);
  code.loop(); // over jr
    code.i32Const(base.a).localSet(PA);
    code.i32Const(0).localSet(IR);
    code.loop(); // over ir
      for (let r = 0; r < TILE; r++) for (let j = 0; j < 2; j++) code.v128ConstZero().localSet(acc(r, j));
      code.localGet(B_PANEL).localSet(PB);
      code.localGet(PA).localGet(PANEL_BYTES).i32Add().localSet(PA_END);
      code.loop(); // over p, while pa ≠ pa_end (kc ≥ 1)
        code.localGet(PB).v128Load(0).localSet(B0);
        code.localGet(PB).v128Load(16).localSet(B1);
        for (let r = 0; r < TILE; r++) {
          code.localGet(PA).v128Load64Splat(8 * r).localSet(SPLAT);
          code.localGet(acc(r, 0)).localGet(SPLAT).localGet(B0).f64x2Mul().f64x2Add().localSet(acc(r, 0));
          code.localGet(acc(r, 1)).localGet(SPLAT).localGet(B1).f64x2Mul().f64x2Add().localSet(acc(r, 1));
        }
        code.localGet(PA).i32Const(8 * TILE).i32Add().localSet(PA);
        code.localGet(PB).i32Const(8 * TILE).i32Add().localSet(PB);
        code.localGet(PA).localGet(PA_END).i32Ne().brIf(0);
      code.end();
      storeTile(code, ldBlock, base.block, 8, 3);
      // pa already points at the next op(A) panel.
      code.localGet(IR).i32Const(TILE).i32Add().localTee(IR).localGet(MC).i32LtU().brIf(0);
    code.end();
    code.localGet(B_PANEL).localGet(PANEL_BYTES).i32Add().localSet(B_PANEL);
    code.localGet(JR).i32Const(TILE).i32Add().localTee(JR).localGet(NC).i32LtU().brIf(0);
  code.end();
  return code.end();
}

/** The f32 kernel: element size 4, 4×8 tiles over pairs of op(B) panels. */
// biome-ignore format: one instruction sequence per line, indented by the wasm loop (loop … end) it is in, which the formatter cannot see
function runBodyF32(ldBlock: number, base: { a: number; b: number; block: number }): Code {
  const code = new Code();
  code.localGet(KC).i32Const(4 * TILE).i32Mul().localSet(PANEL_BYTES);
  code.i32Const(base.b).localSet(B_PANEL);
  code.i32Const(0).localSet(JR);
  code.loop(); // over jr, two panels at a time
    code.i32Const(base.a).localSet(PA);
    code.i32Const(0).localSet(IR);
    code.loop(); // over ir
      for (let r = 0; r < TILE; r++) for (let j = 0; j < 2; j++) code.v128ConstZero().localSet(acc(r, j));
      code.localGet(B_PANEL).localSet(PB);
      code.localGet(B_PANEL).localGet(PANEL_BYTES).i32Add().localSet(PB2);
      code.localGet(PA).localGet(PANEL_BYTES).i32Add().localSet(PA_END);
      code.loop(); // over p, while pa ≠ pa_end (kc ≥ 1)
        code.localGet(PB).v128Load(0).localSet(B0);
        code.localGet(PB2).v128Load(0).localSet(B1);
        for (let r = 0; r < TILE; r++) {
          code.localGet(PA).v128Load32Splat(4 * r).localSet(SPLAT);
          code.localGet(acc(r, 0)).localGet(SPLAT).localGet(B0).f32x4Mul().f32x4Add().localSet(acc(r, 0));
          code.localGet(acc(r, 1)).localGet(SPLAT).localGet(B1).f32x4Mul().f32x4Add().localSet(acc(r, 1));
        }
        code.localGet(PA).i32Const(4 * TILE).i32Add().localSet(PA);
        code.localGet(PB).i32Const(4 * TILE).i32Add().localSet(PB);
        code.localGet(PB2).i32Const(4 * TILE).i32Add().localSet(PB2);
        code.localGet(PA).localGet(PA_END).i32Ne().brIf(0);
      code.end();
      storeTile(code, ldBlock, base.block, 4, 2);
      code.localGet(IR).i32Const(TILE).i32Add().localTee(IR).localGet(MC).i32LtU().brIf(0);
    code.end();
    code.localGet(B_PANEL).localGet(PANEL_BYTES).i32Const(1).i32Shl().i32Add().localSet(B_PANEL);
    code.localGet(JR).i32Const(2 * TILE).i32Add().localTee(JR).localGet(NC).i32LtU().brIf(0);
  code.end();
  return code.end();
}

/**
 * The accumulators to the result block: out = block + (ir·NC + jr)·size, row r of the
 * tile at out + r·NC·size, its two vectors 16 bytes apart.
 */
function storeTile(code: Code, ldBlock: number, block: number, size: number, log2Size: number): void {
  code.localGet(IR).i32Const(ldBlock).i32Mul().localGet(JR).i32Add().i32Const(log2Size).i32Shl().i32Const(block).i32Add().localSet(OUT);
  for (let r = 0; r < TILE; r++) {
    for (let j = 0; j < 2; j++)
      code
        .localGet(OUT)
        .localGet(acc(r, j))
        .v128Store(size * r * ldBlock + 16 * j);
  }
}
