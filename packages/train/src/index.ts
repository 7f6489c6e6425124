export { type Evaluation, evaluate, type Metric } from './evaluate.js';
export { fit, type FitOptions } from './fit.js';
export {
  lrFinder,
  type LrFinderOptions,
  type LrFinderResult,
  type LrFinderStep,
  suggestLearningRate,
  suggestLearningRates,
} from './lr-finder.js';
export {
  asSchedule,
  checkSchedule,
  type LearningRateSchedule,
  learningRateAt,
  phaseAt,
  type PlateauSchedule,
  scheduleEpochs,
} from './learning-rate.js';
export {
  balancedClassWeights,
  type Loss,
  sigmoidCrossEntropy,
  type SigmoidCrossEntropyOptions,
  softmaxCrossEntropy,
  type SoftmaxCrossEntropyOptions,
} from './loss.js';
export { type OptimizerSpec, type ParameterGroup, PLAIN_SGD, TrainingOptimizer } from './optimizer.js';
export { predictions } from './predictions.js';
export { probeTraining } from './probe-training.js';
export { parseSchedule, type Phase, type Schedule, totalEpochs, TUTORIAL_SCHEDULE } from './schedule.js';
export type { BatchEnd, EpochEnd, TrainingEnd, TrainingEvent, TrainingStopped } from './training-event.js';
export {
  bestEpoch,
  type EarlyStopping,
  type EndReason,
  type Monitor,
  monitored,
  type StoppingOptions,
  stopReason,
  type TrialDecision,
  type TrialPolicy,
  type Watched,
} from './stopping.js';
export { beforeEpoch, type EpochDecision } from './epoch-policy.js';
export {
  type BestWeights,
  disposeResume,
  NonFiniteLossError,
  type OptimizerWeights,
  ResumeError,
  type ResumeFrom,
  resumeProblem,
  START,
  type TrainingPosition,
  type TrainingState,
} from './training-state.js';
export {
  asClassifier,
  type Classifier,
  ClassifierError,
  classifierOf,
  type Images,
  predict,
  type PredictOptions,
  type Preprocessing,
  preprocessingTransforms,
  topClasses,
} from './classifier.js';
export { classifierToOnnx } from './classifier-onnx.js';
export { augmentedLogits, TEST_TIME_AUGMENTATIONS, type TestTimeAugmentation } from './test-time-augmentation.js';
export { checkLookahead, type LookaheadOptions } from './lookahead.js';
export { checkEma, DEFAULT_EMA_DECAY, type EmaOptions } from './weight-ema.js';
