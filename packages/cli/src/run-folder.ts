import type { ImageShape } from '@rxvision/dataset';
import { savedClassifierFolder } from '@rxvision/experiment';
import type { Classifier } from '@rxvision/train';
import { loadClassifier } from '@rxvision/train/node';

/**
 * Loads the classifier (its model with class names and normalisation) of a run folder, or of a
 * folder saveClassifier wrote; one line when it cannot.
 */
export async function loadRunClassifier(run: string): Promise<Classifier> {
  return loadClassifier(await savedClassifierFolder(run));
}

/** "32×32×3" */
export function describeShape(shape: ImageShape): string {
  return shape.join('×');
}
