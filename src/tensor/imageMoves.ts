import type { FloatArray } from './types.js';

// The pixel moves of data augmentation (src/data/augment.ts), done in place on one
// image of a batch. They only move values and write zeros, so every backend gives the
// same bits.

/**
 * x[at .. at + C·H·W) is one image (C, H, W). Shifts every map dy rows down and dx
 * columns right, in place: out[c, y, x] = in[c, y − dy, x − dx], or 0 where that lies
 * outside the image (|dy| ≥ H or |dx| ≥ W leaves zeros only).
 */
export function shiftImage(x: FloatArray, at: number, C: number, H: number, W: number, dy: number, dx: number): void {
  if (dy === 0 && dx === 0) return;
  // Rows, and columns within a row, are visited against the direction of the shift, so
  // that each value is read before the value moved onto it overwrites it.
  for (let c = 0; c < C; c++) {
    const plane = at + c * H * W;
    for (let i = 0; i < H; i++) {
      const y = dy > 0 ? H - 1 - i : i;
      const row = plane + y * W;
      const sy = y - dy;
      if (sy < 0 || sy >= H) {
        x.fill(0, row, row + W);
        continue;
      }
      const from = plane + sy * W - dx; // x[from + col] = in[c, sy, col − dx]
      if (dx > 0) {
        for (let col = W - 1; col >= dx; col--) x[row + col] = x[from + col]!;
        x.fill(0, row, row + Math.min(dx, W));
      } else {
        const end = W + dx; // columns [end, W) come from beyond the right edge
        for (let col = 0; col < end; col++) x[row + col] = x[from + col]!;
        x.fill(0, row + Math.max(end, 0), row + W);
      }
    }
  }
}

/** x[at .. at + C·H·W) is one image (C, H, W). Mirrors every map left–right in place: out[c, y, x] = in[c, y, W − 1 − x]. */
export function flipImage(x: FloatArray, at: number, C: number, H: number, W: number): void {
  for (let r = 0; r < C * H; r++) {
    for (let lo = at + r * W, hi = lo + W - 1; lo < hi; lo++, hi--) {
      const t = x[lo]!;
      x[lo] = x[hi]!;
      x[hi] = t;
    }
  }
}
