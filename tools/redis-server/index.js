import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts `redis-server` on a free port of 127.0.0.1, with its data in a temporary folder and every
 * write appended and synced to disk, so that a crash-and-restart (`kill` then `start`) loses nothing,
 * as a production Redis configured for durability would. With `password`, it requires it
 * (`--requirepass`), and `url` holds it.
 * @param {{ password?: string }} [options]
 * @returns {Promise<import('./index.js').RedisTestServer>}
 */
export async function startRedisServer(options = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'rxvision-redis-'));
  const port = await freePort();
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  const server = {
    url: `redis://${options.password ? `:${options.password}@` : ''}127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          ...(options.password ? ['--requirepass', options.password] : []),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      await new Promise((resolve, reject) => {
        let output = '';
        child.on('error', (error) =>
          reject(new Error(`cannot start redis-server (${error.message}); install it: apt-get install redis-server`)),
        );
        child.on('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)));
        child.stdout.on('data', (chunk) => {
          output += chunk;
          if (output.includes('Ready to accept connections')) resolve(undefined);
        });
      });
    },
    /** Stops it as a crash would (SIGKILL); `start` brings it back with its data. */
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** A port nobody listens on at this moment. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
