// Reading each step's loss at once against reading it after the next step is queued (what fit
// does), on one backend, same model and batch, both patterns in one process after shader warm-up.
// On a real GPU the second keeps the queue busy; on lavapipe (the GPU is the CPU) there is no gain.
// Usage: node tools/benchmarks/loss-readback.js [backend=webgpu] [steps=8]
import { selectBackend } from '@rxvision/backend/node';
import { createTutorialModel } from '@rxvision/model';
import * as tf from '@tensorflow/tfjs-core';
const report = await selectBackend(process.argv[2] ?? 'webgpu');
console.log(report.summary.slice(0, 120));
const model = createTutorialModel({ seed: 43 });
const optimizer = tf.train.sgd(0.01);
const xs = tf.randomUniform([128, 32, 32, 3]);
const ys = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32'), 10);
const queue = () => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.predict(xs)), true);
const steps = Number(process.argv[3] ?? 8);
async function atOnce() {
  for (let i = 0; i < steps; i++) {
    const l = queue();
    await l.data();
    l.dispose();
  }
}
async function lagged() {
  let prev;
  for (let i = 0; i < steps; i++) {
    const l = queue();
    if (prev) {
      await prev.data();
      prev.dispose();
    }
    prev = l;
  }
  await prev.data();
  prev.dispose();
}
await atOnce(); // warm-up: shader compilation
for (const round of [1, 2])
  for (const [name, run] of [
    ['read at once', atOnce],
    ['read after the next step is queued', lagged],
  ]) {
    const t = performance.now();
    await run();
    console.log(`round ${round}: ${name}: ${((steps * 128) / ((performance.now() - t) / 1000)).toFixed(1)} samples/s`);
  }
process.exit(0);
