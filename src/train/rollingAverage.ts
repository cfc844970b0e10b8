/**
 * Mean of the last `window` values (tutorial: "use rolling average of batch loss
 * value" instead of evaluating the whole training set). The sum is recomputed from the
 * window, not updated incrementally, so rounding never drifts over a long run.
 */
export class RollingAverage {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly window: number) {
    this.values = new Float64Array(window);
  }

  push(value: number): number {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.window;
    if (this.count < this.window) this.count++;
    return this.mean();
  }

  mean(): number {
    if (this.count === 0) return NaN;
    // Oldest first, whatever slot the window starts at: floating-point addition is not
    // associative, and a window restored from a snapshot (fromState) starts at slot 0,
    // so summing in slot order would differ in the last bit after a resume.
    const start = this.count < this.window ? 0 : this.next;
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.values[(start + i) % this.window]!;
    return sum / this.count;
  }

  /** The values oldest first, for a snapshot. */
  toState(): number[] {
    const out: number[] = [];
    const start = this.count < this.window ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.values[(start + i) % this.window]!);
    return out;
  }

  fromState(values: readonly number[]): void {
    this.next = 0;
    this.count = 0;
    for (const v of values.slice(-this.window)) this.push(v);
  }
}
