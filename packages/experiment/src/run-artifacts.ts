import type { EpochRecord } from '@rxvision/metrics';
import { accuracyChart, confusionMatrixChart, lossChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import type { ClaimedRunFolder } from '@rxvision/run-folder';
import { type Classifier, classifierToOnnx, type Evaluation, evaluate } from '@rxvision/train';
import { saveClassifier } from '@rxvision/train/node';
import { lastValueFrom } from 'rxjs';
import type { ComposedExperiment } from './compose-experiment.js';
import { TOP_LOSS_COUNT, topLossEntries } from './top-losses-file.js';

/**
 * What a finished run leaves beside its history, each through the run folder's claim: the model
 * with its preprocessing (tfjs and ONNX), the loss and accuracy charts, and on the test split (when
 * the dataset has one) the evaluation, drawn as a confusion matrix and returned for the summary,
 * with the test images it gets most wrong (top-losses.json).
 */
export async function writeRunArtifacts(
  run: ClaimedRunFolder,
  classifier: Classifier,
  history: readonly EpochRecord[],
  composed: ComposedExperiment,
): Promise<Evaluation | undefined> {
  await saveClassifier(run.file('model'), classifier, { claim: run.claim });
  await run.writeFile('onnxModel', classifierToOnnx(classifier));
  await run.writeFile('loss', await renderPng(lossChart(history)));
  await run.writeFile('accuracy', await renderPng(accuracyChart(history)));
  const { metrics, validationLoss, testTimeAugmentation } = composed.fitOptions;
  const test =
    composed.testBatches &&
    (await lastValueFrom(
      evaluate(classifier.model, composed.testBatches(), metrics, validationLoss, testTimeAugmentation, TOP_LOSS_COUNT),
    ));
  if (test) {
    const chart = confusionMatrixChart(test.confusion, composed.train.classes);
    await run.writeFile('confusionMatrix', await renderPng(chart));
    // By one true class an image: of label sets it would name only the first (not written for them yet).
    if (composed.test && test.topLosses && composed.train.labelSet === undefined)
      await run.writeFile('topLosses', `${JSON.stringify(await topLossEntries(composed.test, test.topLosses), null, 1)}\n`);
  }
  return test;
}
