import {
  cancelTrials,
  checkRedis,
  QueueUnreachableError,
  type SweepFolder,
  type SweepRecord,
  TRIAL_CANCELLED,
  withoutPassword,
} from '@rxvision/sweep/node';
import { CliError } from '../cli-error.js';
import { queuedJobs, whileHeld, withoutStop } from './sweep-folder.js';

/**
 * Cancels a queued sweep: its waiting trials leave the queue, its running ones stop at their
 * workers' next heartbeat, checkpointed; each is recorded as failed with the reason, and running
 * the sweep again resumes them.
 */
export async function cancelSweep(folder: SweepFolder, record: SweepRecord): Promise<void> {
  const out = folder.path;
  if (record.queue === undefined)
    throw new CliError(`${out}: this sweep runs on this machine, not through a queue; stop it with Ctrl-C where it runs`);
  const didNotAnswer = (error: unknown) =>
    new CliError(
      `the queue at ${withoutPassword(record.queue!)} did not answer (${withoutStop(error)}); run sweep cancel again once it does`,
    );
  // A refused password is its own line, not "did not answer".
  await checkRedis(record.queue).catch((error: unknown) => {
    throw error instanceof QueueUnreachableError ? didNotAnswer(error) : error;
  });
  const cancelled = await cancelTrials(record.queue, await queuedJobs(folder, record)).catch((error: unknown) => {
    throw didNotAnswer(error);
  });
  // A running sweep hears its trials end cancelled and records them itself; otherwise the record is ours to write.
  for (const name of [...cancelled.removed, ...cancelled.stopping]) record.states[name] = { state: 'failed', reason: TRIAL_CANCELLED };
  await whileHeld(folder, 'sweep cancel', (held) => held.writeRecord(record));
  const groups = [
    ['taken out of the queue', cancelled.removed],
    ["stopping at their workers' next heartbeat, checkpointed", cancelled.stopping],
    ['had ended already', cancelled.ended],
  ] as const;
  console.log(`sweep ${out}: cancelled`);
  for (const [what, names] of groups) if (names.length > 0) console.log(`  ${what}: ${names.join(', ')}`);
  console.log(`to resume: rxvision sweep ${record.source} --queue ${withoutPassword(record.queue)} --out ${out}`);
}
