/** The three reference networks of ../shared/BENCHMARKS.md: `cnn` is configs/fashion-cnn.yaml's. */
export type Network = 'mlp' | 'lenet' | 'cnn';

/** Their layer lists, as a config's model.layers. */
export const REFERENCE_LAYERS: Record<Network, unknown[]> = {
  mlp: ['flatten', { type: 'dense', units: 256 }, 'relu', { type: 'dense', units: 128 }, 'relu', { type: 'dense', units: 10 }],
  lenet: [
    { type: 'conv2d', filters: 20, kernel: 5 },
    { type: 'maxpool2d', size: 2 },
    { type: 'conv2d', filters: 50, kernel: 5 },
    { type: 'maxpool2d', size: 2 },
    'flatten',
    { type: 'dense', units: 500 },
    'relu',
    { type: 'dense', units: 10 },
  ],
  cnn: [
    { type: 'conv2d', filters: 32, kernel: 3, padding: 'same' },
    'relu',
    { type: 'maxpool2d', size: 2 },
    { type: 'conv2d', filters: 64, kernel: 3, padding: 'same' },
    'relu',
    { type: 'maxpool2d', size: 2 },
    'flatten',
    { type: 'dense', units: 128 },
    'relu',
    { type: 'dropout', rate: 0.5 },
    { type: 'dense', units: 10, init: 'xavier' },
  ],
};

/** Their optimisers, as torch_reference.py sets them. */
export const REFERENCE_OPTIMIZERS: Record<Network, object> = {
  mlp: { type: 'sgd', lr: 0.05, momentum: 0.9 },
  lenet: { type: 'sgd', lr: 0.01, momentum: 0.9 },
  cnn: { type: 'adam', lr: 0.001 },
};
