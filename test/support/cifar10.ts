import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One CIFAR-10 record, 1 label byte + 3072 pixel bytes, from pixel(c, h, w). */
export function cifar10Record(label: number, pixel: (c: number, h: number, w: number) => number): Uint8Array {
  const record = new Uint8Array(3073);
  record[0] = label;
  for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) record[1 + c * 1024 + h * 32 + w] = pixel(c, h, w);
  return record;
}

/**
 * A folder in the layout of cifar-10-batches-bin: data_batch_1.bin … data_batch_5.bin with
 * `perBatch` records each and test_batch.bin with `test` records. The picture of class k is
 * a flat grey of 20·k (plus a little position-dependent texture), so a model can learn it.
 */
export function writeCifar10Folder(dir: string, perBatch = 4, test = 10): string {
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const batch = (count: number): Buffer =>
    Buffer.concat(
      Array.from({ length: count }, () => {
        const label = n++ % 10;
        return cifar10Record(label, (c, h, w) => 20 * label + ((c + h + w) % 5));
      }),
    );
  for (let k = 1; k <= 5; k++) writeFileSync(path.join(dir, `data_batch_${k}.bin`), batch(perBatch));
  writeFileSync(path.join(dir, 'test_batch.bin'), batch(test));
  writeFileSync(path.join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
  return dir;
}
