/** How often a command started by npm looks whether npm's shell is still its parent. */
const PARENT_POLL_MS = 500;

/**
 * Stop as on SIGTERM when the parent is gone, so that nothing trains on behind it:
 * - a process started with an IPC channel (a sweep's trial, a queue worker's trial) hears that
 *   its channel closed;
 * - a process that npm started (`npx rxvision`, `npm start`) runs under `sh -c`, which does not pass
 *   on the SIGTERM or SIGINT that npm forwards to it but dies of it: the process is then
 *   re-parented, which it sees by its parent's pid changing. (A process started from a shell and
 *   left behind by it, `nohup rxvision train &`, is no child of npm and trains on.)
 */
export function watchParent(): void {
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    return;
  }
  if (process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_POLL_MS);
  timer.unref();
}
