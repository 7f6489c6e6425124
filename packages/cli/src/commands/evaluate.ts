import { resolve } from 'node:path';
import type { ImageShape, LabeledImages } from '@rxvision/dataset';
import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import { composeExperiment, type Experiment, parseExperiment } from '@rxvision/experiment';
import { type ClassificationReport, classificationReport, perClassAccuracy } from '@rxvision/metrics';
import { centerCrop, evaluationBatches, type Pending, type TensorBatch } from '@rxvision/stream';
import { type Classifier, type Evaluation, evaluate, type FitOptions, preprocessingTransforms } from '@rxvision/train';
import type { Command } from 'commander';
import { lastValueFrom, type Observable } from 'rxjs';
import { selectBackend } from '@rxvision/backend/node';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { RunFolder } from '@rxvision/run-folder';
import { CliError } from '../cli-error.js';
import { loadCifar10 } from '../data.js';
import { describeShape, loadRunClassifier } from '../run-folder.js';

export interface EvaluateFlags {
  readonly model: string;
  readonly data?: string;
  readonly backend: string;
  readonly threads?: string;
  readonly json?: boolean;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('test loss, accuracy and per-class accuracy of a trained run')
    .requiredOption('--model <run>', 'run folder written by rxvision train')
    .option('--data <dir>', `folder of the prepared dataset (default: the run's own, else ${DEFAULT_DATA_DIR})`)
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--json', 'print the result as JSON')
    .action(async (flags: EvaluateFlags) => {
      await runEvaluate(flags);
    });
}

export async function runEvaluate(flags: EvaluateFlags): Promise<void> {
  const threads = threadsChoice(flags.threads);
  await selectBackend(backendChoice(flags.backend), { ...(threads !== undefined && { threads }) });
  const classifier = await loadRunClassifier(flags.model);
  const { model, classes, imageShape } = classifier;
  const { test, where, batches, metrics, loss, close } = await testSplit(flags, classifier);
  try {
    if (classes.join() !== test.classes.join())
      throw new CliError(`${flags.model}: the model's classes differ from the dataset's in ${where}`);
    const result = await lastValueFrom(evaluate(model, batches(imageShape), metrics, loss));
    report(result, classes, test.length, flags.json === true, test.labelSet !== undefined);
  } finally {
    model.dispose();
    await close();
  }
}

/** The figures; of multi-label data without those of one class an image (by the first label they would mislead). */
function report(result: Evaluation, classes: readonly string[], images: number, json: boolean, multiLabel: boolean): void {
  const scores = classificationReport(result.confusion);
  if (json) {
    const { macro, weighted } = scores;
    const byClass = {
      perClassAccuracy: Object.fromEntries(perClassAccuracy(result.confusion).map((accuracy, c) => [classes[c], accuracy])),
      perClass: Object.fromEntries(scores.perClass.map((row, c) => [classes[c], row])),
      macro,
      weighted,
    };
    console.log(JSON.stringify({ loss: result.loss, accuracy: result.accuracy, ...result.metrics, ...(!multiLabel && byClass), images }));
  } else {
    const extra = Object.entries(result.metrics).map(([name, value]) => `, test_${name}: ${value.toFixed(4)}`);
    console.log(`test_loss: ${result.loss.toFixed(4)}, test_acc: ${result.accuracy.toFixed(4)}${extra.join('')} (${images} images)`);
    if (!multiLabel) for (const line of reportTable(scores, classes)) console.log(line);
  }
}

/** A test split and its batches for a model of `shape`, and what closes the files it opened. */
interface TestSplit {
  readonly test: LabeledImages;
  readonly where: string;
  readonly batches: (shape: ImageShape) => Observable<Pending<TensorBatch>>;
  /** The run's own metrics and loss where its experiment asks for others (multi-label: mAP, sigmoid cross-entropy). */
  readonly metrics?: FitOptions['metrics'];
  readonly loss?: FitOptions['validationLoss'];
  readonly close: () => Promise<void>;
}

/**
 * The test split: the one the run trained with, as its experiment made it (any dataset type, centre
 * crop and normalisation as the run's own test figures were taken); else from --data (or CIFAR-10
 * in the default folder, prepared first if missing), centre-cropped where the model takes smaller images.
 */
async function testSplit(flags: EvaluateFlags, classifier: Classifier): Promise<TestSplit> {
  const experiment = flags.data === undefined ? await trainedExperiment(flags.model) : undefined;
  if (experiment) {
    const source = new RunFolder(flags.model).file('experiment');
    const composed = await composeExperiment(experiment, { source });
    if (!composed.test || !composed.testBatches) {
      await composed.close();
      throw new CliError(`${resolve(flags.model)}: its experiment's dataset has no test split; pass --data`);
    }
    const { test, testBatches } = composed;
    const { metrics, validationLoss } = composed.fitOptions;
    return {
      test,
      where: source,
      ...(metrics && { metrics }),
      ...(validationLoss && { loss: validationLoss }),
      batches: (shape) => {
        cropFor(flags.model, shape, test, source); // the experiment's batches crop as it did; only checked here
        return testBatches();
      },
      close: () => composed.close(),
    };
  }
  const dataDir = flags.data ?? DEFAULT_DATA_DIR;
  const { test } = await loadCifar10(dataDir, ['test']);
  const batches = (shape: ImageShape) => {
    const crop = cropFor(flags.model, shape, test, dataDir);
    const transforms = [...(crop ? [centerCrop(crop)] : []), ...preprocessingTransforms(classifier)];
    return evaluationBatches(test, { batchSize: 1000, transforms })();
  };
  return { test, where: dataDir, batches, close: async () => undefined };
}

/**
 * The centre [height, width] to crop `test`'s images to for a model of `shape` (none where they
 * are its size), as training's validation did; refused in one line where no crop fits them.
 */
function cropFor(run: string, shape: ImageShape, test: LabeledImages, where: string): [number, number] | undefined {
  const [h, w, c] = shape;
  const [height, width, channels] = test.shape;
  if (h === height && w === width && c === channels) return undefined;
  if (h <= height && w <= width && c === channels) return [h, w];
  throw new CliError(`${run}: the model takes ${describeShape(shape)} images; the dataset in ${where} holds ${describeShape(test.shape)}`);
}

/** The experiment a run was trained with, or undefined for a run from before experiment files. */
async function trainedExperiment(run: string): Promise<Experiment | undefined> {
  const folder = new RunFolder(run);
  const stored = await folder.readExperiment();
  if (stored === undefined) return undefined;
  const { source: _source, ...experiment } = stored as Record<string, unknown>;
  return parseExperiment(experiment, folder.file('experiment'));
}

/** scikit-learn's classification report as a table: a row per class, then the macro and weighted means. */
function reportTable(report: ClassificationReport, classes: readonly string[]): string[] {
  const width = Math.max(12, ...classes.map((name) => name.length));
  const row = (name: string, s: { precision: number; recall: number; f1: number }, support: number) =>
    `  ${name.padEnd(width)} ${[s.precision, s.recall, s.f1].map((v) => v.toFixed(3).padStart(9)).join(' ')} ${String(support).padStart(8)}`;
  return [
    `  ${''.padEnd(width)} ${['precision', 'recall', 'f1'].map((h) => h.padStart(9)).join(' ')} ${'images'.padStart(8)}`,
    ...report.perClass.map((scores, c) => row(classes[c]!, scores, scores.support)),
    row('macro avg', report.macro, report.support),
    row('weighted avg', report.weighted, report.support),
  ];
}
