import type { FloatArray } from './types.js';

// Provisional GEMM (to be replaced by the blocked kernel): packs transposed operands, then i-k-j.
let packA = new Float64Array(0);
let packB = new Float64Array(0);

export function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate: boolean): void {
  if (transA) {
    if (packA.length < m * k) packA = new Float64Array(m * k);
    for (let p = 0; p < k; p++) for (let i = 0; i < m; i++) packA[i * k + p] = a[p * m + i]!;
  }
  if (transB) {
    if (packB.length < k * n) packB = new Float64Array(k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) packB[p * n + j] = b[j * k + p]!;
  }
  const A = transA ? packA : a;
  const B = transB ? packB : b;
  if (!accumulate) c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p]!;
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * B[bp + j]!;
    }
  }
}
