import { readFileSync, readlinkSync } from 'node:fs';

let cachedPidSpace: string | undefined | null = null;

/**
 * The space in which this process's pid means something: the kernel's boot and the PID namespace.
 * Two processes with the same pid space can ask whether each other's pids are alive; across hosts,
 * containers and reboots (different spaces) a pid proves nothing. Undefined where /proc cannot say.
 */
export function pidSpace(): string | undefined {
  if (cachedPidSpace === null) {
    try {
      cachedPidSpace = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} ${readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      cachedPidSpace = undefined;
    }
  }
  return cachedPidSpace;
}

/** Whether a process of this pid space runs with this pid (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
