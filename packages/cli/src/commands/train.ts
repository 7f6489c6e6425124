import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type BackendChoice, selectBackend } from '@rxvision/backend';
import { randomSplit, subset } from '@rxvision/dataset';
import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import { type EpochRecord, perClassAccuracy } from '@rxvision/metrics';
import { createTutorialModel, TUTORIAL_HIDDEN_UNITS } from '@rxvision/model';
import { fileSystemSaver } from '@rxvision/model/node';
import { accuracyChart, confusionMatrixChart, lossChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import { writeFile } from 'node:fs/promises';
import { epochBatches } from '@rxvision/stream';
import { evaluate, fit, parseSchedule, type Schedule, totalEpochs, TUTORIAL_SCHEDULE } from '@rxvision/train';
import type { Command } from 'commander';
import { concatMap, lastValueFrom, tap } from 'rxjs';
import { CliError } from '../cli-error.js';
import { loadCifar10 } from '../data.js';
import { progressBar } from '../progress.js';
import { modelFolder } from '../run-folder.js';
import { writeJsonAtomic } from '../write-json.js';

export interface TrainFlags {
  readonly data: string;
  readonly schedule: string;
  readonly batchSize: string;
  readonly seed: string;
  readonly backend: BackendChoice;
  readonly out?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

const BACKENDS: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
const SCHEDULES: Record<string, Schedule> = { tutorial: TUTORIAL_SCHEDULE, quick: [{ epochs: 2, learningRate: 0.05 }] };

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the tutorial model on CIFAR-10 (prepares the data first if needed)')
    .option('--data <dir>', 'folder of the Arrow files', DEFAULT_DATA_DIR)
    .option('--schedule <name|phases>', 'tutorial, quick, or EPOCHS@LR,... like "10@0.05,8@0.005"', 'tutorial')
    .option('--batch-size <n>', 'batch size', '128')
    .option('--seed <n>', 'seed of the split, the shuffling and the initial weights', '43')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu', 'auto')
    .option('--limit <n>', 'train and validate on the first n training images only (quick experiments)')
    .option('--out <dir>', 'run folder (default runs/<date-time>)')
    .option('--json', 'print one JSON line per epoch and the summary as JSON')
    .action(async (flags: TrainFlags) => {
      await runTrain(flags);
    });
}

export async function runTrain(flags: TrainFlags): Promise<void> {
  const schedule = SCHEDULES[flags.schedule] ?? parseScheduleFlag(flags.schedule);
  const batchSize = positiveInteger(flags.batchSize, '--batch-size');
  const seed = integer(flags.seed, '--seed');
  const limit = flags.limit === undefined ? undefined : positiveInteger(flags.limit, '--limit');
  if (!BACKENDS.includes(flags.backend)) throw new CliError(`--backend must be one of ${BACKENDS.join(', ')}, got "${flags.backend}"`);
  const out = resolve(flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  const log = (line: string): void => console.log(line);
  const started = performance.now();

  const backend = await selectBackend(flags.backend);
  if (!flags.json) log(backend.summary);
  const { train: trainFile, test: testFile } = await loadCifar10(flags.data);
  const rows = limit === undefined ? trainFile : subset(trainFile, Array.from({ length: Math.min(limit, trainFile.length) }, (_, i) => i));
  const validationSize = Math.round(rows.length / 10);
  const [train, validation] = randomSplit(rows, [rows.length - validationSize, validationSize], { seed });
  await mkdir(out, { recursive: true });

  const model = createTutorialModel({ seed });
  model.setUserDefinedMetadata({ classes: [...trainFile.classes] });
  const stepsPerEpoch = Math.ceil(train!.length / batchSize);
  const epochs = totalEpochs(schedule);
  const history: EpochRecord[] = [];
  let bar = progressBar('', { enabled: false });
  await lastValueFrom(
    fit(model, {
      schedule,
      trainBatches: epochBatches(train!, { batchSize, seed }),
      validationBatches: () => epochBatches(validation!, { batchSize: 1000 })(0),
    }).pipe(
      tap((event) => {
        if (event.type === 'batch') {
          if (event.step === 1) bar = progressBar(`epoch ${event.epoch}/${epochs}`, {});
          bar.update(event.step, stepsPerEpoch);
        } else if (event.type === 'epoch') {
          bar.stop();
          const r = event.record;
          log(flags.json ? JSON.stringify(r) : `Epoch [${r.epoch}], train_loss: ${r.trainLoss.toFixed(4)}, val_loss: ${r.valLoss.toFixed(4)}, val_acc: ${r.valAccuracy.toFixed(4)} (${r.seconds.toFixed(1)} s)`);
        }
      }),
      // The history on disk grows epoch by epoch, so an interrupted run keeps what it did.
      concatMap(async (event) => {
        if (event.type === 'epoch') {
          history.push(event.record);
          await writeJsonAtomic(join(out, 'history.json'), history);
        }
        return event;
      }),
    ),
  );
  await model.save(fileSystemSaver(modelFolder(out)));
  const test = await lastValueFrom(evaluate(model, epochBatches(testFile, { batchSize: 1000 })(0)));
  await writeFile(join(out, 'loss.png'), await renderPng(lossChart(history)));
  await writeFile(join(out, 'accuracy.png'), await renderPng(accuracyChart(history)));
  await writeFile(join(out, 'confusion-matrix.png'), await renderPng(confusionMatrixChart(test.confusion, testFile.classes)));
  const summary = {
    architecture: `${trainFile.pixelsPerImage}→${TUTORIAL_HIDDEN_UNITS.join('→')}→${trainFile.classes.length}`,
    outputRelu: true,
    schedule,
    learningRates: schedule.map((phase) => phase.learningRate),
    epochs,
    batchSize,
    seed,
    split: { train: train!.length, validation: validation!.length, test: testFile.length },
    test: { loss: test.loss, accuracy: test.accuracy, perClassAccuracy: Object.fromEntries(perClassAccuracy(test.confusion).map((a, c) => [testFile.classes[c], a])) },
    lossAveraging: 'per sample over the whole split',
    backend: { name: backend.backend, package: backend.package, gpu: backend.gpu },
    seconds: (performance.now() - started) / 1000,
  };
  await writeJsonAtomic(join(out, 'summary.json'), summary);
  log(flags.json ? JSON.stringify(summary) : `test_loss: ${test.loss.toFixed(4)}, test_acc: ${test.accuracy.toFixed(4)} — wrote ${out}`);
  model.dispose();
}

function parseScheduleFlag(text: string): Schedule {
  try {
    return parseSchedule(text);
  } catch (error) {
    throw new CliError(`--schedule: ${(error as Error).message}`);
  }
}

function integer(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value)) throw new CliError(`${flag} must be an integer, got "${text}"`);
  return value;
}

function positiveInteger(text: string, flag: string): number {
  const value = integer(text, flag);
  if (value < 1) throw new CliError(`${flag} must be at least 1, got "${text}"`);
  return value;
}
