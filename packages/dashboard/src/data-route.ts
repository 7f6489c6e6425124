import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { DATA_SPLITS, DataFolder } from '@rxvision/dataset/node';
import { openRegularFile, UnreadableFileError } from '@rxvision/folder';
import { RUN_FILES } from '@rxvision/run-folder';
import { SECURITY_HEADERS, sendJson } from './responses.js';
import { runDatasetFile } from './run-dataset.js';
import { readRunFile, runFolder, UnservedRunFile } from './run-path.js';

/** A split of the dataset the run trained on, as its prepared Arrow IPC file (streamed: it may be large). */
export async function sendDataset(
  root: string,
  allowOrigins: readonly string[],
  request: IncomingMessage,
  response: ServerResponse,
  name: string,
  file: string,
): Promise<void> {
  const origin = request.headers.origin;
  const allowed = origin !== undefined && allowOrigins.includes(origin);
  const cors = allowed ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
  // Named in the URL as in its data folder: train.arrow, test.arrow.
  const split = DataFolder.splitNamed(file);
  if (split === undefined)
    return sendJson(response, 404, { error: `a run's data is ${DATA_SPLITS.map(DataFolder.fileName).join(' or ')}` });
  // Only the experiment is needed (where its data is), read as every run file here: a regular file or nothing.
  const folder = await runFolder(root, name);
  if (!folder) return sendJson(response, 404, { error: `no run named ${JSON.stringify(name)}` });
  const text = await readRunFile(folder, RUN_FILES.experiment).catch((error: unknown) =>
    error instanceof UnservedRunFile ? undefined : Promise.reject(error),
  );
  const experiment = text && parsedOrNothing(text);
  const path = runDatasetFile(experiment, split);
  // Opened without blocking and refused unless a regular file: a FIFO named there would hold one
  // of libuv's four file threads per request, and after four the whole dashboard.
  let opened: Awaited<ReturnType<typeof openRegularFile>> | undefined;
  try {
    opened = path === undefined ? undefined : await openRegularFile(path, Number.MAX_SAFE_INTEGER);
  } catch (error) {
    if (error instanceof UnreadableFileError) return sendJson(response, 422, { error: error.message });
  }
  if (!opened)
    return sendJson(response, 404, { error: `${name}'s experiment names no ${split} split, or its file ${path ?? ''} is not there` });
  const { handle, size } = opened;
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    if (bytesRead < 6 || buffer.toString('latin1') !== 'ARROW1')
      return sendJson(response, 422, { error: `${path} is not an Arrow IPC file` });
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      ...cors,
      'content-type': 'application/vnd.apache.arrow.file',
      'content-length': size,
    });
    if (request.method === 'HEAD') return void response.end();
    // pipeline settles when the page goes away mid-file too, so the handle is closed, not left to the garbage collector.
    await pipeline(createReadStream('', { fd: handle, autoClose: false, start: 0 }), response).catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** A file's JSON, or undefined where it is not JSON (a damaged file names no data). */
function parsedOrNothing(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
