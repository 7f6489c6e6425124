import { type ClassificationReport, classificationReport, perClassAccuracy } from '@rxvision/metrics';
import type { RunSummary } from '@rxvision/run-folder';
import { type Evaluation, scheduleEpochs, type TrainingEvent } from '@rxvision/train';
import type { ComposedExperiment } from './compose-experiment.js';
import { modelOf } from './model-types.js';
import type { RunConfig } from './run-config.js';
import type { BackendDescription } from './run-events.js';

/** What a finished run came to, for its summary. */
export interface Outcome {
  readonly model: number;
  readonly ended: Extract<TrainingEvent, { type: 'end' }>;
  readonly test: Evaluation | undefined;
  readonly backend: BackendDescription;
  readonly seconds: number;
}

/** The summary.json of a finished run: what ran, how it ended, its test figures, where and how long. */
export function summaryOf(config: RunConfig, composed: ComposedExperiment, outcome: Outcome): RunSummary {
  const { experiment } = config;
  const { train, validation } = composed;
  const { ended, test } = outcome;
  const { history } = ended;
  const model = modelOf(experiment.model, train);
  return {
    experiment: config.source,
    ...(experiment.description && { description: experiment.description }),
    architecture: model.description(),
    parameters: outcome.model,
    ...model.summary(),
    schedule: experiment.schedule,
    ...(Array.isArray(experiment.schedule) && { learningRates: experiment.schedule.map((phase) => phase.learningRate) }),
    optimizer: experiment.optimizer,
    epochs: scheduleEpochs(experiment.schedule),
    ...(ended.reason !== 'completed' && { ended: ended.reason, epochsRun: history.length }),
    ...(ended.bestEpoch !== undefined && { bestEpoch: ended.bestEpoch }),
    batchSize: experiment.batchSize,
    seed: experiment.seed,
    split: {
      train: train.length,
      validation: validation.length,
      ...(test && { test: test.confusion.counts.reduce((sum, count) => sum + count, 0) }),
    },
    ...(test && {
      test: {
        loss: test.loss,
        accuracy: test.accuracy,
        ...test.metrics,
        // By one class an image: of multi-label data they would say how often the first was top.
        ...(train.labelSet === undefined && {
          perClassAccuracy: Object.fromEntries(perClassAccuracy(test.confusion).map((a, c) => [train.classes[c], a])),
          ...scoresOf(classificationReport(test.confusion), train.classes),
        }),
      },
    }),
    lossAveraging: 'per sample over the whole split',
    backend: {
      name: outcome.backend.backend,
      package: outcome.backend.package,
      gpu: outcome.backend.gpu === true,
      ...(outcome.backend.threads !== undefined && { threads: outcome.backend.threads }),
      ...(outcome.backend.precision === 'bfloat16' && { precision: 'bfloat16' }),
    },
    seconds: outcome.seconds,
    trainingSeconds: history.reduce((sum, row) => sum + row.seconds, 0),
  };
}

/** Precision, recall and F1 by class name, and their macro means, for the summary's test figures. */
function scoresOf(report: ClassificationReport, classes: readonly string[]) {
  return {
    perClass: Object.fromEntries(report.perClass.map((scores, c) => [classes[c], scores])),
    macroPrecision: report.macro.precision,
    macroRecall: report.macro.recall,
    macroF1: report.macro.f1,
  };
}
