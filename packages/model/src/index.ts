export { BATCH_NORM_KERNELS, batchNormalization } from './batch-normalization.js';
export { type ClassifierOptions, MAX_PARAMETERS } from './classifier-options.js';
export { checkCnnOptions, createCnn, type CnnOptions } from './cnn.js';
export { checkMlpOptions, createMlp, type MlpOptions } from './mlp.js';
export { checkResNetOptions, createResNet, type ResNetOptions } from './resnet.js';
export { createTutorialModel, TUTORIAL_HIDDEN_UNITS, type TutorialModelOptions } from './tutorial-model.js';
export { AIRBENCH_WIDTHS, type AirbenchOptions, checkAirbenchOptions, createAirbench } from './airbench.js';
export { symmetricEigen, whiteningKernel, type WhiteningOptions } from './whitening.js';
