export { CliError } from './cli-error.js';
export { createProgram, main } from './program.js';
