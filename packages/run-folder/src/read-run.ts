import { readFile } from 'node:fs/promises';
import type { EpochRecord } from '@rxvision/metrics';
import { RxvisionError } from '@rxvision/errors';
import { runFile } from './run-files.js';
import { type RunSummary, SUMMARY_FORMAT } from './run-summary.js';

/** A run file that exists but is not what it should be; the message names the file. */
export class RunFileError extends RxvisionError {
  override readonly name = 'RunFileError';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** The range of each figure an epoch record may hold; `null` is a figure not measured (NaN in JSON). */
const FIGURE_RANGES: Record<string, readonly [number, number]> = {
  learningRate: [0, Infinity],
  trainLoss: [0, Infinity],
  valLoss: [0, Infinity],
  valAccuracy: [0, 1],
  seconds: [0, Infinity],
};

/** What is wrong with one figure, or undefined: a finite number in its range, or null. */
function figureProblem(name: string, value: unknown, range: readonly [number, number]): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    return `${name} is ${typeof value === 'number' ? String(value) : JSON.stringify(value)}, not a finite number`;
  if (value < range[0] || value > range[1]) return `${name} ${value} is outside [${range[0]}, ${range[1]}]`;
  return undefined;
}

/**
 * What is wrong with a parsed history.json, or undefined. Its figures are not trusted: every
 * reader (a sweep's scheduler, its status, the dashboard) gets them through this check, so an
 * edited 1e308 or a "0.9" cannot steer or break them. Records are epochs 1, 2, … in order.
 */
export function historyProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'expected a list of epoch records';
  for (const [index, record] of value.entries()) {
    if (typeof record !== 'object' || record === null || Array.isArray(record) || !Number.isInteger((record as { epoch?: unknown }).epoch))
      return `record ${index} has no epoch number`;
    const { epoch, metrics } = record as { epoch: number; metrics?: unknown };
    if (epoch !== index + 1) return `record ${index} is epoch ${epoch}, not ${index + 1}`;
    if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)))
      return `epoch ${epoch}: metrics is not an object of figures`;
    const fields = Object.entries(FIGURE_RANGES).map(([name, range]) =>
      figureProblem(name, (record as Record<string, unknown>)[name], range),
    );
    const extra = Object.entries((metrics ?? {}) as Record<string, unknown>).map(([name, figure]) =>
      figureProblem(`metrics.${name}`, figure, /accuracy|^top/i.test(name) ? [0, 1] : [-Infinity, Infinity]),
    );
    const problem = [...fields, ...extra].find(Boolean);
    if (problem) return `epoch ${epoch}: ${problem}`;
  }
  return undefined;
}

/** What is wrong with a parsed summary.json, or undefined. */
export function summaryProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const { format } = value as { format?: unknown };
  if (typeof format === 'number' && format > SUMMARY_FORMAT)
    return `written in summary format ${format}, newer than this rxvision reads (${SUMMARY_FORMAT}); upgrade rxvision`;
  return undefined;
}

/** The run's history: empty when it has none yet; a RunFileError when the file is damaged. */
export async function readHistory(run: string): Promise<EpochRecord[]> {
  const value = await readJson(runFile(run, 'history'));
  if (value === undefined) return [];
  const problem = historyProblem(value);
  if (problem) throw new RunFileError(runFile(run, 'history'), problem);
  return value as EpochRecord[];
}

/** The run's summary, or undefined while it is not finished; a RunFileError when the file is damaged. */
export async function readSummary(run: string): Promise<RunSummary | undefined> {
  const value = await readJson(runFile(run, 'summary'));
  if (value === undefined) return undefined;
  const problem = summaryProblem(value);
  if (problem) throw new RunFileError(runFile(run, 'summary'), problem);
  return value as RunSummary;
}

/** The experiment the run was started with (validate it with @rxvision/experiment), or undefined. */
export function readRunExperiment(run: string): Promise<unknown> {
  return readJson(runFile(run, 'experiment'));
}

/** Whether the run finished: its summary is written. */
export function isFinished(run: string): Promise<boolean> {
  return readFile(runFile(run, 'summary')).then(
    () => true,
    () => false,
  );
}

/** A JSON file, or undefined when there is none; a RunFileError for one that is not JSON. */
async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RunFileError(path, `is not JSON (${(error as Error).message})`);
  }
}
