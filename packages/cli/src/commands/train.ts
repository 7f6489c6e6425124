import { rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type BackendChoice, selectBackend } from '@rxvision/backend';
import { randomSplit, subset } from '@rxvision/dataset';
import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import { type EpochRecord, perClassAccuracy } from '@rxvision/metrics';
import { createTutorialModel, TUTORIAL_HIDDEN_UNITS } from '@rxvision/model';
import { fileSystemSaver } from '@rxvision/model/node';
import { accuracyChart, confusionMatrixChart, lossChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import { epochBatches } from '@rxvision/stream';
import { evaluate, fit, parseSchedule, probeTraining, type Schedule, totalEpochs, TUTORIAL_SCHEDULE } from '@rxvision/train';
import { dispose, memory } from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { concatMap, lastValueFrom, Subject, tap } from 'rxjs';
import { loadCheckpoint, readCheckpointConfig, type RunConfig, saveCheckpoint } from '../checkpoint.js';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { loadCifar10 } from '../data.js';
import { progressBar } from '../progress.js';
import { prepareOutputFolder } from '../output-folder.js';
import { modelFolder } from '../run-folder.js';
import { writeJsonAtomic } from '../write-json.js';

export interface TrainFlags {
  readonly data: string;
  readonly schedule: string;
  readonly batchSize: string;
  readonly seed: string;
  readonly backend: string;
  readonly threads?: string;
  readonly out?: string;
  readonly limit?: string;
  readonly resume?: string;
  readonly outputRelu: boolean;
  readonly json?: boolean;
}

const SCHEDULES: Record<string, Schedule> = { tutorial: TUTORIAL_SCHEDULE, quick: [{ epochs: 2, learningRate: 0.05 }] };
/** A tenth of --limit validates: below 10 images that tenth would be empty and every metric NaN. */
const MIN_LIMIT = 10;
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the tutorial model on CIFAR-10 (prepares the data first if needed)')
    .option('--data <dir>', 'folder of the Arrow files', DEFAULT_DATA_DIR)
    .option('--schedule <name|phases>', 'tutorial, quick, or EPOCHS@LR,... like "10@0.05,8@0.005"', 'tutorial')
    .option('--batch-size <n>', 'batch size', '128')
    .option('--seed <n>', 'seed of the split, the shuffling and the initial weights', '43')
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--no-output-relu', 'leave out the tutorial\'s ReLU on the output layer (plain logits)')
    .option('--limit <n>', 'train and validate on the first n training images only (quick experiments)')
    .option('--out <dir>', 'run folder (default runs/<date-time>)')
    .option('--resume <run>', 'continue the run in this folder from its last checkpoint (its own settings apply)')
    .option('--json', 'print one JSON line per epoch and the summary as JSON')
    .action(async (flags: TrainFlags) => {
      await runTrain(flags);
    });
}

export async function runTrain(flags: TrainFlags): Promise<void> {
  const backendName = backendChoice(flags.backend);
  const threads = threadsChoice(flags.threads);
  const resuming = flags.resume !== undefined;
  const out = resolve(flags.resume ?? flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  // A resumed run keeps its own settings (and fails here, before loading a backend, without a checkpoint).
  const run = resuming ? await readCheckpointConfig(out) : configFromFlags(flags);
  const log = (line: string): void => console.log(line);
  const started = performance.now();

  const { train: trainFile, test: testFile } = await loadCifar10(run.data, ['train', 'test']);
  const rows = run.limit === undefined ? trainFile : subset(trainFile, Array.from({ length: Math.min(run.limit, trainFile.length) }, (_, i) => i));
  const validationSize = Math.round(rows.length / 10);
  const [train, validation] = randomSplit(rows, [rows.length - validationSize, validationSize], { seed: run.seed });
  if (run.batchSize > train!.length) throw new CliError(`--batch-size ${run.batchSize} is larger than the training split (${train!.length} images)`);

  const { created } = await prepareOutputFolder(out);
  const { backend, model, resume } = await setUpModel(backendName, threads, run, resuming ? out : undefined, flags.json ? () => undefined : log).catch(async (error: unknown) => {
    if (created) await rmdir(out).catch(() => undefined); // a failure before training leaves no empty run folder
    throw error;
  });
  model.setUserDefinedMetadata({ classes: [...trainFile.classes] });

  // First Ctrl-C (or SIGTERM): finish the step, checkpoint, exit 130/143. Second: exit at once;
  // checkpoints are written by renames, so that cannot leave a broken one behind.
  const stop = new Subject<void>();
  let signal: keyof typeof SIGNAL_EXIT_CODES | undefined;
  const onSignal = (name: keyof typeof SIGNAL_EXIT_CODES) => () => {
    if (signal) process.exit(SIGNAL_EXIT_CODES[signal]);
    signal = name;
    console.error(`\nrxvision: ${name}: stopping after the current step and writing a checkpoint (again to quit at once)`);
    stop.next();
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT).on('SIGTERM', handlers.SIGTERM);

  const stepsPerEpoch = Math.ceil(train!.length / run.batchSize);
  const epochs = totalEpochs(run.schedule);
  const history: EpochRecord[] = [...(resume?.history ?? [])];
  let bar = progressBar('', { enabled: false });
  let epochStarted = 0;
  let epochSamples = 0;
  let stopped = false;
  try {
    await lastValueFrom(
      fit(model, {
        schedule: run.schedule,
        trainBatches: epochBatches(train!, { batchSize: run.batchSize, seed: run.seed }),
        validationBatches: () => epochBatches(validation!, { batchSize: 1000 })(0),
        ...(resume && { resume }),
        stop,
        checkpoint: (state) => saveCheckpoint(out, run, state, model),
      }).pipe(
        tap((event) => {
          if (event.type === 'batch') {
            if (event.step === 1 || !bar.active) {
              bar = progressBar(`epoch ${event.epoch}/${epochs}`, {});
              epochStarted = performance.now();
              epochSamples = 0;
            }
            epochSamples += event.size;
            const rate = epochSamples / ((performance.now() - epochStarted) / 1000);
            bar.update(event.step, stepsPerEpoch, `loss ${event.loss.toFixed(4)} | ${rate.toFixed(0)} samples/s`);
          } else if (event.type === 'epoch') {
            bar.stop();
            const r = event.record;
            // --json adds what a long run is watched for: live tensors and resident memory.
            log(flags.json ? JSON.stringify({ ...r, tensors: memory().numTensors, rssMb: Math.round(process.memoryUsage().rss / 1e6) }) : `Epoch [${r.epoch}], train_loss: ${r.trainLoss.toFixed(4)}, val_loss: ${r.valLoss.toFixed(4)}, val_acc: ${r.valAccuracy.toFixed(4)} (${r.seconds.toFixed(1)} s)`);
          } else if (event.type === 'stopped') {
            bar.stop();
            stopped = true;
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
  } finally {
    bar.stop();
    process.off('SIGINT', handlers.SIGINT).off('SIGTERM', handlers.SIGTERM);
    if (resume?.optimizerWeights) dispose(resume.optimizerWeights.map((w) => w.tensor));
  }
  if (stopped) {
    model.dispose();
    throw new CliError(`interrupted; checkpoint written: continue with rxvision train --resume ${out}`, SIGNAL_EXIT_CODES[signal ?? 'SIGINT']);
  }

  await model.save(fileSystemSaver(modelFolder(out)));
  const test = await lastValueFrom(evaluate(model, epochBatches(testFile, { batchSize: 1000 })(0)));
  await writeFile(join(out, 'loss.png'), await renderPng(lossChart(history)));
  await writeFile(join(out, 'accuracy.png'), await renderPng(accuracyChart(history)));
  await writeFile(join(out, 'confusion-matrix.png'), await renderPng(confusionMatrixChart(test.confusion, testFile.classes)));
  const summary = {
    architecture: `${trainFile.pixelsPerImage}→${TUTORIAL_HIDDEN_UNITS.join('→')}→${trainFile.classes.length}`,
    outputRelu: run.outputRelu,
    schedule: run.schedule,
    learningRates: run.schedule.map((phase) => phase.learningRate),
    epochs,
    batchSize: run.batchSize,
    seed: run.seed,
    split: { train: train!.length, validation: validation!.length, test: testFile.length },
    test: { loss: test.loss, accuracy: test.accuracy, perClassAccuracy: Object.fromEntries(perClassAccuracy(test.confusion).map((a, c) => [testFile.classes[c], a])) },
    lossAveraging: 'per sample over the whole split',
    backend: { name: backend.backend, package: backend.package, gpu: backend.gpu, ...(backend.threads !== undefined && { threads: backend.threads }) },
    seconds: (performance.now() - started) / 1000,
    trainingSeconds: history.reduce((sum, row) => sum + row.seconds, 0),
  };
  await writeJsonAtomic(join(out, 'summary.json'), summary);
  log(flags.json ? JSON.stringify(summary) : `test_loss: ${test.loss.toFixed(4)}, test_acc: ${test.accuracy.toFixed(4)} — wrote ${out}`);
  model.dispose();
}

/** The backend, then the model: new, or with the weights of the checkpoint in `resumeFrom`. */
async function setUpModel(backendName: BackendChoice, threads: number | undefined, run: RunConfig, resumeFrom: string | undefined, log: (line: string) => void) {
  const createModel = () => createTutorialModel({ seed: run.seed, outputRelu: run.outputRelu });
  // A backend that lacks a kernel this model's training needs is passed over (auto) or refused.
  const probe = () => {
    const candidate = createModel();
    try {
      probeTraining(candidate);
    } finally {
      candidate.dispose();
    }
  };
  const backend = await selectBackend(backendName, { probe, ...(threads !== undefined && { threads }) });
  log(backend.summary);
  const model = createModel();
  if (resumeFrom === undefined) return { backend, model, resume: undefined };
  const { resume } = await loadCheckpoint(resumeFrom, model);
  log(`resuming ${resumeFrom} at epoch ${resume.position.epoch}, step ${resume.position.step}`);
  return { backend, model, resume };
}

function configFromFlags(flags: TrainFlags): RunConfig {
  const schedule = SCHEDULES[flags.schedule] ?? parseScheduleFlag(flags.schedule);
  const batchSize = positiveInteger(flags.batchSize, '--batch-size');
  const seed = integer(flags.seed, '--seed');
  const limit = flags.limit === undefined ? undefined : integer(flags.limit, '--limit');
  if (limit !== undefined && limit < MIN_LIMIT) throw new CliError(`--limit must be at least ${MIN_LIMIT} (a tenth is held out for validation), got "${flags.limit}"`);
  return { data: resolve(flags.data), schedule, batchSize, seed, outputRelu: flags.outputRelu, ...(limit !== undefined && { limit }) };
}

function parseScheduleFlag(text: string): Schedule {
  try {
    return parseSchedule(text);
  } catch (error) {
    throw new CliError(`--schedule: ${(error as Error).message}`);
  }
}

/** Digits only ("1e3", "0x10" and 1e22 are no integers here), within the range JavaScript counts exactly. */
function integer(text: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new CliError(`${flag} must be an integer, got "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new CliError(`${flag} ${text.trim()} is too large (at most ${Number.MAX_SAFE_INTEGER} either way)`);
  return value;
}

function positiveInteger(text: string, flag: string): number {
  const value = integer(text, flag);
  if (value < 1) throw new CliError(`${flag} must be at least 1, got "${text}"`);
  return value;
}
