import type { BinaryDatasetSpec } from './cifar10.js';

export const CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz';

/** The 100 classes, as `fine_label_names.txt` in the official tarball names them (label order). */
export const CIFAR100_FINE_CLASSES: readonly string[] = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

/** The 20 superclasses, as `coarse_label_names.txt` names them. */
export const CIFAR100_COARSE_CLASSES: readonly string[] = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables',
  'household_electrical_devices', 'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things',
  'large_natural_outdoor_scenes', 'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people',
  'reptiles', 'small_mammals', 'trees', 'vehicles_1', 'vehicles_2',
];

export type Cifar100Labels = 'fine' | 'coarse';

/**
 * The official CIFAR-100 binary version, labelled with its 100 classes or its 20 superclasses.
 * Each record is a coarse label byte, a fine label byte, then the planes R, G, B. No checksums of
 * the inner files are published, so none is required: the prepared file records the ones it had.
 */
export function cifar100(labels: Cifar100Labels = 'fine'): BinaryDatasetSpec {
  return {
    classes: labels === 'fine' ? CIFAR100_FINE_CLASSES : CIFAR100_COARSE_CLASSES,
    shape: [32, 32, 3],
    labelBytes: 2,
    labelOffset: labels === 'fine' ? 1 : 0,
    files: [
      { name: 'train.bin', split: 'train', records: 50_000 },
      { name: 'test.bin', split: 'test', records: 10_000 },
    ],
  };
}
