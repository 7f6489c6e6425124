import { resolve } from 'node:path';
import {
  claimFolder,
  DEFAULT_STALE_AFTER_MS,
  type FolderClaim,
  FolderLostError,
  makeWritableFolder,
  removeEmptyFolders,
} from '@rxvision/folder';
import { imageGrid } from '@rxvision/plot/node';
import { ClaimedRunFolder, RunFolder } from '@rxvision/run-folder';
import { writeTensorBoard } from '@rxvision/tensorboard/node';
import { asClassifier, disposeResume, fit, type ResumeFrom, scheduleEpochs, type TrainingEvent, type TrainingState } from '@rxvision/train';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from '@rxvision/train/node';
import { getBackend } from '@tensorflow/tfjs-core';
import { defer, identity, Observable, type Subscription, tap } from 'rxjs';
import { absoluteDataset, absoluteModel } from './absolute-dataset.js';
import { type ComposedExperiment, composeExperiment } from './compose-experiment.js';
import type { Experiment } from './experiment.js';
import { normalizationOf } from './normalization.js';
import { probeExperiment } from './probe-experiment.js';
import { ProgressFile } from './progress-file.js';
import { ProgressRecorder } from './progress-recorder.js';
import { type RunConfig, readRunConfig, runConfigOf } from './run-config.js';
import { writeRunArtifacts } from './run-artifacts.js';
import type { RunEvent, RunOptions } from './run-events.js';
import { summaryOf } from './summary-of.js';
import { ExperimentError } from './experiment-error.js';

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
  const baseDir = resolve(options.baseDir ?? '.');
  const dataset = absoluteDataset(experiment.dataset, baseDir) as Experiment['dataset'];
  const model = absoluteModel(experiment.model, baseDir) as Experiment['model'];
  return run(async () => ({ experiment: { ...experiment, dataset, model }, source: options.source ?? 'experiment' }), false, options);
}

/**
 * Continues the run in `options.folder` from its last checkpoint, with the experiment stored there
 * (`source` and `baseDir` are the stored ones): the history and events go on exactly as an
 * uninterrupted run's would.
 */
export function resumeExperiment(options: RunOptions): Observable<RunEvent> {
  return run(
    // A folder without a checkpoint is refused there, in one line naming the file it expected.
    () => readRunConfig(new RunFolder(options.folder).file('checkpoint')),
    true,
    options,
  );
}

/** Whether the run in `folder` can be resumed: it has a checkpoint, or the `.old` one a crash left behind. */
export function canResume(folder: string): Promise<boolean> {
  return hasCheckpoint(new RunFolder(folder).file('checkpoint'));
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
        const ours = new ClaimedRunFolder(claim);
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
            await ours.writeFailure(error instanceof Error ? error.message : String(error)).catch(() => undefined);
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

/** Trains the composed experiment into the claimed folder: backend, model, checkpoints, history, then the artifacts and the summary. */
async function trainInto(
  run: ClaimedRunFolder,
  config: RunConfig,
  composed: ComposedExperiment,
  resuming: boolean,
  options: RunOptions,
  emit: (event: RunEvent) => void,
  follow: (events: Observable<TrainingEvent>) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const { experiment } = config;
  const { claim } = run;
  const { train } = composed;
  const probe = () => probeExperiment(composed.createModel, experiment.batchSize, config.source);
  const precision = experiment.precision ?? 'float32';
  const backend = options.backend
    ? await options.backend(probe, { precision })
    : { backend: getBackend(), package: 'registered by the application' };
  // A backend that ignored the setting would train in float32 while the run records bfloat16.
  if ((backend.precision ?? 'float32') !== precision)
    throw new ExperimentError(
      config.source,
      `precision: ${precision}, but the backend ${backend.backend} computes in ${backend.precision ?? 'float32'}`,
    );
  const model = composed.createModel();
  // The checkpoint's tensors (optimizer state, best weights, lookahead's average) until fit takes them.
  let resume: ResumeFrom | undefined;
  try {
    if (resuming) {
      const loaded = await loadCheckpoint(run.file('checkpoint'), model);
      runConfigOf(loaded.meta, loaded.format, loaded.file); // the checkpoint read now is the one whose config was read before the claim
      resume = loaded.resume;
    }
    // What predict, evaluate and the dashboard need to use the model as it was trained.
    const normalize = normalizationOf(experiment.normalize);
    const classifier = asClassifier(model, { classes: train.classes, ...(normalize && { normalize }) });
    if (!resuming) {
      await run.writeExperiment({ source: config.source, ...experiment });
      await run.writeFile('samples', await imageGrid(train, Math.min(64, train.length), 16));
    }
    const stepsPerEpoch = Math.ceil(train.length / experiment.batchSize);
    const epochs = scheduleEpochs(experiment.schedule);
    await run.clearFailure();
    emit({
      type: 'start',
      folder: run.path,
      config,
      stepsPerEpoch,
      epochs,
      backend,
      parameters: model.countParams(),
      ...(resume && { resumedAt: resume.position }),
    });

    let ended: Extract<TrainingEvent, { type: 'end' }> | undefined;
    let stopped = false;
    const pastSeconds = (resume?.history ?? []).map((record) => record.seconds);
    const progress = new ProgressFile(run, new ProgressRecorder(epochs, stepsPerEpoch, pastSeconds));
    // fit waits for each checkpoint: the history on disk grows with it, epoch by epoch, before the epoch's event.
    const checkpoint = async (state: TrainingState) => {
      await saveCheckpoint(run.file('checkpoint'), state, model, { meta: config, claim });
      if (state.reason === 'epoch') await run.writeHistory(state.history);
    };
    const training = defer(() => {
      const given = resume;
      resume = undefined; // fit's now, to dispose once copied
      return fit(model, {
        ...composed.fitOptions,
        ...(given && { resume: given }),
        ...(options.stop && { stop: options.stop }),
        ...(options.trialPolicy && { trialPolicy: options.trialPolicy }),
        checkpoint,
      });
    });
    await follow(
      training.pipe(
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
        }),
        progress.record(),
        tap((event: TrainingEvent) => emit(event)),
      ),
    ).finally(() => progress.settled());
    if (stopped || ended) await progress.writeWhole();
    if (stopped || !ended) return; // stopped (resumable from its checkpoint), or unsubscribed

    const test = await writeRunArtifacts(run, classifier, ended.history, composed);
    const seconds = (performance.now() - started) / 1000;
    const summary = summaryOf(config, composed, { model: model.countParams(), ended, test, backend, seconds });
    await run.writeSummary(summary);
    emit({ type: 'finish', summary, ...(test && { test }) });
  } finally {
    model.dispose();
    disposeResume(resume); // never reached fit
  }
}
