export { CliError } from './cli-error.js';
export { createProgram, exitWith, main } from './program.js';
export { DEBUG_VARIABLE, type ErrorReport, INTERNAL_ERROR_EXIT_CODE, reportError } from './report-error.js';
