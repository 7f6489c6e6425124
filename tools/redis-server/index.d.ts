export interface RedisTestServer {
  /** `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` when it requires one */
  readonly url: string;
  readonly port: number;
  /** Starts it again on the same port, with the data it had. */
  start(): Promise<void>;
  /** Kills it with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Kills it and removes its data. */
  stop(): Promise<void>;
}

export function startRedisServer(options?: { readonly password?: string }): Promise<RedisTestServer>;
