import type { ServerResponse } from 'node:http';
import { RUN_FILES } from '@rxvision/run-folder';
import { sendJson } from './responses.js';
import { readRunFile, runFolder, UnservedRunFile } from './run-path.js';

/** Larger than any top-losses.json a run writes (16 images of at most 128 px); a larger one is not read. */
const TOP_LOSSES_MAX_BYTES = 16 << 20;

const PNG_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;

/** What is wrong with entry `i` of a top-losses.json, or undefined: only what the page shows, checked. */
function entryProblem(entry: unknown, i: number): string | undefined {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const probability = (value: unknown) => typeof value === 'number' && value >= 0 && value <= 1;
  if (typeof e.label !== 'string' || typeof e.predicted !== 'string') return `entry ${i + 1} needs label and predicted class names`;
  if (!probability(e.probability) || !probability(e.trueProbability)) return `entry ${i + 1}'s probabilities must be in [0, 1]`;
  if (typeof e.loss !== 'number' || !(e.loss >= 0) || !Number.isFinite(e.loss)) return `entry ${i + 1}'s loss must be finite and ≥ 0`;
  if (typeof e.image !== 'string' || !PNG_DATA_URL.test(e.image)) return `entry ${i + 1}'s image must be a PNG data URL`;
  return undefined;
}

/** A run's top-losses.json, checked entry by entry: 404 where it has none, 422 with one line where it is damaged. */
export async function sendTopLosses(root: string, name: string, response: ServerResponse): Promise<void> {
  const folder = await runFolder(root, name);
  const file = RUN_FILES.topLosses;
  let bytes: Buffer | undefined;
  try {
    bytes = folder ? await readRunFile(folder, file, TOP_LOSSES_MAX_BYTES) : undefined;
  } catch (error) {
    if (!(error instanceof UnservedRunFile)) throw error;
    return sendJson(response, 422, { error: `${name}/${file}: ${error.message}` });
  }
  if (!bytes) return sendJson(response, 404, { error: `${name} has no ${file}: a run with a test split writes it when it finishes` });
  let entries: unknown;
  try {
    entries = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return sendJson(response, 422, { error: `${name}/${file}: not valid JSON (${(error as Error).message})` });
  }
  const problem = Array.isArray(entries) ? entries.map(entryProblem).find(Boolean) : 'expected a list';
  if (problem) return sendJson(response, 422, { error: `${name}/${file}: ${problem}` });
  return sendJson(response, 200, entries);
}
