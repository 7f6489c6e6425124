import { Redis, type RedisOptions } from 'ioredis';
import { RxvisionError } from '@rxvision/errors';

/**
 * Where a Redis password may come from besides the URL: redis-cli's variable, which keeps it out
 * of command lines (`ps`) and shell histories.
 */
export const REDIS_PASSWORD_VARIABLE = 'REDISCLI_AUTH';

/**
 * A Redis client for BullMQ from a `redis://` or `rediss://` URL. BullMQ's blocking commands need
 * `maxRetriesPerRequest: null` (commands wait through a reconnect instead of failing after a few
 * tries), and under ESM BullMQ cannot load ioredis itself, so callers construct the clients.
 * Connecting is lazy. While Redis is away the client reconnects on its own; `report` hears one line
 * when it becomes unreachable and one when it is back, not one per attempt. The password (from the
 * URL, else `REDISCLI_AUTH`) is in no line.
 */
export function redisConnection(url: string, report: (line: string) => void = () => {}): Redis {
  const parsed = parseRedisUrl(url);
  const client = new Redis(url, { ...passwordOption(parsed), maxRetriesPerRequest: null, lazyConnect: true });
  let unreachable = false;
  // Without an error listener ioredis's error events would crash the process.
  client.on('error', (error: NodeJS.ErrnoException) => {
    if (unreachable) return;
    unreachable = true;
    report(`Redis at ${parsed.host} is unreachable (${isAuthError(error) ? authProblem(error) : (error.code ?? error.message)}); retrying`);
  });
  client.on('ready', () => {
    if (!unreachable) return;
    unreachable = false;
    report(`Redis at ${parsed.host} is back`);
  });
  return client;
}

/**
 * Resolves once Redis at `url` answers a PING within `timeoutMs` (one connection, no retries);
 * rejects with a QueueAuthError when it refuses the password (or wants one), which no retry
 * mends, or a QueueUnreachableError when it cannot be reached.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const parsed = parseRedisUrl(url);
  const client = new Redis(url, {
    ...passwordOption(parsed),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  // The rejection says only "Connection is closed."; the error event before it says why.
  let cause: unknown;
  client.on('error', (error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const why = (cause ?? error) as NodeJS.ErrnoException;
    if (isAuthError(why)) throw new QueueAuthError(parsed.host, authProblem(why));
    throw new QueueUnreachableError(parsed.host, why.code ?? why.message);
  } finally {
    client.disconnect();
  }
}

/** `url` without its password, for lines, logs and files: `redis://:s3cret@db:6379` → `redis://db:6379`. */
export function withoutPassword(url: string): string {
  const parsed = parseRedisUrl(url);
  parsed.password = '';
  return parsed.href.replace(/^(rediss?:\/\/)@/, '$1').replace(/\/$/, '');
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
export class QueueUrlError extends RxvisionError {
  override readonly name = 'QueueUrlError';

  constructor(readonly url: string) {
    super(
      `--queue must be a Redis URL such as redis://localhost:6379, got "${url.includes('@') ? '(a URL with credentials, not shown)' : url}"`,
    );
  }
}

/** Redis refused the password, or wants one: nothing a retry mends. */
export class QueueAuthError extends RxvisionError {
  override readonly name = 'QueueAuthError';

  constructor(
    readonly host: string,
    readonly problem: string,
  ) {
    super(`Redis at ${host} ${problem}: give the password in the URL (redis://:PASSWORD@${host}) or in ${REDIS_PASSWORD_VARIABLE}`);
  }
}

/** Redis cannot be reached (refused, timed out, no such host). */
export class QueueUnreachableError extends RxvisionError {
  override readonly name = 'QueueUnreachableError';

  constructor(
    readonly host: string,
    readonly problem: string,
  ) {
    super(`cannot reach Redis at ${host} (${problem})`);
  }
}

/** The password from `REDISCLI_AUTH`, where the URL has none. */
export function passwordOption(parsed: URL): RedisOptions {
  const password = process.env[REDIS_PASSWORD_VARIABLE];
  return parsed.password === '' && password ? { password } : {};
}

const AUTH_REPLIES = /^(WRONGPASS|NOAUTH)\b|^ERR (AUTH|invalid password|Client sent AUTH)/;
const isAuthError = (error: unknown) => AUTH_REPLIES.test((error as Error | undefined)?.message ?? '');
const authProblem = (error: Error) => (error.message.startsWith('NOAUTH') ? 'wants a password' : 'refused the password');
