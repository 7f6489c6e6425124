import type { Pending, TensorBatch } from '@rxvision/stream';
import { dispose } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concat, concatMap, defer, finalize, map, type Observable, of, range, scan, takeWhile, tap } from 'rxjs';
import { queueStep } from './fit.js';
import { type Loss, softmaxCrossEntropy } from './loss.js';
import { type OptimizerSpec, PLAIN_SGD, TrainingOptimizer } from './optimizer.js';

export interface LrFinderOptions {
  /** One epoch's training batches (`epochBatches`), called for as many epochs as the steps need. */
  readonly trainBatches: (epoch: number, skipBatches: number) => Observable<Pending<TensorBatch>>;
  readonly optimizer?: OptimizerSpec;
  readonly loss?: Loss;
  /** The first and the last rate, and the steps between them (fastai's 1e-7, 10 and 100). */
  readonly startLearningRate?: number;
  readonly endLearningRate?: number;
  readonly steps?: number;
}

/** A step of the range test: its rate and the loss so far, smoothed as fastai's recorder does. */
export interface LrFinderStep {
  readonly step: number;
  readonly learningRate: number;
  readonly loss: number;
}

export interface LrFinderResult {
  readonly steps: readonly LrFinderStep[];
  /** fastai's `valley`: the rate a third of the way into the longest run of falling loss, or undefined for too short a curve. */
  readonly suggestion: number | undefined;
  /** fastai's other suggestions on the same trimmed curve: `minimum` (a tenth of the rate at the lowest loss) and `steep` (the steepest fall). */
  readonly suggestions: { readonly valley?: number; readonly minimum?: number; readonly steep?: number };
}

/**
 * Leslie Smith's range test, as fastai's `lr_find`: a short run over exponentially rising rates
 * (rate i of n is start·(end/start)^(i/n)), stopped where the smoothed loss passes four times its
 * best; emits each step, then the curve with a suggested rate. The model's weights, running
 * statistics included, are put back as they were when it ends or is unsubscribed.
 */
export function lrFinder(model: LayersModel, options: LrFinderOptions): Observable<LrFinderStep | LrFinderResult> {
  const { startLearningRate = 1e-7, endLearningRate = 10, steps = 100 } = options;
  if (!(startLearningRate > 0 && endLearningRate > startLearningRate))
    throw new RangeError(`lrFinder: rates must rise from above 0, got ${startLearningRate} to ${endLearningRate}`);
  if (!(Number.isInteger(steps) && steps >= 6)) throw new RangeError(`lrFinder: steps must be an integer of at least 6, got ${steps}`);
  const loss = options.loss ?? softmaxCrossEntropy();
  return defer(() => {
    const kept = model.getWeights().map((weight) => weight.clone());
    const optimizer = new TrainingOptimizer(options.optimizer ?? PLAIN_SGD, startLearningRate);
    const rateAt = (step: number) => startLearningRate * (endLearningRate / startLearningRate) ** (step / steps);
    const batches = range(0, steps).pipe(
      concatMap((epoch) => options.trainBatches(epoch, 0)),
      concatMap((pending) => pending),
    );
    const recorded = batches.pipe(
      map((batch, step) => {
        try {
          const learningRate = rateAt(step);
          optimizer.setLearningRate(learningRate);
          const value = queueStep(model, optimizer, loss, batch);
          const read = value.dataSync()[0]!;
          value.dispose();
          return { step, learningRate, raw: read };
        } finally {
          batch.dispose();
        }
      }),
      // fastai's AvgSmoothLoss (β 0.98, debiased) and its stop: past 4× the best, or not finite, or n steps.
      scan(
        (state, { step, learningRate, raw }) => {
          const average = 0.98 * state.average + 0.02 * raw;
          const smoothed = average / (1 - 0.98 ** (step + 1));
          return { average, best: Math.min(state.best, smoothed), step: { step, learningRate, loss: smoothed } };
        },
        { average: 0, best: Number.POSITIVE_INFINITY, step: undefined as LrFinderStep | undefined },
      ),
      takeWhile(({ step, best }) => step!.step < steps - 1 && Number.isFinite(step!.loss) && step!.loss <= 4 * best, true),
      map(({ step }) => step!),
    );
    const curve: LrFinderStep[] = [];
    return concat(
      recorded.pipe(tap((step) => curve.push(step))),
      defer(() => of({ steps: curve, suggestion: suggestLearningRate(curve, steps), suggestions: suggestLearningRates(curve, steps) })),
    ).pipe(
      finalize(() => {
        model.setWeights(kept);
        dispose(kept);
        optimizer.dispose();
      }),
    );
  });
}

/**
 * fastai's `valley` on the curve as `lr_find` trims it (the first tenth of the planned steps and the
 * last five left out, where the loss is noise or diverging): the longest stretch over which the loss
 * keeps falling, and the rate a third of the way into it (half a third further).
 */
export function suggestLearningRate(curve: readonly LrFinderStep[], plannedSteps = curve.length): number | undefined {
  const kept = trimmed(curve, plannedSteps);
  const losses = kept.map((step) => step.loss);
  const n = losses.length;
  if (n < 2) return undefined;
  const longest = new Array<number>(n).fill(1);
  let start = 0;
  let end = 0;
  for (let i = 1; i < n; i++)
    for (let j = 0; j < i; j++) {
      if (losses[i]! < losses[j]! && longest[i]! < longest[j]! + 1) longest[i] = longest[j]! + 1;
      if (longest[end]! < longest[i]!) {
        end = i;
        start = end - longest[end]!;
      }
    }
  const sections = (end - start) / 3;
  return kept[start + Math.trunc(sections) + Math.trunc(sections / 2)]!.learningRate;
}

/** The curve as lr_find hands it to its suggestions: the first tenth of the planned steps and the last five left out. */
const trimmed = (curve: readonly LrFinderStep[], plannedSteps: number) =>
  curve.slice(Math.floor(plannedSteps / 10), Math.max(0, curve.length - 5));

/** fastai's three suggestions on the same trimmed curve (undefined where it is too short). */
export function suggestLearningRates(curve: readonly LrFinderStep[], plannedSteps = curve.length): LrFinderResult['suggestions'] {
  const kept = trimmed(curve, plannedSteps);
  if (kept.length < 2) return {};
  const lowest = kept.reduce((best, step) => (step.loss < best.loss ? step : best));
  // d loss / d log rate between neighbours; the rate where it falls fastest (fastai's `steep`).
  let steepest = 0;
  const slope = (i: number) => (kept[i + 1]!.loss - kept[i]!.loss) / Math.log(kept[i + 1]!.learningRate / kept[i]!.learningRate);
  for (let i = 1; i < kept.length - 1; i++) if (slope(i) < slope(steepest)) steepest = i;
  return { valley: suggestLearningRate(curve, plannedSteps)!, minimum: lowest.learningRate / 10, steep: kept[steepest]!.learningRate };
}
