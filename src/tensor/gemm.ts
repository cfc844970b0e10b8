import type { FloatArray } from './types.js';
import { createWasmGemm } from './wasm-gemm.js';

/**
 * General matrix multiply, organised the way BLAS libraries are (Goto & van de Geijn,
 * "Anatomy of High-Performance Matrix Multiplication", 2008):
 *
 *   for each NC-wide block of columns of op(B)          (jc)
 *     for each KC-deep slice of the shared dimension    (pc)
 *       pack op(B)[pc.., jc..] into NR-wide panels      -> packedB
 *       for each MC-tall block of rows of op(A)         (ic)
 *         pack op(A)[ic.., pc..] into MR-tall panels    -> packedA
 *         for each NR panel, for each MR panel: MR×NR register tile = panel·panel
 *         C[ic.., jc..] = (or +=) the tiles
 *
 * Packing is what lets one micro-kernel serve all four transpose combinations: whatever
 * the layout of A and B, their panels end up contiguous in exactly the order the
 * micro-kernel reads them. At the ragged edges the kernel still computes a full MR×NR
 * tile and only the valid part is written to C; the panels are zero-padded there so that
 * the discarded part is computed from zeros rather than stale (possibly denormal, hence
 * slow) workspace contents.
 *
 * Two precisions. When A, B and C are all Float32Array, the products and sums are float32
 * (each rounded to single, as BLAS sgemm does); otherwise everything is computed in
 * doubles (float32 inputs widened exactly when packed, C rounded once per KC slice when
 * stored), which is what float64 training and gradient checking use.
 *
 * The tiles are computed by one of two kernels per precision, which give the same bits:
 * - a WebAssembly SIMD macro-kernel (wasm-gemm.ts), which does all the tiles of an
 *   MC×NC block in one call, two doubles or four floats per instruction. It is used
 *   whenever the engine has WebAssembly SIMD (Node ≥ 16.4). Packing writes straight into
 *   its memory.
 * - the scalar micro-kernels below, one tile per call, otherwise: under `node --jitless`
 *   (which has no WebAssembly at all) or `--no-expose-wasm`, or on a CPU for which V8
 *   has no WebAssembly SIMD. Several times slower than the wasm kernels; README,
 *   "Backends", gives the figures. The float32 one rounds each product and sum with
 *   Math.fround: a double product of two floats is exact and a double sum of two floats
 *   rounded to single is the single sum (53 ≥ 2·24 + 2 bits), so it gives float32 IEEE
 *   arithmetic's bits.
 *
 * Determinism: every entry of C is a sum over p in increasing order within each KC slice,
 * starting from +0, each product and sum rounded to the precision; slices are added to C
 * in increasing order. This depends only on KC, not on the other block sizes, the tile
 * shape or the kernel. The same inputs therefore give the same bits on every call.
 * Neither JavaScript nor WebAssembly (without relaxed SIMD, not used) ever fuses a*b+c
 * into an FMA, so this also holds across machines.
 *
 * Scalar tile shape, timed with Node 20 against other shapes: 4×4 and 4×3 ran within
 * noise of each other and ahead of 2×4, 4×2, 3×3, 2×6, 6×4, 4×8 and 8×4. Smaller tiles
 * load more operands per multiply-add; larger ones overflow x64's 16 vector registers,
 * and TurboFan spills accumulators to the stack (a few already at 4×4). Unrolling the k
 * loop made it slower. The block sizes barely matter: the kernel's instruction count,
 * not memory traffic, is the bottleneck.
 */

/** Rows of the register tile (rows of op(A) per micro-kernel call); the wasm kernels have 4 rows too (4×4 for f64, 4×8 for f32). */
const MR = 4;
/** Columns of the register tile (columns of op(B) per micro-kernel call). */
const NR = 4;
/** Depth of a packed slice. Deep, so that most products (k ≤ 512) take one slice and float32 outputs are rounded once. */
const KC = 512;
/** Rows of op(A) packed at a time: MC·KC doubles = 256 KiB, about half of L2. */
const MC = 64;
/** Columns of op(B) packed at a time. */
const NC = 512;
// MC and NC must be multiples of MR and NR: the workspaces below hold exactly MC×KC and
// KC×NC, and a ragged last panel is padded up to a whole MR or NR.

// The workspaces have a fixed size because the blocking bounds what one slice can need.
// Keeping them as module-level `const`s (rather than arrays grown on demand) lets V8
// embed them in the optimised micro-kernels as constants: no map checks and a constant
// length for the bounds checks, which was faster, when timed, than passing them as arguments.
// One set per precision (2.5 MiB for doubles, half that for floats). With WebAssembly SIMD
// they are views onto the wasm kernels' memories, so packing writes straight to where the
// kernel reads.
const wasm64 = createWasmGemm({ mc: MC, kc: KC, nc: NC }, 'f64');
const wasm32 = createWasmGemm({ mc: MC, kc: KC, nc: NC }, 'f32');
const packedA = wasm64 ? wasm64.packedA : new Float64Array(MC * KC);
const packedB = wasm64 ? wasm64.packedB : new Float64Array(KC * NC);
const packedA32 = wasm32 ? wasm32.packedA : new Float32Array(MC * KC);
const packedB32 = wasm32 ? wasm32.packedB : new Float32Array(KC * NC);
/** The scalar micro-kernels' result, copied or added into C by storeTile/addTile. */
const tile = new Float64Array(MR * NR);

/** Which kernels gemm runs: the wasm SIMD macro-kernels when the engine has them, else the scalar ones. */
let useWasm = wasm64 !== null && wasm32 !== null;

/**
 * For tests: which kernel gemm uses ('wasm' only when available). Both give the same bits.
 * Returns the kernel in use afterwards.
 */
export function selectGemmKernel(kernel: 'wasm' | 'scalar'): 'wasm' | 'scalar' {
  useWasm = kernel === 'wasm' && wasm64 !== null && wasm32 !== null;
  return useWasm ? 'wasm' : 'scalar';
}

/**
 * C = op(A)·op(B) (+ C when `accumulate`), where op(A) is [m×k] and op(B) is [k×n].
 * A is stored [m×k] row-major, or [k×m] when transA; B is [k×n], or [n×k] when transB.
 * C is [m×n] row-major. Only the first m·n entries of C are touched; A, B, C may be longer than needed.
 * C must not overlap A or B. With k = 0, C becomes 0 (or is left unchanged when accumulating).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  accumulate: boolean,
): void {
  checkArguments(m, n, k, a, b, c);
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  const single = a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array;
  const wasm = useWasm ? (single ? wasm32 : wasm64) : null;
  const tileA = single ? packedA32 : packedA;
  const tileB = single ? packedB32 : packedB;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // The first slice writes C (unless accumulating); later slices add their part to it.
      const overwrite = pc === 0 && !accumulate;
      // packedB ← op(B)[pc.., jc..] as panels of [kc×NR]: panel j holds columns jc+j·NR..
      // B is [k×n], so NR columns of op(B) are adjacent in each row of B; or [n×k] when
      // transB, so each column of op(B) is a row of B.
      packPanels(tileB, b, !transB, transB ? k : n, jc, nc, pc, kc);
      if (wasm !== null && wasm.tileColumns > NR) zeroPanelsTo(tileB, nc, wasm.tileColumns, kc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        // packedA ← op(A)[ic.., pc..] as panels of [kc×MR]: panel i holds rows ic+i·MR..
        // A is [m×k], so each row of op(A) is a row of A; or [k×m] when transA, so MR rows
        // of op(A) are adjacent in each row of A.
        packPanels(tileA, a, transA, transA ? m : k, ic, mc, pc, kc);
        if (wasm !== null) {
          wasm.run(kc, mc, nc);
          if (overwrite) storeBlock(c, wasm.block, ic * n + jc, n, mc, nc);
          else addBlock(c, wasm.block, ic * n + jc, n, mc, nc);
        } else {
          for (let jr = 0; jr < nc; jr += NR) {
            const cols = Math.min(NR, nc - jr);
            for (let ir = 0; ir < mc; ir += MR) {
              const rows = Math.min(MR, mc - ir);
              if (single) microKernel32(kc, ir * kc, jr * kc);
              else microKernel(kc, ir * kc, jr * kc);
              const offset = (ic + ir) * n + jc + jr;
              if (overwrite) storeTile(c, offset, n, rows, cols);
              else addTile(c, offset, n, rows, cols);
            }
          }
        }
      }
    }
  }
}

/** Shapes come from layer code, so a mismatch here is a bug in dlt, not in a config. */
function checkArguments(m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray): void {
  checkDimension('m', m);
  checkDimension('n', n);
  checkDimension('k', k);
  if (a.length < m * k || b.length < k * n || c.length < m * n) {
    throw new RangeError(
      `gemm: buffers too short for m=${m}, n=${n}, k=${k}: ` +
        `A has ${a.length} (needs ${m * k}), B has ${b.length} (needs ${k * n}), C has ${c.length} (needs ${m * n})`,
    );
  }
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${value}`);
  }
}

/**
 * dst ← `count` lines (rows of op(A) or columns of op(B)) starting at line `first`, over
 * the depths pc..pc+kc, as ⌈count/4⌉ panels of [kc×4]: element (p, r) of panel i, i.e.
 * line first+4i+r at depth pc+p, at 4i·kc + 4p + r. Lines past `count` are zero.
 * That element is src[(pc+p)·ld + first+4i+r] when `across` (4 lines adjacent in each
 * row of src), else src[(first+4i+r)·ld + pc+p] (each line a row of src).
 *
 * Panels are 4 wide (MR = NR = 4). Whole panels are copied with the 4 lines written
 * out: short inner loops over r compiled badly, and were several times slower when timed.
 */
function packPanels(dst: FloatArray, src: FloatArray, across: boolean, ld: number, first: number, count: number, pc: number, kc: number): void {
  const whole = count - (count % 4);
  for (let i = 0; i < whole; i += 4) {
    let d = i * kc;
    if (across) {
      for (let p = 0, s = pc * ld + first + i; p < kc; p++, s += ld, d += 4) {
        const x0 = src[s]!;
        const x1 = src[s + 1]!;
        const x2 = src[s + 2]!;
        const x3 = src[s + 3]!;
        dst[d] = x0;
        dst[d + 1] = x1;
        dst[d + 2] = x2;
        dst[d + 3] = x3;
      }
    } else {
      const s0 = (first + i) * ld + pc;
      const s1 = s0 + ld;
      const s2 = s1 + ld;
      const s3 = s2 + ld;
      for (let p = 0; p < kc; p++, d += 4) {
        const x0 = src[s0 + p]!;
        const x1 = src[s1 + p]!;
        const x2 = src[s2 + p]!;
        const x3 = src[s3 + p]!;
        dst[d] = x0;
        dst[d + 1] = x1;
        dst[d + 2] = x2;
        dst[d + 3] = x3;
      }
    }
  }
  if (whole === count) return;
  // The ragged last panel, zero-padded.
  const lines = count - whole;
  const panel = whole * kc;
  for (let r = 0; r < 4; r++) {
    if (r < lines) {
      const s = across ? pc * ld + first + whole + r : (first + whole + r) * ld + pc;
      const step = across ? ld : 1;
      for (let p = 0; p < kc; p++) dst[panel + 4 * p + r] = src[s + p * step]!;
    } else {
      for (let p = 0; p < kc; p++) dst[panel + 4 * p + r] = 0;
    }
  }
}

/**
 * A kernel with tiles `width` columns wide reads whole groups of width/4 panels: the
 * panels past the last of `count` lines, up to the end of its group, become zeros.
 */
function zeroPanelsTo(dst: FloatArray, count: number, width: number, kc: number): void {
  const filled = Math.ceil(count / 4) * 4;
  const needed = Math.ceil(count / width) * width;
  dst.fill(0, filled * kc, needed * kc);
}

/**
 * tile[MR×NR] = packedA[ia..] (kc×MR panel)ᵀ · packedB[ib..] (kc×NR panel).
 *
 * The 16 sums live in local variables so that TurboFan can keep them in registers (most
 * of them: it spills a few); each step loads MR + NR = 8 numbers for 16 multiply-adds. `(i + d) | 0` tells V8 the
 * index is an int32 that cannot overflow, which removes an overflow check per load.
 */
function microKernel(kc: number, ia: number, ib: number): void {
  const pa = packedA;
  const pb = packedB;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = pa[ia]!;
    const a1 = pa[(ia + 1) | 0]!;
    const a2 = pa[(ia + 2) | 0]!;
    const a3 = pa[(ia + 3) | 0]!;
    const b0 = pb[ib]!;
    const b1 = pb[(ib + 1) | 0]!;
    const b2 = pb[(ib + 2) | 0]!;
    const b3 = pb[(ib + 3) | 0]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ia = (ia + MR) | 0;
    ib = (ib + NR) | 0;
  }
  const t = tile;
  t[0] = c00;
  t[1] = c01;
  t[2] = c02;
  t[3] = c03;
  t[4] = c10;
  t[5] = c11;
  t[6] = c12;
  t[7] = c13;
  t[8] = c20;
  t[9] = c21;
  t[10] = c22;
  t[11] = c23;
  t[12] = c30;
  t[13] = c31;
  t[14] = c32;
  t[15] = c33;
}

/**
 * microKernel in float32 arithmetic, on the float32 workspaces: `f` (Math.fround, which
 * TurboFan compiles to a single-precision conversion) rounds each product and each sum
 * to single, as the f32 wasm kernel does. A double product of two floats is exact, and a
 * double sum of two floats rounded to single is their single sum, so these are IEEE
 * single-precision results.
 */
function microKernel32(kc: number, ia: number, ib: number): void {
  const pa = packedA32;
  const pb = packedB32;
  const f = Math.fround;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = pa[ia]!;
    const a1 = pa[(ia + 1) | 0]!;
    const a2 = pa[(ia + 2) | 0]!;
    const a3 = pa[(ia + 3) | 0]!;
    const b0 = pb[ib]!;
    const b1 = pb[(ib + 1) | 0]!;
    const b2 = pb[(ib + 2) | 0]!;
    const b3 = pb[(ib + 3) | 0]!;
    c00 = f(c00 + f(a0 * b0));
    c01 = f(c01 + f(a0 * b1));
    c02 = f(c02 + f(a0 * b2));
    c03 = f(c03 + f(a0 * b3));
    c10 = f(c10 + f(a1 * b0));
    c11 = f(c11 + f(a1 * b1));
    c12 = f(c12 + f(a1 * b2));
    c13 = f(c13 + f(a1 * b3));
    c20 = f(c20 + f(a2 * b0));
    c21 = f(c21 + f(a2 * b1));
    c22 = f(c22 + f(a2 * b2));
    c23 = f(c23 + f(a2 * b3));
    c30 = f(c30 + f(a3 * b0));
    c31 = f(c31 + f(a3 * b1));
    c32 = f(c32 + f(a3 * b2));
    c33 = f(c33 + f(a3 * b3));
    ia = (ia + MR) | 0;
    ib = (ib + NR) | 0;
  }
  const t = tile;
  t[0] = c00;
  t[1] = c01;
  t[2] = c02;
  t[3] = c03;
  t[4] = c10;
  t[5] = c11;
  t[6] = c12;
  t[7] = c13;
  t[8] = c20;
  t[9] = c21;
  t[10] = c22;
  t[11] = c23;
  t[12] = c30;
  t[13] = c31;
  t[14] = c32;
  t[15] = c33;
}

// Writing C is kept out of the micro-kernel: a branch there between "=" and "+=" that one
// workload never takes leaves V8 without type feedback for it, and the kernel deoptimised
// in a loop when the other branch finally ran. The copy costs MR·NR moves per kc·MR·NR
// multiply-adds. It also confines the Float32Array/Float64Array polymorphism of C to here.
// storeBlock/addBlock do the same for the wasm kernel's result block, and round exactly
// as storeTile/addTile do.

/** C[offset.., rows×cols with row stride ldc] = tile. */
function storeTile(c: FloatArray, offset: number, ldc: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ldc;
    const q = r * NR;
    for (let s = 0; s < cols; s++) c[o + s] = tile[q + s]!;
  }
}

/** C[offset.., rows×cols with row stride ldc] += tile. */
function addTile(c: FloatArray, offset: number, ldc: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ldc;
    const q = r * NR;
    for (let s = 0; s < cols; s++) c[o + s]! += tile[q + s]!;
  }
}

/**
 * C[offset.., rows×cols with row stride ldc] = a wasm kernel's result block, a row at a
 * time with TypedArray.set: a memory copy when the types match, else the same rounding
 * as an assignment.
 */
function storeBlock(c: FloatArray, block: FloatArray, offset: number, ldc: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) c.set(block.subarray(r * NC, r * NC + cols), offset + r * ldc);
}

/** C[offset.., rows×cols with row stride ldc] += a wasm kernel's result block. */
function addBlock(c: FloatArray, block: FloatArray, offset: number, ldc: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ldc;
    const q = r * NC;
    for (let s = 0; s < cols; s++) c[o + s]! += block[q + s]!;
  }
}
