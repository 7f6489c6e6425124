export { ImageDatasetWriter, type ImageDatasetWriterOptions } from './image-dataset-writer.js';
export { openImageDataset } from './open.js';
export { DEBIAN_FASHION_MNIST, FASHION_MNIST_CLASSES, prepareFashionMnist, type PrepareFashionMnistOptions } from './prepare-fashion-mnist.js';
export { prepareImageFolder, type PrepareImageFolderOptions, type PrepareImageFolderResult } from './prepare-image-folder.js';
export { prepareParquet, type PrepareParquetOptions, type PrepareParquetResult } from './prepare-parquet.js';
export { prepareIdx, type PrepareIdxOptions, type PrepareIdxResult } from './prepare-idx.js';
export { DEFAULT_DATA_DIR, prepareCifar10, type PrepareOptions, type PrepareProgress, type PrepareResult } from './prepare.js';
export { CIFAR10_SOURCE_VARIABLE, defaultCifar10Source, type SourceKind } from './source.js';
export { removeStaleTemporaries, temporaryPath } from './temporary-files.js';
