import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { MAX_OPSET, MIN_OPSET, onnxModel } from '../../export/onnxModel.js';
import { torchModule } from '../../export/torchModule.js';
import { loadTrainedModel } from '../../model/trainedModel.js';
import { jsKernels } from '../../tensor/kernels.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { withIo } from '../../util/ioError.js';
import { readTargetSnapshot } from '../snapshotTarget.js';

export interface ExportOptions {
  format: 'onnx' | 'torch';
  out?: string;
  opset: number;
}

/**
 * `dlt export <run-dir | snapshot>`: the run's best (else latest) snapshot, or the given
 * one, as an ONNX model or a PyTorch module. Writes the file atomically and returns its
 * path. By default it goes into the run directory (model.onnx, model.py), or beside a
 * snapshot file under the snapshot's name.
 */
export function exportCommand(target: string, options: ExportOptions): string {
  const { format, opset } = options;
  if (format === 'onnx' && (opset < MIN_OPSET || opset > MAX_OPSET)) {
    throw new InputError(`--opset ${opset} is not supported: dlt writes ONNX opsets ${MIN_OPSET} to ${MAX_OPSET}; leave --opset out for the default`);
  }
  const snapshot = readTargetSnapshot(target, 'best');
  const model = loadTrainedModel(snapshot, jsKernels);
  const file = options.out ?? defaultOut(target, snapshot.file, format);
  if (existsSync(file) && withIo('read', file, () => statSync(file)).isDirectory()) {
    throw new InputError(`--out names a folder; give a file name such as ${path.join(file, `model${format === 'onnx' ? '.onnx' : '.py'}`)}`, file);
  }
  if (format === 'torch' && !/^[A-Za-z_][A-Za-z0-9_]*\.py$/.test(path.basename(file))) {
    throw new InputError('a PyTorch module is imported by its file name, so it must be a Python identifier ending in .py, such as model.py', file);
  }
  writeFileAtomic(file, format === 'onnx' ? onnxModel(model, opset) : torchModule(model, file));
  return file;
}

/** model.onnx / model.py in a run directory; beside a snapshot file, its name made a Python identifier for a module. */
function defaultOut(target: string, snapshotFile: string, format: ExportOptions['format']): string {
  if (withIo('read', target, () => statSync(target)).isDirectory()) return path.join(target, format === 'onnx' ? 'model.onnx' : 'model.py');
  const stem = path.basename(snapshotFile, '.safetensors');
  const name = format === 'onnx' ? `${stem}.onnx` : `${/^[A-Za-z_]/.test(stem) ? '' : 'model_'}${stem.replace(/\W/g, '_')}.py`;
  return path.join(path.dirname(snapshotFile), name);
}
