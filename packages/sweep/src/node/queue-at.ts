import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseRedisUrl, passwordOption } from './redis-connection.js';
import { TRIAL_QUEUE } from './trial-job.js';

/**
 * The trial queue at `url` for one short errand (a status table, a cancel), which must not wait for
 * Redis: one connection without retries, rejected within `timeoutMs` when Redis cannot be reached or
 * does not answer, closed when the errand ends.
 */
export async function withQueueAt<T>(url: string, timeoutMs: number, errand: (queue: Queue, client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, {
    ...passwordOption(parseRedisUrl(url)),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
  });
  client.on('error', () => {}); // a failed connection rejects the errand's commands
  const queue = new Queue(TRIAL_QUEUE, { connection: client });
  queue.on('error', () => {}); // the same failure, told once by the rejection
  let timer: NodeJS.Timeout | undefined;
  try {
    // BullMQ connects the client itself; a refused connection rejects the commands (no retries).
    const late = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
    );
    return await Promise.race([errand(queue, client), late]);
  } finally {
    clearTimeout(timer);
    await queue.close().catch(() => {});
    client.disconnect();
  }
}
