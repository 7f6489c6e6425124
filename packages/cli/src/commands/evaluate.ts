import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import { perClassAccuracy } from '@rxvision/metrics';
import { epochBatches } from '@rxvision/stream';
import { evaluate } from '@rxvision/train';
import type { Command } from 'commander';
import { lastValueFrom } from 'rxjs';
import { selectBackend } from '@rxvision/backend';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { loadCifar10 } from '../data.js';
import { describeShape, loadRunModel } from '../run-folder.js';

export interface EvaluateFlags {
  readonly model: string;
  readonly data: string;
  readonly backend: string;
  readonly threads?: string;
  readonly json?: boolean;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('test loss, accuracy and per-class accuracy of a trained run')
    .requiredOption('--model <run>', 'run folder written by rxvision train')
    .option('--data <dir>', 'folder of the Arrow files', DEFAULT_DATA_DIR)
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--json', 'print the result as JSON')
    .action(async (flags: EvaluateFlags) => {
      await runEvaluate(flags);
    });
}

export async function runEvaluate(flags: EvaluateFlags): Promise<void> {
  const threads = threadsChoice(flags.threads);
  await selectBackend(backendChoice(flags.backend), { ...(threads !== undefined && { threads }) });
  const { model, classes, imageShape } = await loadRunModel(flags.model);
  const { test } = await loadCifar10(flags.data, ['test']);
  if (classes.join() !== test.classes.join()) throw new CliError(`${flags.model}: the model's classes differ from the dataset's`);
  if (imageShape.join() !== test.shape.join()) {
    throw new CliError(`${flags.model}: the model takes ${describeShape(imageShape)} images; the dataset in ${flags.data} holds ${describeShape(test.shape)}`);
  }
  const result = await lastValueFrom(evaluate(model, epochBatches(test, { batchSize: 1000 })(0)));
  const perClass = Object.fromEntries(perClassAccuracy(result.confusion).map((accuracy, c) => [classes[c], accuracy]));
  if (flags.json) {
    console.log(JSON.stringify({ loss: result.loss, accuracy: result.accuracy, perClassAccuracy: perClass, images: test.length }));
  } else {
    console.log(`test_loss: ${result.loss.toFixed(4)}, test_acc: ${result.accuracy.toFixed(4)} (${test.length} images)`);
    for (const [name, accuracy] of Object.entries(perClass)) console.log(`  ${name.padEnd(10)} ${(100 * (accuracy as number)).toFixed(1)}%`);
  }
  model.dispose();
}
