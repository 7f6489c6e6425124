import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROGRESS_SECONDS_VARIABLE } from '../src/progress.js';

const bin = fileURLToPath(new URL('../bin/rxvision.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Without the power to ignore file permissions: as root, the child loses CAP_DAC_OVERRIDE (via
   * util-linux's setpriv), so a 0555 folder refuses it exactly as it refuses an ordinary user.
   */
  readonly unprivileged?: boolean;
  /** Called with all stdout so far after each chunk, e.g. to signal the child at some point. */
  readonly onStdout?: (stdout: string, child: ChildProcess) => void;
  /** The same for stderr. */
  readonly onStderr?: (stderr: string, child: ChildProcess) => void;
  /** Hears the child as soon as it is spawned. */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** In a UTS namespace of its own with this host name, as on another machine (root only: `unshare --uts`). */
  readonly hostname?: string;
  /** In a PID namespace of its own, as in a container (root only: `unshare --pid --fork`). */
  readonly pidNamespace?: boolean;
  /** In a process group of its own (led by the child): `process.kill(-child.pid, 'SIGSTOP')` stops it all. */
  readonly detached?: boolean;
}

/** Runs a Node.js script as a child process and collects what it prints. */
export function runNode(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let [command, commandArgs] =
      options.unprivileged && process.getuid?.() === 0
        ? ['setpriv', ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, ...args]]
        : [process.execPath, args];
    if (options.hostname !== undefined || options.pidNamespace) {
      const namespaces = [
        ...(options.hostname !== undefined ? ['--uts'] : []),
        ...(options.pidNamespace ? ['--pid', '--fork', '--kill-child'] : []),
      ];
      const setHostname = options.hostname !== undefined ? `hostname '${options.hostname}' && ` : '';
      [command, commandArgs] = ['unshare', [...namespaces, 'sh', '-c', `${setHostname}exec "$@"`, 'sh', command, ...commandArgs]];
    }
    const child = spawn(command, commandArgs, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached === true,
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the built `rxvision` binary as a child process, as a user would. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: Omit<RunOptions, 'env'> = {}): Promise<CliRun> {
  return runNode([bin, ...args], { ...options, env });
}

/**
 * Runs `rxvision` with a progress line after every step and sends `signal` at the first line of
 * its second epoch that is not past half of it (`times` signals, 50 ms apart): a run stopped inside
 * its second epoch however fast, slow or busy the machine is. (Half of the first epoch's time, the
 * old guess, overshot on a busy CI machine when the second epoch ran much faster than the first.)
 */
export function runCliInterrupted(
  args: readonly string[],
  { signal = 'SIGINT', times = 1 }: { signal?: NodeJS.Signals; times?: number } = {},
): Promise<CliRun> {
  let sent = false;
  return runCli(
    args,
    { [PROGRESS_SECONDS_VARIABLE]: '0.001' },
    {
      onStderr: (stderr, child) => {
        if (sent) return;
        const line = /^epoch 2\/\d+: (\d+)\/(\d+)/m.exec(stderr);
        if (!line || Number(line[1]) > Number(line[2]) / 2) return;
        sent = true;
        for (let i = 0; i < times; i++) setTimeout(() => child.kill(signal), 50 * i);
      },
    },
  );
}
