export { buildModel, resolveModelSpec, modelRegistry, type ModelSpec, type LayerSpec } from './models.js';
export { getWeights, setWeights, isKernel } from './weights.js';
export { saveModel, loadModel, modelExists } from './io.js';
export { train, splitValidation, sparseCategoricalCrossEntropy, type TrainOptions, type EpochLog } from './train.js';
export { evaluate, forward, collectActivations, type ActivationHook, type EvaluateOptions, type Evaluation } from './evaluate.js';
