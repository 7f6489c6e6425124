import type { Command } from 'commander';
import { DEFAULT_DATA_DIR, prepareCifar10 } from '@rxvision/dataset/node';
import { CliError } from '../cli-error.js';
import { progressBar } from '../progress.js';

export interface PrepareFlags {
  readonly source?: string;
  readonly data: string;
  readonly force?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

export function registerPrepare(program: Command): void {
  program
    .command('prepare')
    .description('fetch, verify and convert CIFAR-10 into Arrow files (train.arrow, test.arrow)')
    .option('--source <url|file|dir>', 'CIFAR-10 binary tarball URL, local .tar.gz, or extracted folder (default: $RXVISION_CIFAR10_SOURCE, else the official URL)')
    .option('--data <dir>', 'folder for the Arrow files', DEFAULT_DATA_DIR)
    .option('--force', 'convert again even if the files are already prepared, replacing what is there')
    .option('--timeout <seconds>', 'a download that sends nothing for this long fails', '30')
    .option('--json', 'print the result as JSON')
    .action(async (flags: PrepareFlags) => {
      await runPrepare(flags);
    });
}

export async function runPrepare(flags: PrepareFlags, log: (line: string) => void = console.log): Promise<void> {
  const timeout = Number(flags.timeout);
  if (!(timeout > 0 && timeout <= 3600)) throw new CliError(`--timeout must be a number of seconds between 0 and 3600, got "${flags.timeout}"`);
  const started = performance.now();
  const bar = progressBar('prepare', { unit: 'bytes' });
  let result;
  try {
    result = await prepareCifar10({
      ...(flags.source !== undefined && { source: flags.source }),
      dataDir: flags.data,
      force: Boolean(flags.force),
      timeoutMs: timeout * 1000,
      onProgress: ({ bytes, totalBytes }) => bar.update(bytes, totalBytes),
    });
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    log(JSON.stringify({ ...result, seconds }));
  } else if (result.skipped) {
    log(`already prepared: ${result.train}, ${result.test}`);
  } else {
    log(`prepared ${result.train} and ${result.test} from ${result.source} in ${seconds.toFixed(1)} s`);
  }
}
