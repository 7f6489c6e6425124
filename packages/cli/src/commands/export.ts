import { selectBackend } from '@rxvision/backend/node';
import { EXPORT_FORMATS, type ExportFormat, exportRun } from '@rxvision/experiment';
import { RUN_FILES } from '@rxvision/run-folder';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';

export interface ExportFlags {
  readonly format: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      `write a trained run's model as ONNX (RUN/${RUN_FILES.onnxModel}), its class names and normalisation in the model's metadata, for onnxruntime (Node, web, mobile, Python) and the dashboard's classify page`,
    )
    .argument('<run>', 'run folder written by rxvision train')
    .option('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`, 'onnx')
    .action(async (run: string, flags: ExportFlags) => runExport(run, flags));
}

export async function runExport(run: string, flags: ExportFlags, log: (line: string) => void = console.log): Promise<void> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format))
    throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${flags.format}"`);
  await selectBackend('cpu'); // the weights are only read
  log(`${await exportRun(run, flags.format as ExportFormat)}`);
}
