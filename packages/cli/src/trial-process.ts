import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EpochRecord } from '@rxvision/metrics';
import { FolderHeldError } from '@rxvision/folder';
import { RunFolder } from '@rxvision/run-folder';
import { Observable } from 'rxjs';
import { canResume } from '@rxvision/experiment';
import { TrialPausedError } from '@rxvision/sweep/node';
import { FOLDER_BUSY_EXIT_CODE, PAUSED_EXIT_CODE } from './report-error.js';

/** A trial as files: its experiment and the folder its run goes to. */
export interface TrialFiles {
  readonly experiment: string;
  readonly runDir: string;
  /** The sweep folder, whose scheduler (if it has one) the trial asks between epochs. */
  readonly sweep?: string;
}

export interface TrialProcessOptions {
  readonly backend: string;
  readonly threads: number | undefined;
  /** Names the trial in the lines it logs. */
  readonly label: string;
  readonly log: (line: string) => void;
  /** Stops the trial as Ctrl-C would (it checkpoints first); the Observable then errors. */
  readonly signal?: AbortSignal;
  /** Hears the pid of the trial's process once it started. */
  readonly onProcess?: (pid: number) => void;
  /** The trial's `--lock-seconds`: how long its run folder stays claimed once it stops answering. */
  readonly lockSeconds?: number;
}

const bin = fileURLToPath(new URL('../bin/rxvision.js', import.meta.url));

/**
 * One trial as a `train` process: a new run, the continuation of an interrupted one (from its
 * checkpoint), or nothing when it already finished. Completes when the run finished; errors with
 * the last line the process printed when it failed: a FolderHeldError when another process trains
 * in its folder (or took it over), which holds it against every other writer; a TrialPausedError
 * when its sweep's scheduler paused it (checkpointed) until earlier trials get as far. Unsubscribing (or `signal`) stops it as Ctrl-C
 * would. The process watches this one through an IPC channel, so it also stops (checkpointing) when
 * this process dies without a word (SIGKILL).
 */
export function trialProcess(trial: TrialFiles, options: TrialProcessOptions): Observable<never> {
  return new Observable<never>((subscriber) => {
    const { runDir } = trial;
    let child: ReturnType<typeof spawn> | undefined;
    let stopped = false;
    const stop = () => {
      stopped = true;
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    // A signal aborted already stops it before it starts (it fires no 'abort' event any more).
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    subscriber.add(() => options.signal?.removeEventListener('abort', stop));
    void (async () => {
      if (await new RunFolder(runDir).isFinished()) return subscriber.complete();
      const resume = await canResume(runDir);
      if (stopped) return subscriber.error(new Error('stopped before it started'));
      const args = [
        bin,
        'train',
        ...(resume ? ['--resume', runDir] : ['--config', trial.experiment, '--out', runDir]),
        '--backend',
        options.backend,
        ...(options.threads === undefined ? [] : ['--threads', String(options.threads)]),
        '--json',
        ...(options.lockSeconds === undefined ? [] : ['--lock-seconds', String(options.lockSeconds)]),
        ...(trial.sweep === undefined ? [] : ['--sweep', trial.sweep]),
      ];
      options.log(`${options.label}: ${resume ? 'resuming from its checkpoint' : 'started'}`);
      child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      if (child.pid !== undefined) options.onProcess?.(child.pid);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const epoch = parseEpoch(line);
          if (epoch)
            options.log(
              `${options.label}: epoch ${epoch.epoch}, val_acc ${epoch.valAccuracy.toFixed(4)}, val_loss ${epoch.valLoss.toFixed(4)}`,
            );
        }
      });
      child.on('error', (error) => subscriber.error(error));
      child.on('close', (code) => {
        if (code === 0) subscriber.complete();
        else {
          const line = lastLine(stderr).replace(/^rxvision: /, '') || `train exited with ${code}`;
          subscriber.error(
            code === FOLDER_BUSY_EXIT_CODE
              ? new FolderHeldError(runDir, undefined, line)
              : code === PAUSED_EXIT_CODE
                ? new TrialPausedError(line)
                : new Error(line),
          );
        }
      });
    })().catch((error: unknown) => subscriber.error(error));
    return stop;
  });
}

const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';

function parseEpoch(line: string): EpochRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<EpochRecord>;
    return typeof value.epoch === 'number' && typeof value.valAccuracy === 'number' && typeof value.valLoss === 'number'
      ? (value as EpochRecord)
      : undefined;
  } catch {
    return undefined;
  }
}
