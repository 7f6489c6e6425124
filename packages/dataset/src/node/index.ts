export type { EncodedImagesOptions, PreparedImages } from './encoded-images.js';
export { CIFAR100_SOURCE_VARIABLE, prepareCifar100, type PrepareCifar100Options } from './prepare-cifar100.js';
export { DiskImageDataset } from './disk-image-dataset.js';
export { ImageDatasetWriter, type ImageDatasetWriterOptions } from './image-dataset-writer.js';
export { openImageDataset } from './open.js';
export { DEFAULT_MAX_IN_MEMORY_BYTES, type OpenedImages, openImages, type OpenImagesOptions } from './open-images.js';
export {
  DEBIAN_FASHION_MNIST,
  FASHION_MNIST_CLASSES,
  prepareFashionMnist,
  type PrepareFashionMnistOptions,
} from './prepare-fashion-mnist.js';
export { prepareImageFolder, type PrepareImageFolderOptions, type PrepareImageFolderResult } from './prepare-image-folder.js';
export { prepareParquet, type PrepareParquetOptions, type PrepareParquetResult } from './prepare-parquet.js';
export { prepareIdx, type PrepareIdxOptions, type PrepareIdxResult } from './prepare-idx.js';
export { DEFAULT_DATA_DIR, prepareCifar10, type PrepareOptions, type PrepareProgress, type PrepareResult } from './prepare.js';
export { CIFAR10_SOURCE_VARIABLE, defaultCifar10Source, type SourceKind } from './source.js';
export { type DataFolderOptions, inClaimedFolder } from './claimed-folder.js';
export { type DecodeTarget, ImageDecoder, loadImageDecoder } from './image-decoder.js';
export { DATA_SPLITS, DataFolder, type DataSplit } from './data-folder.js';
