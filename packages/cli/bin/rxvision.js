#!/usr/bin/env node
// The command runs in this process, the one the shell started: job control (Ctrl-Z, fg, a signal
// to the job's process group) reaches all of it. Nothing needs to be set before start-up any more:
// the onednn backend makes no fresh buffers, and onnxruntime's malloc settings are set at run time.
import { watchParent } from '../dist/parent-process.js';

watchParent();
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
