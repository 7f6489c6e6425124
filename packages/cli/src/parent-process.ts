/**
 * In a process started with an IPC channel (a sweep's trial, a queue worker's trial): stop as on
 * SIGTERM when the parent is gone, so that nothing trains on behind a dead parent.
 */
export function watchParent(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
