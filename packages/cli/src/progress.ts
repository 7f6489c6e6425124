import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `detail` is shown after the counts, e.g. the current loss and rate. */
  update(value: number, total?: number, detail?: string): void;
  stop(): void;
  /** Started and not yet stopped. */
  readonly active: boolean;
}

/** Seconds between progress lines when stderr is not a terminal (a log file, a pipe). */
export const PROGRESS_SECONDS_VARIABLE = 'RXVISION_PROGRESS_SECONDS';
const DEFAULT_PROGRESS_SECONDS = 30;

/**
 * A progress bar on stderr when it is a terminal; otherwise a plain line every 30 seconds
 * (`RXVISION_PROGRESS_SECONDS`), so that a log shows how far a long epoch got without filling up.
 * `enabled: false` (machine-readable output) silences it.
 */
export function progressBar(label: string, options: { unit?: 'bytes' | 'items'; enabled?: boolean } = {}): Progress {
  if (options.enabled === false) return { update: () => undefined, stop: () => undefined, active: true };
  const bytes = options.unit === 'bytes';
  if (!process.stderr.isTTY) return progressLines(label, bytes);
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {progress}{detail} | ETA {eta_formatted}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
  });
  let started = false;
  let stopped = false;
  const describe = (value: number, total: number): string => (bytes ? `${megabytes(value)}/${megabytes(total)} MB` : `${value}/${total}`);
  return {
    update(value, total, detail) {
      if (!started) {
        bar.start(total ?? 0, 0, { progress: '', detail: '' });
        started = true;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(value, { progress: describe(value, total ?? bar.getTotal()), detail: detail ? ` | ${detail}` : '' });
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
    get active() {
      return !stopped;
    },
  };
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** Progress as a line now and then, for logs: `epoch 3/17: 120/352 (34%) | loss 1.2345 | 480 samples/s`. */
function progressLines(label: string, bytes: boolean): Progress {
  const seconds = Number(process.env[PROGRESS_SECONDS_VARIABLE] ?? DEFAULT_PROGRESS_SECONDS);
  const every = (seconds > 0 ? seconds : DEFAULT_PROGRESS_SECONDS) * 1000;
  let last = performance.now();
  let total = 0;
  let stopped = false;
  return {
    update(value, newTotal, detail) {
      total = newTotal ?? total;
      const now = performance.now();
      if (stopped || now - last < every) return;
      last = now;
      const counts = bytes ? `${megabytes(value)}/${megabytes(total)} MB` : `${value}/${total}`;
      process.stderr.write(
        `${label}: ${counts}${total > 0 ? ` (${Math.floor((100 * value) / total)}%)` : ''}${detail ? ` | ${detail}` : ''}\n`,
      );
    },
    stop() {
      stopped = true;
    },
    get active() {
      return !stopped;
    },
  };
}
