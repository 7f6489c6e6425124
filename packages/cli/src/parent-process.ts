import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { MALLOC_TUNABLES, mallocTunablesApplied } from '@rxvision/backend';

/** Set in the relaunched process, which must not relaunch again. */
const RELAUNCHED = 'RXVISION_RELAUNCHED';
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/**
 * One Ctrl-C can reach this process twice within a millisecond or two: from the terminal, and again
 * from a parent that forwards it (npm does, for `npm start`). The child treats a second signal as
 * "quit at once", so repeats this close together are forwarded once.
 */
const SAME_SIGNAL_MS = 25;

/**
 * Whether this process should run the command in a child started with MALLOC_TUNABLES: glibc
 * reads them only at start-up, and without them onnxruntime's matrix products re-fault their
 * output buffers on every call (up to twice the step time; docs/design/cpu-backend.md).
 */
export function shouldRelaunch(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[RELAUNCHED] === undefined && !mallocTunablesApplied(env);
}

/**
 * Runs this same command in a child process with the malloc settings, and resolves to the exit
 * code to leave with. The child has a process group of its own, so that a Ctrl-C reaches it once,
 * through this process, which forwards SIGINT, SIGTERM and SIGHUP (a burst of the same signal once);
 * if this process dies without forwarding (SIGKILL), the child sees its IPC channel close and stops
 * as on SIGTERM.
 */
export function relaunch(): Promise<number> {
  return new Promise((resolve, reject) => {
    const tunables = [process.env.GLIBC_TUNABLES, MALLOC_TUNABLES].filter(Boolean).join(':');
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      detached: true,
      env: { ...process.env, GLIBC_TUNABLES: tunables, [RELAUNCHED]: '1' },
    });
    const last = new Map<NodeJS.Signals, number>();
    const forward = Object.fromEntries(
      FORWARDED.map((signal) => [
        signal,
        () => {
          const now = performance.now();
          if (now - (last.get(signal) ?? -Infinity) >= SAME_SIGNAL_MS) child.kill(signal);
          last.set(signal, now);
        },
      ]),
    );
    for (const signal of FORWARDED) process.on(signal, forward[signal]!);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward[s]!);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 1));
    });
  });
}

/**
 * In a process started with an IPC channel (the relaunched child, a sweep's trial): stop as on
 * SIGTERM when the parent is gone, so that nothing trains on behind a dead parent.
 */
export function watchParent(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
