import { hostname } from 'node:os';
import { checkRedis, QueueUnreachableError, redisConnection, startTrialWorker, withoutPassword } from '@rxvision/sweep/node';
import type { Command } from 'commander';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { positiveInteger } from '../integer-flag.js';
import { trialProcess } from '../trial-process.js';

export interface WorkerFlags {
  readonly queue?: string;
  readonly backend: string;
  readonly threads?: string;
  readonly concurrency: string;
  readonly lockSeconds: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run sweep trials from a Redis queue (see `rxvision sweep --queue`) until stopped; trials of a worker that dies are resumed from their checkpoints by another',
    )
    .requiredOption('--queue <url>', 'the Redis URL the sweep was queued at (redis://host:6379)')
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--concurrency <n>', 'trials at once on this machine', '1')
    .option(
      '--lock-seconds <s>',
      'how long a trial of a worker that stopped answering stays claimed before another worker takes it over',
      '30',
    )
    .action(async (flags: WorkerFlags) => runWorker(flags));
}

/** Runs until SIGINT or SIGTERM; then the running trials checkpoint and go back to the queue. */
export async function runWorker(flags: WorkerFlags, log: (line: string) => void = console.log): Promise<void> {
  const backend = backendChoice(flags.backend);
  const threads = threadsChoice(flags.threads);
  const concurrency = positiveInteger(flags.concurrency, '--concurrency');
  const lockSeconds = Number(flags.lockSeconds);
  if (!(lockSeconds >= 1)) throw new CliError(`--lock-seconds must be a number ≥ 1, got "${flags.lockSeconds}"`);
  // A refused password fails at once (no retry mends it); Redis away at start is waited for, as later.
  await checkRedis(flags.queue!).catch((error: unknown) => {
    if (!(error instanceof QueueUnreachableError)) throw error;
  });
  const connection = redisConnection(flags.queue!, log);
  const worker = startTrialWorker({
    connection,
    concurrency,
    lockMs: lockSeconds * 1000,
    log,
    run: (job, context) =>
      trialProcess(job, {
        backend,
        threads,
        label: `${job.sweep}: ${job.trial}`,
        log,
        signal: context.signal,
        lockSeconds: context.lockMs / 1000,
      }),
  });
  log(
    `worker ${process.pid}@${hostname()}: running trials from ${withoutPassword(flags.queue!)}, ${concurrency} at a time; Ctrl-C stops it (running trials checkpoint and go back to the queue)`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log(`worker ${process.pid}@${hostname()}: ${signal}; stopping`);
  await worker.close();
  connection.disconnect();
  // The trials are handed back; a connection BullMQ could not close (cut off while Redis was
  // away) must not keep the process alive.
  setTimeout(() => process.exit(), 1000).unref();
}
