import { resolve } from 'node:path';
import type { LabeledImages } from '@rxvision/dataset';
import { DEFAULT_DATA_DIR, openImages } from '@rxvision/dataset/node';
import { type Experiment, parseExperiment } from '@rxvision/experiment';
import { type ClassificationReport, classificationReport, perClassAccuracy } from '@rxvision/metrics';
import { evaluationBatches } from '@rxvision/stream';
import { evaluate, preprocessingTransforms } from '@rxvision/train';
import type { Command } from 'commander';
import { lastValueFrom } from 'rxjs';
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
  const { test, where } = await testSplit(flags);
  if (classes.join() !== test.classes.join())
    throw new CliError(`${flags.model}: the model's classes differ from the dataset's in ${where}`);
  if (imageShape.join() !== test.shape.join()) {
    throw new CliError(
      `${flags.model}: the model takes ${describeShape(imageShape)} images; the dataset in ${where} holds ${describeShape(test.shape)}`,
    );
  }
  const result = await lastValueFrom(
    evaluate(model, evaluationBatches(test, { batchSize: 1000, transforms: preprocessingTransforms(classifier) })()),
  );
  const perClass = Object.fromEntries(perClassAccuracy(result.confusion).map((accuracy, c) => [classes[c], accuracy]));
  const report = classificationReport(result.confusion);
  if (flags.json) {
    const scores = Object.fromEntries(report.perClass.map((row, c) => [classes[c], row]));
    const { macro, weighted } = report;
    console.log(
      JSON.stringify({
        loss: result.loss,
        accuracy: result.accuracy,
        perClassAccuracy: perClass,
        perClass: scores,
        macro,
        weighted,
        images: test.length,
      }),
    );
  } else {
    console.log(`test_loss: ${result.loss.toFixed(4)}, test_acc: ${result.accuracy.toFixed(4)} (${test.length} images)`);
    for (const line of reportTable(report, classes)) console.log(line);
  }
  model.dispose();
}

/**
 * The test split: from --data when given; else the one the run trained with (its experiment.json);
 * else CIFAR-10 in the default folder, prepared first if missing.
 */
async function testSplit(flags: EvaluateFlags): Promise<{ test: LabeledImages; where: string }> {
  if (flags.data === undefined) {
    const experiment = await trainedExperiment(flags.model);
    const dataset = experiment?.dataset;
    if (dataset?.type === 'arrow') {
      if (!dataset.test) throw new CliError(`${resolve(flags.model)}: its experiment names no test file; pass --data`);
      return { test: await openImages(dataset.test), where: typeof dataset.test === 'string' ? dataset.test : dataset.test.join(', ') };
    }
    if (dataset?.dataDir) return { test: (await loadCifar10(dataset.dataDir, ['test'])).test, where: dataset.dataDir };
  }
  const dataDir = flags.data ?? DEFAULT_DATA_DIR;
  return { test: (await loadCifar10(dataDir, ['test'])).test, where: dataDir };
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
