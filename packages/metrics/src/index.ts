export { accuracy } from './accuracy.js';
export { type AveragedScores, type ClassificationReport, classificationReport, type ClassScores } from './classification-report.js';
export { type ConfusionMatrix, confusionMatrix, perClassAccuracy } from './confusion-matrix.js';
export type { EpochRecord, History } from './history.js';
export { averagePrecision, meanAveragePrecision } from './mean-average-precision.js';
export { meanLoss } from './mean-loss.js';
export { batchSize, type PredictionBatch, predictedClass } from './prediction-batch.js';
export { topKAccuracy } from './top-k-accuracy.js';
export { type TopLoss, topLosses } from './top-losses.js';
