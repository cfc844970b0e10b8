/**
 * A bounded keeper of the K largest items of a stream, in O(K) memory and O(log K) per
 * item: a binary min-heap whose root is the worst item kept, so a new item only has to
 * beat the root to get in.
 *
 * Ties are decided by arrival: of two items with equal values, the one pushed first
 * ranks higher. So the heap orders by (value, then later arrival) as "worse", a new item
 * with the root's value is turned away (it arrived last), and `sorted()` lists equal
 * values in the order they were pushed. Pushing samples in split order thus keeps, on a
 * tie, the lower sample. NaN values are never kept: they rank against nothing.
 */
export class TopK<T> {
  /** Heap of the kept entries: entries[0] is the worst, each parent worse than its children. */
  private readonly entries: { item: T; value: number; seq: number }[] = [];
  /** Items pushed so far, the arrival stamp of the next. */
  private pushed = 0;

  constructor(
    /** How many items to keep (0 keeps none). */
    readonly k: number,
    /** The value items are ranked by, largest first. */
    private readonly rankOf: (item: T) => number,
  ) {
    if (!Number.isInteger(k) || k < 0) throw new Error(`TopK needs a whole k ≥ 0, got ${k}`);
  }

  /** Items kept, at most k. */
  get size(): number {
    return this.entries.length;
  }

  /** Offer an item; true when it is kept (for now: a later, larger item may push it out). */
  push(item: T): boolean {
    const value = this.rankOf(item);
    const seq = this.pushed++;
    if (Number.isNaN(value) || this.k === 0) return false;
    const entry = { item, value, seq };
    const heap = this.entries;
    if (heap.length < this.k) {
      heap.push(entry);
      this.siftUp(heap.length - 1);
      return true;
    }
    // Equal to the root is not enough: the root arrived earlier and so ranks higher.
    if (!(value > heap[0]!.value)) return false;
    heap[0] = entry;
    this.siftDown(0);
    return true;
  }

  /** The kept items, largest first; equal values in the order they were pushed. */
  sorted(): T[] {
    return [...this.entries].sort((a, b) => b.value - a.value || a.seq - b.seq).map((e) => e.item);
  }

  /** Entry i ranks below entry j: a smaller value, or the same value pushed later. */
  private worse(i: number, j: number): boolean {
    const a = this.entries[i]!;
    const b = this.entries[j]!;
    return a.value < b.value || (a.value === b.value && a.seq > b.seq);
  }

  private swap(i: number, j: number): void {
    const heap = this.entries;
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.entries.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < n && this.worse(left, worst)) worst = left;
      if (right < n && this.worse(right, worst)) worst = right;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}
