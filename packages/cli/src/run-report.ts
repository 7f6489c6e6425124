import type { RunEvent, RunStarted } from '@rxvision/experiment';
import type { EpochRecord } from '@rxvision/metrics';
import { memory } from '@tensorflow/tfjs-core';
import { type MonoTypeOperatorFunction, tap } from 'rxjs';
import { type Progress, progressBar } from './progress.js';

/**
 * What a person (or, with `json`, a program) sees of a run: a progress bar while the dataset is
 * prepared and through each epoch, a line per epoch, why it stopped early, the test result.
 */
export function reportRun(json: boolean): MonoTypeOperatorFunction<RunEvent> {
  const log = (line: string) => console.log(line);
  let bar: Progress = progressBar('', { enabled: false });
  let preparing: Progress | undefined;
  let start: RunStarted | undefined;
  let epochStarted = 0;
  let epochSamples = 0;
  const stopBars = () => {
    bar.stop();
    preparing?.stop();
  };
  return tap({
    next: (event) => {
      if (event.type === 'prepare') {
        preparing ??= progressBar('prepare', { unit: 'bytes', enabled: !json });
        preparing.update(event.bytes, event.totalBytes);
      } else if (event.type === 'start') {
        preparing?.stop();
        start = event;
        if (event.resumedAt && !json) log(`resuming ${event.folder} at epoch ${event.resumedAt.epoch}, step ${event.resumedAt.step}`);
      } else if (event.type === 'batch') {
        if (event.step === 1 || !bar.active) {
          bar = progressBar(`epoch ${event.epoch}/${start?.epochs}`, { enabled: !json });
          epochStarted = performance.now();
          epochSamples = 0;
        }
        epochSamples += event.size;
        const rate = epochSamples / ((performance.now() - epochStarted) / 1000);
        bar.update(event.step, start?.stepsPerEpoch, `loss ${event.loss.toFixed(4)} | ${rate.toFixed(0)} samples/s`);
      } else if (event.type === 'epoch') {
        bar.stop();
        log(
          json
            ? JSON.stringify({ ...event.record, tensors: memory().numTensors, rssMb: Math.round(process.memoryUsage().rss / 1e6) })
            : epochLine(event.record),
        );
      } else if (event.type === 'stopped') {
        bar.stop();
      } else if (event.type === 'end' && !json) {
        const experiment = start?.config.experiment;
        const last = event.history.at(-1)?.epoch;
        if (event.reason === 'early-stopping')
          log(
            `stopped early after epoch ${last}: ${experiment?.earlyStopping?.monitor} did not get better for ${experiment?.earlyStopping?.patience} epochs`,
          );
        if (event.reason === 'scheduler') log(`stopped by the sweep's scheduler after epoch ${last}: behind the trials before it`);
        if (event.reason === 'time-budget')
          log(`stopped after epoch ${last}: the next epoch would end past the time budget (${experiment?.timeBudgetSeconds} s)`);
        if (event.bestEpoch !== undefined) log(`kept the weights of epoch ${event.bestEpoch}, the best`);
      } else if (event.type === 'finish') {
        const { test } = event;
        const final = test
          ? `test_loss: ${test.loss.toFixed(4)}, test_acc: ${test.accuracy.toFixed(4)}${Object.entries(test.metrics)
              .map(([name, value]) => `, test_${name}: ${value.toFixed(4)}`)
              .join('')}`
          : 'no test split';
        log(json ? JSON.stringify(event.summary) : `${final} — wrote ${start?.folder}`);
      }
    },
    error: stopBars,
    complete: stopBars,
    unsubscribe: stopBars,
  });
}

function epochLine(r: EpochRecord): string {
  const metrics = Object.entries(r.metrics ?? {})
    .map(([name, value]) => `, val_${name}: ${value.toFixed(4)}`)
    .join('');
  return `Epoch [${r.epoch}], train_loss: ${r.trainLoss.toFixed(4)}, val_loss: ${r.valLoss.toFixed(4)}, val_acc: ${r.valAccuracy.toFixed(4)}${metrics} (${r.seconds.toFixed(1)} s)`;
}
