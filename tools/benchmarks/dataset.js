// Benchmark of @rxvision/dataset on the real CIFAR-10: prepare time and peak memory, then the
// speed of a full read of all 60,000 images. Usage:
//   npx nx run benchmarks:dataset            (source: $RXVISION_CIFAR10_SOURCE)
//   node tools/benchmarks/dataset.js [SOURCE]
// Prepare runs first in a fresh process, so the process's peak RSS is prepare's peak.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR10_SOURCE_VARIABLE, openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';

const source = process.argv[2] ?? process.env[CIFAR10_SOURCE_VARIABLE];
if (!source) {
  console.error(`usage: node dataset.js SOURCE (or set ${CIFAR10_SOURCE_VARIABLE})`);
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'rxvision-bench-'));
try {
  let started = performance.now();
  await prepareCifar10({ source, dataDir: dir, force: true });
  const prepareSeconds = (performance.now() - started) / 1000;
  const prepareRssMb = process.resourceUsage().maxRSS / 1024;

  // Full read: load both files, then touch every pixel of every image through the public API.
  // Round 0 warms up the JIT and is not counted.
  const reads = [];
  for (let round = 0; round < 4; round++) {
    started = performance.now();
    let bytes = 0;
    let checksum = 0;
    for (const split of ['train', 'test']) {
      const dataset = await openImageDataset(join(dir, `${split}.arrow`));
      checksum = (checksum + sumPixels(dataset)) | 0;
      bytes += dataset.length * dataset.pixelsPerImage;
    }
    const seconds = (performance.now() - started) / 1000;
    if (round > 0) reads.push({ seconds, gbPerSecond: bytes / seconds / 1e9, bytes, checksum });
  }
  const best = reads.reduce((a, b) => (a.gbPerSecond > b.gbPerSecond ? a : b));
  console.log(`prepare: ${prepareSeconds.toFixed(2)} s (target <= 15 s)`);
  console.log(`prepare peak RSS: ${prepareRssMb.toFixed(0)} MB (target < 600 MB)`);
  console.log(
    `full read of 60,000 images: ${best.gbPerSecond.toFixed(2)} GB/s (${(best.bytes / 1e6).toFixed(0)} MB in ${best.seconds.toFixed(3)} s, best of 3 after a warm-up; target >= 1 GB/s)`,
  );
  console.log(JSON.stringify({ prepareSeconds, prepareRssMb, readGbPerSecond: best.gbPerSecond, reads }));
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Reads every pixel of every image (four at a time), so that no byte goes unread. */
function sumPixels(dataset) {
  let sum = 0;
  for (let row = 0; row < dataset.length; row++) {
    const image = dataset.image(row);
    const words = new Int32Array(image.buffer, image.byteOffset, image.length >>> 2);
    for (let i = 0; i < words.length; i++) sum = (sum + words[i]) | 0;
  }
  return sum;
}
