import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageDataset } from '@rxvision/dataset';
import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import type { Command } from 'commander';
import { loadCifar10 } from '../data.js';
import { captionedImage, imageGrid } from '@rxvision/plot/node';
import { makeWritableFolder } from '@rxvision/folder';
import { RUN_FILES } from '@rxvision/run-folder';

/** The first training image, large, with its class: explore's own picture (samples.png is a run's too). */
const SAMPLE = 'sample.png';

export interface ExploreFlags {
  readonly data: string;
  readonly out: string;
  readonly json?: boolean;
}

export function registerExplore(program: Command): void {
  program
    .command('explore')
    .description(`describe CIFAR-10 and write ${RUN_FILES.samples} (the first 128 training images) and ${SAMPLE}`)
    .option('--data <dir>', 'folder of the Arrow files', DEFAULT_DATA_DIR)
    .option('--out <dir>', 'folder for the pictures', 'explore')
    .option('--json', 'print the description as JSON')
    .action(async (flags: ExploreFlags) => {
      await runExplore(flags);
    });
}

export async function runExplore(flags: ExploreFlags): Promise<void> {
  const { train, test } = await loadCifar10(flags.data, ['train', 'test']);
  const { folder: out } = await makeWritableFolder(flags.out);
  const sampleCaption = `${train.classes[train.label(0)]} (label ${train.label(0)})`;
  await writeFile(join(out, RUN_FILES.samples), await imageGrid(train, Math.min(128, train.length), 16));
  await writeFile(join(out, SAMPLE), await captionedImage(train.image(0), train.shape, sampleCaption));
  const description = {
    datasetSize: train.length,
    testSize: test.length,
    classes: train.classes,
    imageShape: train.shape,
    layout: 'HWC',
    classCounts: { train: classCounts(train), test: classCounts(test) },
    sample: { row: 0, label: train.label(0), className: train.classes[train.label(0)] },
    pictures: { samples: join(out, RUN_FILES.samples), sample: join(out, SAMPLE) },
  };
  if (flags.json) {
    console.log(JSON.stringify(description));
    return;
  }
  console.log(`dataset size: ${train.length}`);
  console.log(`test size: ${test.length}`);
  console.log(`classes: ${train.classes.join(', ')}`);
  console.log(`image shape: ${train.shape.join('×')} (height × width × channels, HWC)`);
  console.log(`images per class (train): ${train.classes.map((name) => `${name} ${description.classCounts.train[name]}`).join(', ')}`);
  console.log(`images per class (test): ${test.classes.map((name) => `${name} ${description.classCounts.test[name]}`).join(', ')}`);
  console.log(
    `sample 0: label ${train.label(0)}, ${train.classes[train.label(0)]}; pixel (0,0) RGB ${Array.from(train.image(0).subarray(0, 3)).join(', ')}`,
  );
  console.log(`wrote ${description.pictures.samples} and ${description.pictures.sample}`);
}

function classCounts(dataset: ImageDataset): Record<string, number> {
  const counts = new Array<number>(dataset.classes.length).fill(0);
  for (let i = 0; i < dataset.length; i++) counts[dataset.label(i)]!++;
  return Object.fromEntries(dataset.classes.map((name, c) => [name, counts[c]!]));
}
