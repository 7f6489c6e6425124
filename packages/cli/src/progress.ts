import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `detail` is shown after the counts, e.g. the current loss and rate. */
  update(value: number, total?: number, detail?: string): void;
  stop(): void;
  /** Started and not yet stopped. */
  readonly active: boolean;
}

/**
 * A progress bar on stderr when it is a terminal; otherwise silence, so logs and pipes stay
 * clean. `format` uses cli-progress tokens plus any payload fields.
 */
export function progressBar(label: string, options: { unit?: 'bytes' | 'items'; enabled?: boolean } = {}): Progress {
  const enabled = options.enabled ?? Boolean(process.stderr.isTTY);
  if (!enabled) return { update: () => undefined, stop: () => undefined, active: true };
  const bytes = options.unit === 'bytes';
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
