import type { Rng } from '../util/rng.js';

/**
 * The order in which an epoch visits the training samples (tutorial: "shuffle data,
 * partition into batches"): reshuffled at the start of every epoch from the seed's
 * "shuffle" stream. A snapshot taken inside an epoch keeps the stream as it was before
 * that epoch's shuffle, so a resumed run shuffles again and gets the same order.
 */
export class EpochOrder {
  /** Sample k of the epoch is split sample indices[k]. */
  readonly indices: Uint32Array;
  private atEpochStart: number[];

  constructor(
    private readonly rng: Rng,
    count: number,
    private readonly shuffle: boolean,
  ) {
    this.indices = new Uint32Array(count);
    this.atEpochStart = rng.toState();
  }

  begin(): void {
    this.atEpochStart = this.rng.toState();
    for (let i = 0; i < this.indices.length; i++) this.indices[i] = i;
    if (this.shuffle) this.rng.shuffle(this.indices);
  }

  /** The stream state for a snapshot: from before this epoch's shuffle when `insideEpoch`, else as it is. */
  state(insideEpoch: boolean): number[] {
    return insideEpoch ? this.atEpochStart : this.rng.toState();
  }

  restore(state: readonly number[]): void {
    this.rng.setState(state);
  }
}
