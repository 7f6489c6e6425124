import type { ClaimedRunFolder } from '@rxvision/run-folder';
import type { TrainingEvent } from '@rxvision/train';
import { type MonoTypeOperatorFunction, tap } from 'rxjs';
import type { ProgressRecorder } from './progress-recorder.js';

/** How often a training run rewrites progress.json, at most. */
const PROGRESS_WRITE_MS = 2000;

/**
 * A run's progress.json, the dashboard's live view of any run: `record` rewrites it from the
 * training events every two seconds at most, one write at a time; once training is over, `settled`
 * waits for the write in flight and `writeWhole` writes the per-step series to its last step.
 */
export class ProgressFile {
  #written = Number.NEGATIVE_INFINITY; // the first step is written at once
  #writing: Promise<void> | undefined;

  constructor(
    private readonly run: ClaimedRunFolder,
    private readonly progress: ProgressRecorder,
  ) {}

  /** Passes the events on, recording each and rewriting the file when it is due. */
  record(): MonoTypeOperatorFunction<TrainingEvent> {
    return tap((event) => {
      if (event.type === 'batch') this.progress.batch(event);
      if (event.type === 'epoch') this.progress.epoch(event.record.seconds);
      const now = performance.now();
      const due = event.type === 'batch' && !this.#writing && now - this.#written >= PROGRESS_WRITE_MS;
      const snapshot = due ? this.progress.snapshot(now) : undefined;
      if (!snapshot) return;
      this.#written = now;
      this.#writing = this.run
        .writeProgress(snapshot)
        .catch(() => undefined) // a hint: a failed write (a full disk) is the next real write's to report
        .finally(() => (this.#writing = undefined));
    });
  }

  /** Settles once the write in flight (if any) has. */
  async settled(): Promise<void> {
    await this.#writing;
  }

  /** The whole per-step series, to its last step: for a run that ended or stopped. */
  async writeWhole(): Promise<void> {
    const snapshot = this.progress.snapshot();
    if (snapshot) await this.run.writeProgress(snapshot);
  }
}
