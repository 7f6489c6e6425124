#!/usr/bin/env node
import { exitWith, INTERNAL_ERROR_EXIT_CODE, main, relaunch, shouldRelaunch, watchParent } from '../dist/index.js';

// glibc's malloc settings can only be given at start-up: the command runs in a child that has them.
if (shouldRelaunch()) {
  process.exitCode = await relaunch().catch((error) => exitWith(error));
} else {
  watchParent();
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
