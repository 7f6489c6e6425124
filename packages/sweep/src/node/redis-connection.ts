import { Redis } from 'ioredis';

/**
 * A Redis client for BullMQ from a `redis://` or `rediss://` URL. BullMQ's blocking commands need
 * `maxRetriesPerRequest: null` (commands wait through a reconnect instead of failing after a few
 * tries), and under ESM BullMQ cannot load ioredis itself, so callers construct the clients.
 * Connecting is lazy. While Redis is away the client reconnects on its own; `report` hears one line
 * when it becomes unreachable and one when it is back, not one per attempt.
 */
export function redisConnection(url: string, report: (line: string) => void = () => {}): Redis {
  const parsed = parseRedisUrl(url);
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  let unreachable = false;
  // Without an error listener ioredis's error events would crash the process.
  client.on('error', (error: NodeJS.ErrnoException) => {
    if (unreachable) return;
    unreachable = true;
    report(`Redis at ${parsed.host} is unreachable (${error.code ?? error.message}); retrying`);
  });
  client.on('ready', () => {
    if (!unreachable) return;
    unreachable = false;
    report(`Redis at ${parsed.host} is back`);
  });
  return client;
}

/** `url` as a URL, when it is a `redis://` or `rediss://` one; a QueueUrlError otherwise. */
export function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(url);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new QueueUrlError(url);
  return parsed;
}

/** A queue address that is not a Redis URL. */
export class QueueUrlError extends Error {
  constructor(readonly url: string) {
    super(`--queue must be a Redis URL such as redis://localhost:6379, got "${url}"`);
    this.name = 'QueueUrlError';
  }
}
