export { type Evaluation, evaluate } from './evaluate.js';
export { fit, type FitOptions } from './fit.js';
export { predictions } from './predictions.js';
export { probeTraining } from './probe-training.js';
export { parseSchedule, type Phase, type Schedule, totalEpochs, TUTORIAL_SCHEDULE } from './schedule.js';
export type { BatchEnd, EpochEnd, TrainingEnd, TrainingEvent, TrainingStopped } from './training-event.js';
export { NonFiniteLossError, type OptimizerWeights, type ResumeFrom, START, type TrainingPosition, type TrainingState } from './training-state.js';
