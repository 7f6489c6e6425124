import { createRandom, ImageDataset } from '@rxvision/dataset';
import type { TrainingEvent } from '../src/index.js';

/**
 * A learnable toy problem: 4×4 RGB images, three classes; class c brightens channel c, with
 * noise. A small network separates them within a few epochs.
 */
export function toyDataset(rows: number, seed: number): ImageDataset {
  const random = createRandom(seed);
  const pixels = new Uint8Array(rows * 48);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = random.nextInt(3);
    labels[r] = label;
    for (let p = 0; p < 16; p++) {
      for (let c = 0; c < 3; c++) pixels[r * 48 + p * 3 + c] = (c === label ? 120 : 0) + random.nextInt(120);
    }
  }
  return ImageDataset.fromArrays({ classes: ['red', 'green', 'blue'], shape: [4, 4, 3], pixels, labels }, 'toy');
}

/** What must match to the last bit: every event without its timings. */
export const figures = (events: TrainingEvent[]) =>
  events.map((event) =>
    event.type === 'epoch'
      ? { ...event.record, seconds: 0 }
      : event.type === 'end'
        ? { ...event, history: event.history.map((r) => ({ ...r, seconds: 0 })) }
        : event,
  );
