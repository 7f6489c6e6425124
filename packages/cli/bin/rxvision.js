#!/usr/bin/env node
import { relaunch, shouldRelaunch, watchParent } from '../dist/relaunch.js';

watchParent();
// glibc's malloc settings can only be given at start-up: the command runs in a child that has them
// (this process loads no more than it needs to start it).
if (shouldRelaunch()) {
  process.exitCode = await relaunch().catch(async (error) => (await import('../dist/index.js')).exitWith(error));
} else {
  const { exitWith, INTERNAL_ERROR_EXIT_CODE, main } = await import('../dist/index.js');
  // Last resorts, reported like every other failure: an error that nothing awaited, and a command
  // that stopped before finishing because an operation never settled (Node would exit 13 silently).
  process.on('uncaughtException', (error) => process.exit(exitWith(error)));
  process.on('unhandledRejection', (error) => process.exit(exitWith(error)));
  let finished = false;
  process.once('beforeExit', () => {
    if (finished) return;
    console.error('rxvision: internal error: the command stopped before finishing (an operation never completed)');
    process.exitCode = INTERNAL_ERROR_EXIT_CODE;
  });

  process.exitCode = await main(process.argv.slice(2));
  finished = true;
}
