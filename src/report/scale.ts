/**
 * Axis scales for the charts: a value range, the ticks to label it with, and the map
 * from value to pixel. Ticks are "nice" numbers — 1, 2 or 5 times a power of ten — so
 * labels read 0, 0.5, 1, 1.5 rather than 0, 0.43, 0.86.
 */

export interface Scale {
  /** The value range drawn, [lo, hi]. */
  readonly lo: number;
  readonly hi: number;
  /** Values to draw a tick and a label at, inside [lo, hi], increasing. */
  readonly ticks: readonly number[];
  /** The text of each tick's label. */
  readonly labels: readonly string[];
  /** Value → pixel between `from` (at lo) and `to` (at hi); `to` < `from` for y axes. */
  pixel(value: number, from: number, to: number): number;
}

/** The smallest nice step (1, 2 or 5 × 10^k) that is at least `rough`. */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) throw new Error(`niceStep of ${rough}`);
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) {
    // the tolerance absorbs log10's rounding, so niceStep(0.3) is 0.5 and niceStep(0.2) is 0.2
    if (m * power >= rough * (1 - 1e-9)) return m * power;
  }
  return 10 * power;
}

/** Decimals needed to print multiples of `step` exactly (0.25 → 2, 5 → 0). */
function decimalsOf(step: number): number {
  for (let d = 0; d < 20; d++) {
    if (Math.abs(Number(step.toFixed(d)) - step) <= step * 1e-9) return d;
  }
  return 20;
}

/**
 * A linear scale over [lo, hi] with at most about `maxIntervals` tick intervals.
 * `extend`: widen the range out to the enclosing ticks (y axes, so curves do not touch
 * the frame at an unlabelled value); otherwise keep [lo, hi] and label only the ticks
 * inside (the step axis, which should end where the run ends). `clamp` bounds an
 * extended range (accuracy never goes past [0, 1]). `minStep`: no finer ticks (steps are whole).
 */
export function linearScale(
  lo: number,
  hi: number,
  maxIntervals: number,
  options: { extend?: boolean; clamp?: [number, number]; minStep?: number } = {},
): Scale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new Error(`linearScale(${lo}, ${hi})`);
  if (lo === hi) {
    // One value: give it some room, so it is drawn as a line in the middle.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = Math.max(niceStep((hi - lo) / maxIntervals), options.minStep ?? 0);
  const decimals = decimalsOf(step);
  if (options.extend) {
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
  }
  if (options.clamp) {
    lo = Math.max(lo, options.clamp[0]);
    hi = Math.min(hi, options.clamp[1]);
  }
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    ticks.push(Number((k * step).toFixed(decimals)));
  }
  const thousands = step >= 1000 && step < 1e6 && ticks.every((t) => t % 1000 === 0);
  const huge = step >= 1e6;
  const labels = ticks.map((t) => (t === 0 && (thousands || huge) ? '0' : thousands ? `${t / 1000}k` : huge ? formatNumber(t) : t.toFixed(decimals)));
  return {
    lo,
    hi,
    ticks,
    labels,
    pixel: (value, from, to) => from + ((value - lo) / (hi - lo)) * (to - from),
  };
}

/**
 * A base-10 logarithmic scale covering [lo, hi] (both > 0), from the decade at or
 * below lo to the decade at or above hi. Decades are labelled; when the range is a
 * single decade, 2× and 5× ticks are added so the axis still has a few labels.
 */
export function logScale(lo: number, hi: number): Scale {
  if (!(lo > 0) || !(hi >= lo) || !Number.isFinite(hi)) throw new Error(`logScale(${lo}, ${hi})`);
  let first = Math.floor(Math.log10(lo) + 1e-9);
  let last = Math.ceil(Math.log10(hi) - 1e-9);
  if (first === last) {
    // A constant learning rate that is itself a power of ten: a decade each side.
    first -= 1;
    last += 1;
  }
  const decades = last - first;
  const every = Math.ceil(decades / 8); // at most about 8 labelled decades
  const ticks: number[] = [];
  for (let e = first; e <= last; e++) {
    if ((e - first) % every === 0) ticks.push(Number(`1e${e}`));
    if (decades === 1 && e < last) ticks.push(Number(`2e${e}`), Number(`5e${e}`));
  }
  const loValue = Number(`1e${first}`);
  const hiValue = Number(`1e${last}`);
  const span = Math.log10(hiValue) - Math.log10(loValue);
  return {
    lo: loValue,
    hi: hiValue,
    ticks,
    labels: ticks.map(formatNumber),
    pixel: (value, from, to) => from + ((Math.log10(value) - first) / span) * (to - from),
  };
}

/**
 * A scale of named categories (a swept list of strings, booleans or lists): category k
 * is drawn at value k, in the middle of its band, with half a band to spare at each end.
 */
export function categoryScale(labels: readonly string[]): Scale {
  if (labels.length === 0) throw new Error('categoryScale of no categories');
  const lo = -0.5;
  const hi = labels.length - 0.5;
  return {
    lo,
    hi,
    ticks: labels.map((_, k) => k),
    labels: [...labels],
    pixel: (value, from, to) => from + ((value - lo) / (hi - lo)) * (to - from),
  };
}

/** A number for a label: 0.001 to 99999 in plain notation (at most 4 significant digits), else 1e-5. */
export function formatNumber(value: number): string {
  const rounded = Number(value.toPrecision(4));
  const size = Math.abs(rounded);
  if (size === 0 || (size >= 1e-3 && size < 1e5)) return String(rounded);
  return rounded.toExponential().replace('e+', 'e');
}
