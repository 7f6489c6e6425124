import { resolve } from 'node:path';
import { type Dashboard, DEFAULT_DASHBOARD_PORT, startDashboard } from '@rxvision/dashboard';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { integer } from '../integer-flag.js';

export interface DashboardFlags {
  readonly host: string;
  readonly port: string;
  readonly allowOrigin?: string[];
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'serve a read-only web page of the runs in a folder: live curves, runs compared, settings, confusion matrices (Ctrl-C stops it)',
    )
    .argument('[runs]', 'the folder whose sub-folders are runs', 'runs')
    .option('--host <address>', 'address to listen on (other than 127.0.0.1, the page is visible to other machines)', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free one)', String(DEFAULT_DASHBOARD_PORT))
    .option(
      '--allow-origin <origin...>',
      "let pages of these origins (e.g. http://127.0.0.1:8000) read the runs' dataset files, to train in the browser",
    )
    .action(async (runs: string, flags: DashboardFlags) => {
      await runDashboard(runs, flags);
    });
}

export async function runDashboard(runs: string, flags: DashboardFlags, log: (line: string) => void = console.log): Promise<void> {
  const dashboard = await openDashboard({
    runsDir: runs,
    host: flags.host,
    port: flags.port,
    ...(flags.allowOrigin && { allowOrigins: flags.allowOrigin }),
  });
  log(`dashboard of ${resolve(runs)}: ${dashboard.url} (Ctrl-C stops it)`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
  await dashboard.close();
}

/** Starts a dashboard, turning a busy port or a bad address into one clear line. */
export async function openDashboard(options: {
  runsDir: string;
  host: string;
  port: string;
  allowOrigins?: readonly string[];
  live?: Parameters<typeof startDashboard>[0]['live'];
}): Promise<Dashboard> {
  for (const origin of options.allowOrigins ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      throw new CliError(`--allow-origin takes origins like http://127.0.0.1:8000 (scheme, host, port; no path), got "${origin}"`);
  }
  const port = integer(options.port, '--port');
  if (port < 0 || port > 65_535) throw new CliError(`--port must be between 0 and 65535, got "${options.port}"`);
  try {
    return await startDashboard({
      runsDir: options.runsDir,
      host: options.host,
      port,
      ...(options.allowOrigins && { allowOrigins: options.allowOrigins }),
      ...(options.live && { live: options.live }),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`port ${port} is in use on ${options.host}: pass --port with another (0 picks a free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`--host ${options.host} is not an address of this machine`);
    throw error;
  }
}
