import { probeTraining } from '@rxvision/train';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ExperimentError } from './experiment-error.js';

/**
 * One training step of a throwaway model at the experiment's batch size, on the backend being
 * tried: it throws where the backend lacks a kernel, and where the step does not fit the backend's
 * memory it finds the largest halved batch that does and refuses the experiment in one line that
 * says both, before anything is written.
 */
export function probeExperiment(createModel: () => LayersModel, batchSize: number, source: string): void {
  try {
    probeAt(createModel, batchSize);
  } catch (error) {
    if (!isOutOfMemory(error)) throw error;
    const fits = largestFitting(createModel, batchSize);
    const advice = fits === undefined ? 'not even a batch of 1 fits: the model is too large for this backend' : `a batch of ${fits} fits`;
    throw new ExperimentError(source, `batchSize: a training step at ${batchSize} does not fit: ${error.message}; ${advice}`);
  }
}

function probeAt(createModel: () => LayersModel, batchSize: number): void {
  const model = createModel();
  try {
    probeTraining(model, batchSize);
  } finally {
    model.dispose();
  }
}

function largestFitting(createModel: () => LayersModel, tooLarge: number): number | undefined {
  for (let size = Math.floor(tooLarge / 2); size >= 1; size = Math.floor(size / 2)) {
    try {
      probeAt(createModel, size);
      return size;
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
    }
  }
  return undefined;
}

/** @rxvision/backend's BackendMemoryError, known by name: the experiment does not depend on the backends it may run on. */
const isOutOfMemory = (error: unknown): error is Error => error instanceof Error && error.name === 'BackendMemoryError';
