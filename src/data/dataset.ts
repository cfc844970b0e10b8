/**
 * The one shape every dataset reader produces (IDX, CSV, CIFAR-10, generated), so the
 * rest of dlt (validation split, preprocessing, batching) never asks where data came from.
 */

/** An in-memory labelled dataset. Images stay uint8 until a batch is assembled. */
export interface Dataset {
  /** count × features, row-major: raw uint8 pixels, or float features for tables/generated data. */
  x: Uint8Array | Float32Array | Float64Array;
  /** Class index per sample. */
  labels: Int32Array;
  count: number;
  /** Shape of one sample: [C, H, W] for images, [D] for vectors. */
  sampleShape: number[];
  /** Where it came from, for messages (a file path or "spiral(...)"). */
  source: string;
  /** The file the labels came from, when it is not `source` (IDX keeps them in a file of their own). */
  labelSource?: string;
}
