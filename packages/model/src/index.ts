export { BATCH_NORM_KERNELS, batchNormalization } from './batch-normalization.js';
export { type ClassifierOptions } from './classifier-options.js';
export { createCnn, type CnnOptions } from './cnn.js';
export { createMlp, type MlpOptions } from './mlp.js';
export { createResNet, type ResNetOptions } from './resnet.js';
export { createTutorialModel, TUTORIAL_HIDDEN_UNITS, type TutorialModelOptions } from './tutorial-model.js';
