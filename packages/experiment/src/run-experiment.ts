import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  claimFolder,
  DEFAULT_STALE_AFTER_MS,
  type FolderClaim,
  FolderLostError,
  makeWritableFolder,
  removeEmptyFolders,
} from '@rxvision/folder';
import { type EpochRecord, perClassAccuracy } from '@rxvision/metrics';
import { TUTORIAL_HIDDEN_UNITS } from '@rxvision/model';
import { accuracyChart, confusionMatrixChart, lossChart } from '@rxvision/plot';
import { imageGrid, renderPng } from '@rxvision/plot/node';
import {
  type RunSummary,
  runFile,
  writeFailure,
  writeHistory,
  writeProgress,
  writeRunExperiment,
  writeSummary,
} from '@rxvision/run-folder';
import { writeTensorBoard } from '@rxvision/tensorboard/node';
import {
  asClassifier,
  classifierToOnnx,
  type Evaluation,
  evaluate,
  fit,
  type FitOptions,
  type ResumeFrom,
  scheduleEpochs,
  type TrainingEvent,
  type TrainingPosition,
  type TrainingState,
} from '@rxvision/train';
import { CheckpointError, hasCheckpoint, loadCheckpoint, saveClassifier, saveCheckpoint } from '@rxvision/train/node';
import { dispose, getBackend } from '@tensorflow/tfjs-core';
import { identity, lastValueFrom, Observable, type Subscription, tap } from 'rxjs';
import { absoluteDataset } from './absolute-dataset.js';
import { type ComposedExperiment, composeExperiment } from './compose-experiment.js';
import type { Experiment } from './experiment.js';
import { probeExperiment } from './probe-experiment.js';
import { ProgressRecorder } from './progress-recorder.js';
import { type RunConfig, readRunConfig, runConfigOf } from './run-config.js';

/** How often a training run rewrites progress.json, at most. */
const PROGRESS_WRITE_MS = 2000;

/** The backend the run trains on, as `selectBackend` of `@rxvision/backend` reports it. */
export interface BackendDescription {
  /** The tfjs backend's name. */
  readonly backend: string;
  /** The package that provides it. */
  readonly package: string;
  readonly gpu?: boolean | undefined;
  readonly threads?: number;
}

export interface RunOptions {
  /** The run folder: made if missing, and this process's alone while the run writes into it. */
  readonly folder: string;
  /** Names the experiment in messages and the summary (its file, "the tutorial"); default "experiment". */
  readonly source?: string;
  /** Folder that relative paths in the experiment are taken from (the experiment file's). */
  readonly baseDir?: string;
  /**
   * Picks and registers the tfjs backend once the model can be built (backends are the
   * application's to register): `probe` trains one step of a throwaway model and throws where the
   * backend lacks a kernel. Returns what the summary records; without it, the current backend runs.
   *
   * ```ts
   * runExperiment(experiment, { folder, backend: (probe) => selectBackend('auto', { probe }) });
   * ```
   */
  readonly backend?: (probe: () => void) => Promise<BackendDescription>;
  /** Each value: finish the step, write a checkpoint, emit `stopped` and complete (resume with `resumeExperiment`). */
  readonly stop?: Observable<unknown>;
  /** Also write TensorBoard event files into this folder as the run goes. */
  readonly tensorboard?: string;
  /** How long the run folder's claim lasts without a refresh before another process may take it over. */
  readonly staleAfterMs?: number;
  /** Asked between epochs whether to go on, stop or pause: a sweep's scheduler (see `fit`'s option). */
  readonly scheduler?: FitOptions['scheduler'];
}

/** Progress of preparing the dataset on its first use (CIFAR-10's download or unpacking). */
export interface RunPreparing {
  readonly type: 'prepare';
  readonly bytes: number;
  readonly totalBytes: number | undefined;
}

/** The run folder is ours, the model built (or restored), training about to begin. */
export interface RunStarted {
  readonly type: 'start';
  readonly folder: string;
  readonly config: RunConfig;
  readonly stepsPerEpoch: number;
  readonly epochs: number;
  readonly backend: BackendDescription;
  /** Where a resumed run picks up. */
  readonly resumedAt?: TrainingPosition;
  readonly parameters: number;
}

/** The last event of a run that was not stopped: model, charts and summary are written. */
export interface RunFinished {
  readonly type: 'finish';
  readonly summary: RunSummary;
  /** On the test split, when the dataset has one. */
  readonly test?: Evaluation;
}

/** Everything a run reports, in order: prepare*, start, fit's events (batch, epoch, then end or stopped), finish. */
export type RunEvent = RunPreparing | RunStarted | TrainingEvent | RunFinished;

/**
 * Runs an experiment into a run folder: composes it (preparing its dataset on first use), claims the
 * folder, trains with a checkpoint after every epoch and on `stop`, and writes the experiment, the
 * history epoch by epoch, the model with its preprocessing, charts, the test evaluation and the
 * summary, each through the folder's claim. Nothing happens until it is subscribed; unsubscribing
 * stops training and releases the folder.
 *
 * ```ts
 * const experiment = parseExperiment({ dataset: { type: 'fashion-mnist' }, model: { type: 'cnn' }, schedule: [{ epochs: 2, learningRate: 0.05 }] });
 * runExperiment(experiment, { folder: 'runs/cnn' }).subscribe((event) => event.type === 'epoch' && console.log(event.record));
 * ```
 */
export function runExperiment(experiment: Experiment, options: RunOptions): Observable<RunEvent> {
  // Stored with absolute paths, so that a resumed run, or `rxvision evaluate` from anywhere, finds the same files.
  const dataset = absoluteDataset(experiment.dataset, resolve(options.baseDir ?? '.')) as Experiment['dataset'];
  return run(async () => ({ experiment: { ...experiment, dataset }, source: options.source ?? 'experiment' }), false, options);
}

/**
 * Continues the run in `options.folder` from its last checkpoint, with the experiment stored there
 * (`source` and `baseDir` are the stored ones): the history and events go on exactly as an
 * uninterrupted run's would.
 */
export function resumeExperiment(options: RunOptions): Observable<RunEvent> {
  return run(
    async () => {
      const checkpoint = runFile(options.folder, 'checkpoint');
      if (!(await canResume(options.folder)))
        throw new CheckpointError(
          `${resolve(options.folder)}: no checkpoint to resume from (expected ${join(checkpoint, 'checkpoint.json')})`,
        );
      return readRunConfig(checkpoint);
    },
    true,
    options,
  );
}

/** Whether the run in `folder` can be resumed: it has a checkpoint, or the `.old` one a crash left behind. */
export function canResume(folder: string): Promise<boolean> {
  return hasCheckpoint(runFile(folder, 'checkpoint'));
}

/** The steps of one run, as one Observable: state per subscription, torn down on unsubscribe. */
function run(configOf: () => Promise<RunConfig>, resuming: boolean, options: RunOptions): Observable<RunEvent> {
  return new Observable<RunEvent>((subscriber) => {
    let training: Subscription | undefined;
    let cancelled = () => {};
    const whenCancelled = new Promise<void>((resolve) => (cancelled = resolve));
    // Set once training began: a failure before (a damaged checkpoint, no backend) is the caller's to hear, and leaves the folder as it was.
    let began = false;
    const emit = (event: RunEvent) => {
      if (event.type === 'start') began = true;
      subscriber.next(event);
    };
    const body = async () => {
      const config = await configOf();
      const composed = await composeExperiment(config.experiment, {
        source: config.source,
        onPrepareProgress: ({ bytes, totalBytes }) => emit({ type: 'prepare', bytes, totalBytes }),
      });
      // Composed before the run folder is made: bad data leaves no folder behind.
      let claim: FolderClaim | undefined;
      let created: string | undefined;
      try {
        if (subscriber.closed) return;
        ({ created } = await makeWritableFolder(options.folder));
        claim = await claimFolder(options.folder, { purpose: 'train', staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS });
        const ours = claim;
        await trainInto(ours, config, composed, resuming, options, emit, (events) =>
          // Unsubscribed while the model was being set up: nothing to follow.
          subscriber.closed
            ? Promise.resolve()
            : Promise.race([
                whenCancelled,
                new Promise<void>((resolve, reject) => {
                  training = events.subscribe({ error: reject, complete: resolve });
                }),
              ]),
        ).catch(async (error: unknown) => {
          // Said in the run folder, for whoever looks at it later (the dashboard); not when the folder is no longer ours.
          if (began && !(error instanceof FolderLostError))
            await writeFailure(ours, error instanceof Error ? error.message : String(error)).catch(() => undefined);
          throw error;
        });
      } finally {
        await composed.close();
        await claim?.release();
        // A failure before anything was written leaves no empty run folder.
        if (created) await removeEmptyFolders(options.folder, created);
      }
    };
    body().then(
      () => subscriber.complete(),
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      training?.unsubscribe();
      cancelled();
    };
  });
}

async function trainInto(
  claim: FolderClaim,
  config: RunConfig,
  composed: ComposedExperiment,
  resuming: boolean,
  options: RunOptions,
  emit: (event: RunEvent) => void,
  follow: (events: Observable<TrainingEvent>) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const { experiment } = config;
  const out = claim.folder;
  const { train } = composed;
  const probe = () => probeExperiment(composed.createModel, experiment.batchSize, config.source);
  const backend = options.backend ? await options.backend(probe) : { backend: getBackend(), package: 'registered by the application' };
  const model = composed.createModel();
  let resume: ResumeFrom | undefined;
  // The checkpoint's tensors (optimizer state, best weights, lookahead's average): fit copies them, so they go once it has.
  let held: ResumeFrom | undefined;
  const releaseResume = () => {
    if (held?.optimizerWeights) dispose(held.optimizerWeights.map((w) => w.tensor));
    if (held?.best) dispose([...held.best.weights]);
    if (held?.lookahead) dispose([...held.lookahead]);
    held = undefined;
  };
  try {
    if (resuming) {
      const loaded = await loadCheckpoint(runFile(out, 'checkpoint'), model);
      runConfigOf(loaded.meta, loaded.format, loaded.file); // the checkpoint read now is the one whose config was read before the claim
      resume = held = loaded.resume;
    }
    // What predict, evaluate and the dashboard need to use the model as it was trained.
    const classifier = asClassifier(model, { classes: train.classes, ...(experiment.normalize && { normalize: experiment.normalize }) });
    if (!resuming) {
      await writeRunExperiment(claim, { source: config.source, ...experiment });
      await claim.writeFile(runFile(out, 'samples'), await imageGrid(train, Math.min(64, train.length), 16));
    }
    const stepsPerEpoch = Math.ceil(train.length / experiment.batchSize);
    await rm(runFile(out, 'failure'), { force: true }); // an earlier attempt's: this one trains afresh
    emit({
      type: 'start',
      folder: out,
      config,
      stepsPerEpoch,
      epochs: scheduleEpochs(experiment.schedule),
      backend,
      parameters: model.countParams(),
      ...(resume && { resumedAt: resume.position }),
    });

    let history: readonly EpochRecord[] = resume?.history ?? [];
    let ended: Extract<TrainingEvent, { type: 'end' }> | undefined;
    let stopped = false;
    // progress.json, every PROGRESS_WRITE_MS at most, one write at a time: the dashboard's live view of any run.
    const progress = new ProgressRecorder(
      scheduleEpochs(experiment.schedule),
      stepsPerEpoch,
      history.map((record) => record.seconds),
    );
    let progressWritten = Number.NEGATIVE_INFINITY; // the first step is written at once
    let progressWrite: Promise<void> | undefined;
    const recordProgress = (event: TrainingEvent) => {
      if (event.type === 'batch') progress.batch(event);
      if (event.type === 'epoch') progress.epoch(event.record.seconds);
      const now = performance.now();
      const snapshot =
        event.type === 'batch' && !progressWrite && now - progressWritten >= PROGRESS_WRITE_MS ? progress.snapshot(now) : undefined;
      if (!snapshot) return;
      progressWritten = now;
      progressWrite = writeProgress(claim, snapshot)
        .catch(() => undefined) // a hint: a failed write (a full disk) is the next real write's to report
        .finally(() => (progressWrite = undefined));
    };
    // fit waits for each checkpoint: the history on disk grows with it, epoch by epoch, before the epoch's event.
    const checkpoint = async (state: TrainingState) => {
      await saveCheckpoint(runFile(out, 'checkpoint'), state, model, { meta: config, claim });
      if (state.reason === 'epoch') await writeHistory(claim, (history = state.history));
    };
    await follow(
      fit(model, {
        ...composed.fitOptions,
        ...(resume && { resume }),
        ...(options.stop && { stop: options.stop }),
        ...(options.scheduler && { scheduler: options.scheduler }),
        checkpoint,
      }).pipe(
        options.tensorboard === undefined
          ? identity
          : writeTensorBoard(options.tensorboard, {
              stepsPerEpoch,
              settings: `\`\`\`json\n${JSON.stringify(experiment, null, 2)}\n\`\`\``,
            }),
        tap((event: TrainingEvent) => {
          // Taken over (this process was frozen past its claim): stop at once, writing nothing more.
          if (claim.signal.aborted) throw claim.signal.reason;
          if (event.type === 'end') ended = event;
          if (event.type === 'stopped') stopped = true;
          if (event.type === 'batch') releaseResume(); // fit has copied it by its first step
          recordProgress(event);
          emit(event);
        }),
      ),
    ).finally(() => progressWrite);
    // The per-step series whole, to its last step (the writes above are every 2 s at most).
    const final = (stopped || ended) && progress.snapshot();
    if (final) await writeProgress(claim, final);
    if (stopped || !ended) return; // stopped (resumable from its checkpoint), or unsubscribed
    history = ended.history;

    await saveClassifier(runFile(out, 'model'), classifier, { claim });
    await claim.writeFile(runFile(out, 'onnxModel'), classifierToOnnx(classifier));
    await claim.writeFile(runFile(out, 'loss'), await renderPng(lossChart(history)));
    await claim.writeFile(runFile(out, 'accuracy'), await renderPng(accuracyChart(history)));
    const test =
      composed.testBatches &&
      (await lastValueFrom(
        evaluate(model, composed.testBatches(), composed.fitOptions.metrics, undefined, composed.fitOptions.testTimeAugmentation),
      ));
    if (test) await claim.writeFile(runFile(out, 'confusionMatrix'), await renderPng(confusionMatrixChart(test.confusion, train.classes)));
    const summary = summaryOf(config, composed, {
      model: model.countParams(),
      history,
      ended,
      test,
      backend,
      seconds: (performance.now() - started) / 1000,
    });
    await writeSummary(claim, summary);
    emit({ type: 'finish', summary, ...(test && { test }) });
  } finally {
    model.dispose();
    releaseResume();
  }
}

interface Outcome {
  readonly model: number;
  readonly history: readonly EpochRecord[];
  readonly ended: Extract<TrainingEvent, { type: 'end' }>;
  readonly test: Evaluation | undefined;
  readonly backend: BackendDescription;
  readonly seconds: number;
}

function summaryOf(config: RunConfig, composed: ComposedExperiment, outcome: Outcome): RunSummary {
  const { experiment } = config;
  const { train, validation } = composed;
  const { ended, history, test } = outcome;
  return {
    experiment: config.source,
    ...(experiment.description && { description: experiment.description }),
    architecture: architecture(experiment, train.shape, train.classes.length),
    parameters: outcome.model,
    ...(experiment.model.type === 'tutorial' && { outputRelu: experiment.model.outputRelu ?? true }),
    schedule: experiment.schedule,
    ...(Array.isArray(experiment.schedule) && { learningRates: experiment.schedule.map((phase) => phase.learningRate) }),
    optimizer: experiment.optimizer,
    epochs: scheduleEpochs(experiment.schedule),
    ...(ended.reason !== 'completed' && { ended: ended.reason, epochsRun: history.length }),
    ...(ended.bestEpoch !== undefined && { bestEpoch: ended.bestEpoch }),
    batchSize: experiment.batchSize,
    seed: experiment.seed,
    split: {
      train: train.length,
      validation: validation.length,
      ...(test && { test: test.confusion.counts.reduce((sum, count) => sum + count, 0) }),
    },
    ...(test && {
      test: {
        loss: test.loss,
        accuracy: test.accuracy,
        ...test.metrics,
        perClassAccuracy: Object.fromEntries(perClassAccuracy(test.confusion).map((a, c) => [train.classes[c], a])),
      },
    }),
    lossAveraging: 'per sample over the whole split',
    backend: {
      name: outcome.backend.backend,
      package: outcome.backend.package,
      gpu: outcome.backend.gpu === true,
      ...(outcome.backend.threads !== undefined && { threads: outcome.backend.threads }),
    },
    seconds: outcome.seconds,
    trainingSeconds: history.reduce((sum, row) => sum + row.seconds, 0),
  };
}

/** The tutorial's as its layer widths; any other model as its settings. */
function architecture(experiment: Experiment, shape: readonly number[], classes: number): string {
  const { type, ...settings } = experiment.model;
  if (type === 'tutorial') return `${shape.reduce((a, b) => a * b, 1)}→${TUTORIAL_HIDDEN_UNITS.join('→')}→${classes}`;
  return `${type} ${JSON.stringify(settings)} on ${shape.join('×')} → ${classes} classes`;
}
