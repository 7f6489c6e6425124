import type { RunProgress } from '@rxvision/run-folder';
import type { BatchEnd } from '@rxvision/train';

/** Most per-step points progress.json keeps: past it, every other one goes and the stride doubles. */
export const MAX_STEP_POINTS = 512;

/**
 * Where a run is and its per-step loss and learning rate, as progress.json holds them: the series
 * keeps every `stride`-th step of the run, the stride doubling whenever it would pass `maxPoints`, so
 * the file stays small however long the run.
 */
export class ProgressRecorder {
  #stride = 1;
  #steps: number[] = [];
  #loss: number[] = [];
  #learningRate: number[] = [];
  #epochSeconds: number[];
  #last: BatchEnd | undefined;
  #epochStarted = 0;
  #epochSamples = 0;
  /** Steps of the current epoch this process trained (a resumed run starts inside one). */
  #epochSteps = 0;

  constructor(
    readonly epochs: number,
    readonly stepsPerEpoch: number,
    pastEpochSeconds: readonly number[] = [],
    readonly maxPoints = MAX_STEP_POINTS,
  ) {
    this.#epochSeconds = [...pastEpochSeconds];
  }

  batch(event: BatchEnd, now = performance.now()): void {
    if (this.#last === undefined || event.epoch !== this.#last.epoch || event.step < this.#last.step) {
      this.#epochStarted = now;
      this.#epochSamples = 0;
      this.#epochSteps = 0;
    }
    this.#last = event;
    this.#epochSamples += event.size;
    this.#epochSteps++;
    const step = (event.epoch - 1) * this.stepsPerEpoch + event.step;
    if (step % this.#stride !== 0) return;
    this.#steps.push(step);
    this.#loss.push(event.loss);
    this.#learningRate.push(event.learningRate);
    if (this.#steps.length > this.maxPoints) {
      this.#stride *= 2;
      const kept = (series: number[]) => series.filter((_, i) => this.#steps[i]! % this.#stride === 0);
      this.#loss = kept(this.#loss);
      this.#learningRate = kept(this.#learningRate);
      this.#steps = kept(this.#steps);
    }
  }

  /** An epoch ended after `seconds` (validation included): the pace of the epochs to come. */
  epoch(seconds: number): void {
    this.#epochSeconds.push(seconds);
  }

  snapshot(now = performance.now()): RunProgress | undefined {
    const last = this.#last;
    if (!last) return undefined;
    const elapsed = (now - this.#epochStarted) / 1000;
    const stepSeconds = elapsed / this.#epochSteps;
    const epochSeconds =
      this.#epochSeconds.length > 0
        ? this.#epochSeconds.reduce((a, b) => a + b, 0) / this.#epochSeconds.length
        : stepSeconds * this.stepsPerEpoch;
    return {
      epoch: last.epoch,
      epochs: this.epochs,
      step: last.step,
      stepsPerEpoch: this.stepsPerEpoch,
      samplesPerSecond: elapsed > 0 ? this.#epochSamples / elapsed : 0,
      secondsLeft: Math.max(0, (this.stepsPerEpoch - last.step) * stepSeconds + (this.epochs - last.epoch) * epochSeconds),
      updated: new Date().toISOString(),
      steps: { stride: this.#stride, step: [...this.#steps], loss: [...this.#loss], learningRate: [...this.#learningRate] },
    };
  }
}
