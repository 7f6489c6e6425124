// Over 250 lines: the routing and the live events (the watched folder, the recheck of running runs)
// share one server's state; its responses, static files, data route and host names have files of their own.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { readClassifierMetadata } from '@rxvision/onnx';
import { comparisonChart, parallelCoordinates, stepChart } from '@rxvision/plot';
import { RUN_FILES } from '@rxvision/run-folder';
import { sendDataset } from './data-route.js';
import { hostNames } from './host-names.js';
import { SECURITY_HEADERS, send, sendJson } from './responses.js';
import { sendOnnxRuntimeWeb, STATIC_FILES } from './static-files.js';
import type { Observable, Subscription } from 'rxjs';
import { BadRunName, readRunFile, runFolder, UnservedRunFile } from './run-path.js';
import { differingSettings } from './run-settings.js';
import { sendTopLosses } from './top-losses-route.js';
import { listRuns, looksLikeRun, readRun, type RunDetails, RUN_PICTURES, type RunInfo, runInfo } from './runs.js';
import { watchRuns } from './watch-runs.js';

/** The training events the page shows live (those of `@rxvision/train`'s `fit`, by shape). */
export interface LiveEvent {
  readonly type: string;
  readonly epoch?: number;
  readonly step?: number;
  readonly loss?: number;
}

export interface DashboardOptions {
  /** The folder whose sub-folders are runs (and sweeps of runs); nothing outside it is served. */
  readonly runsDir: string;
  /** Default 127.0.0.1: only this machine. */
  readonly host?: string;
  /** Default 6007 (beside TensorBoard's 6006); 0 picks a free port. */
  readonly port?: number;
  /**
   * Origins (e.g. `http://127.0.0.1:8000`) whose pages may read the runs' dataset files
   * (`/api/runs/NAME/data/train.arrow`): a page of your own that trains in the browser. None by
   * default: other sites' pages never read them.
   */
  readonly allowOrigins?: readonly string[];
  /** A run training in this process: its steps are pushed to the page as they happen. */
  readonly live?: { readonly run: string; readonly events: Observable<LiveEvent>; readonly stepsPerEpoch?: number };
}

export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_DASHBOARD_PORT = 6007;
/** How often runs last seen running are looked at again, to see one that died. */
const RECHECK_MS = 3000;
/** A ResNet-50's ONNX file is about 100 MB: served for the classify page, up to this. */
const ONNX_MAX_BYTES = 1 << 30;
/**
 * Serves the dashboard of the runs in `runsDir`: read-only, from this package's files only. The page
 * gets changes pushed as server-sent events: a run's history as each epoch is written (the folder is
 * watched), and the steps of a run training in this process.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const root = resolve(options.runsDir);
  const clients = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown): void => {
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of clients) client.write(message);
  };

  // Runs last seen running, with their status then (see the recheck below).
  const running = new Map<string, string>();
  const statusOf = (run: RunInfo) => `${run.status}:${run.epochs}`;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof BadRunName || error instanceof URIError ? 400 : 500;
      if (!response.headersSent) sendJson(response, status, { error: (error as Error).message });
      else response.end();
    });
  });

  // Set once listening: the Host headers of requests meant for this server.
  let ownNames = new Set<string>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A page of another site that resolves its own name to this address (DNS rebinding) sends its
    // own name: only requests that name this server are answered.
    const named = (request.headers.host ?? '').toLowerCase();
    if (!ownNames.has(named))
      return sendJson(response, 403, {
        error: `the dashboard answers requests for ${[...ownNames].join(', ')} only, not ${JSON.stringify(named)}`,
      });
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return sendJson(response, 405, { error: 'the dashboard is read-only: GET only' });
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const file = STATIC_FILES[url.pathname];
    if (file) return send(response, 200, file.type, await readFile(file.path()));
    if (url.pathname === '/api/runs') {
      const runs = await listRuns(root);
      for (const run of runs) if (run.status === 'running') running.set(run.name, statusOf(run));
      return sendJson(response, 200, runs);
    }
    if (url.pathname === '/api/events') return openEvents(response);
    if (url.pathname === '/api/chart') {
      // One parameter a run: a run's name is data and may hold any character, commas too.
      const names = url.searchParams.getAll('run').filter(Boolean);
      if (names.length === 0) return sendJson(response, 400, { error: 'name the runs to chart: /api/chart?run=a&run=b' });
      const runs = await Promise.all(names.map(async (name) => ({ name, run: await readRun(root, name) })));
      const missing = runs.find(({ run }) => !run);
      if (missing) return sendJson(response, 404, { error: `no run named ${JSON.stringify(missing.name)}` });
      const metric = url.searchParams.get('metric') || undefined;
      try {
        const log = url.searchParams.get('log') === '1';
        const smoothing = Number(url.searchParams.get('smooth') ?? 1);
        const smooth = Number.isFinite(smoothing) ? Math.min(Math.max(smoothing, 1), 500) : 1;
        // Per step, from progress.json: `step:loss`, `step:learningRate`.
        if (metric === 'step:loss' || metric === 'step:learningRate') {
          const stepped = runs.flatMap(({ name, run }) => (run!.steps ? [{ name, steps: run!.steps }] : []));
          return sendJson(response, 200, stepChart(stepped, metric === 'step:loss' ? 'loss' : 'learningRate', { log, smooth }));
        }
        const labelSmoothing = (run: RunDetails) =>
          Number((run.experiment as { labelSmoothing?: unknown } | undefined)?.labelSmoothing ?? 0) || 0;
        return sendJson(
          response,
          200,
          comparisonChart(
            runs.map(({ name, run }) => ({ name, history: run!.history, labelSmoothing: labelSmoothing(run!) })),
            { ...(metric && { metric }), log, smooth },
          ),
        );
      } catch (error) {
        if (error instanceof RangeError) return sendJson(response, 400, { error: error.message });
        throw error;
      }
    }
    if (url.pathname === '/api/settings') {
      // The ticked runs' settings that differ between them, for the page's table.
      const names = url.searchParams.getAll('run').filter(Boolean);
      const runs = await Promise.all(names.map((name) => readRun(root, name)));
      const settings = differingSettings(runs.map((run) => run?.experiment));
      return sendJson(
        response,
        200,
        names.map((name, i) => ({ name, settings: settings[i] })),
      );
    }
    if (url.pathname === '/api/parallel') {
      // The ticked runs' settings that differ, against a figure of their last epoch: parallel coordinates.
      const names = url.searchParams.getAll('run').filter(Boolean);
      const metric = url.searchParams.get('metric') || 'valAccuracy';
      const runs = (await Promise.all(names.map((name) => readRun(root, name)))).filter((run): run is RunDetails => run !== undefined);
      const settings = differingSettings(runs.map((run) => run.experiment));
      const last = (run: RunDetails) =>
        run.last ? ((run.last as unknown as Record<string, number | undefined>)[metric] ?? run.last.metrics?.[metric]) : undefined;
      try {
        return sendJson(
          response,
          200,
          parallelCoordinates(
            runs.map((run, i) => ({ name: run.name, settings: settings[i]!, figure: last(run) })),
            metric,
          ),
        );
      } catch (error) {
        if (error instanceof RangeError) return sendJson(response, 400, { error: error.message });
        throw error;
      }
    }
    if (url.pathname.startsWith('/vendor/onnxruntime-web/'))
      return sendOnnxRuntimeWeb(response, url.pathname.slice('/vendor/onnxruntime-web/'.length));
    const parts = url.pathname.split('/'); // '', 'api', 'runs', name, picture? | 'data', 'SPLIT.arrow'
    if (parts[1] === 'api' && parts[2] === 'runs' && parts[4] === 'data' && parts.length === 6)
      return sendDataset(root, options.allowOrigins ?? [], request, response, decodeURIComponent(parts[3] ?? ''), parts[5]!);
    if (parts[1] === 'api' && parts[2] === 'runs' && parts.length <= 5) {
      const name = decodeURIComponent(parts[3] ?? '');
      const picture = parts[4];
      if (picture === undefined) {
        const run = await readRun(root, name);
        return run ? sendJson(response, 200, run) : sendJson(response, 404, { error: `no run named ${JSON.stringify(name)}` });
      }
      if (picture === RUN_FILES.onnxModel || picture === 'classifier') {
        const folder = await runFolder(root, name);
        const bytes =
          folder &&
          (await readRunFile(folder, RUN_FILES.onnxModel, ONNX_MAX_BYTES).catch((error: unknown) =>
            error instanceof UnservedRunFile ? undefined : Promise.reject(error),
          ));
        if (!bytes)
          return sendJson(response, 404, {
            error: `${name} has no ${RUN_FILES.onnxModel}: a run writes it when it finishes; rxvision export RUN writes it for a run made before`,
          });
        if (picture === RUN_FILES.onnxModel) return send(response, 200, 'application/octet-stream', bytes);
        try {
          return sendJson(response, 200, readClassifierMetadata(bytes));
        } catch (error) {
          return sendJson(response, 422, { error: `${name}/${RUN_FILES.onnxModel}: ${(error as Error).message}` });
        }
      }
      if (picture === RUN_FILES.topLosses) return sendTopLosses(root, name, response);
      if (!(RUN_PICTURES as readonly string[]).includes(picture))
        return sendJson(response, 404, { error: `runs show only ${RUN_PICTURES.join(', ')}` });
      const folder = await runFolder(root, name);
      const bytes =
        folder &&
        (await readRunFile(folder, picture).catch((error: unknown) =>
          error instanceof UnservedRunFile ? undefined : Promise.reject(error),
        ));
      return bytes
        ? send(response, 200, 'image/png', bytes)
        : sendJson(response, 404, { error: `${name} has no ${picture} (a link or anything but a regular file counts as none)` });
    }
    return sendJson(response, 404, { error: `nothing at ${url.pathname}` });
  }

  function openEvents(response: ServerResponse): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    response.write('retry: 1000\n\n');
    clients.add(response);
    response.on('close', () => clients.delete(response));
  }

  // A run's files change: push its new state (debounced: a write is a temporary file and a rename).
  const pending = new Map<string, NodeJS.Timeout>();
  const stopWatching = watchRuns(root, (name) => {
    clearTimeout(pending.get(name));
    pending.set(
      name,
      setTimeout(() => {
        pending.delete(name);
        readRun(root, name).then(
          (run) => {
            if (run?.status === 'running') running.set(name, statusOf(run));
            if (run && looksLikeRun(run)) broadcast('run', runInfo(run));
          },
          () => undefined, // a name that is not a run (or has gone): nothing to say
        );
      }, 50),
    );
  });

  // A run's process can die without a word (SIGKILL, a lost machine): nothing in its folder changes,
  // so the runs last seen running (in a list the page asked for, or a change pushed) are looked at
  // again every few seconds, and a change is pushed.
  const recheck = setInterval(() => {
    for (const [name, seen] of running) {
      readRun(root, name).then(
        (run) => {
          if (run?.status === 'running') running.set(name, statusOf(run));
          else running.delete(name);
          if (run && looksLikeRun(run) && statusOf(run) !== seen) broadcast('run', runInfo(run));
        },
        () => running.delete(name),
      );
    }
  }, RECHECK_MS);
  recheck.unref();

  let live: Subscription | undefined;
  if (options.live) {
    const { run, events, stepsPerEpoch } = options.live;
    let lastSent = 0;
    live = events.subscribe((event) => {
      const now = Date.now();
      if (event.type !== 'batch' || now - lastSent < 200) return; // at most five a second
      lastSent = now;
      broadcast('step', { run, epoch: event.epoch, step: event.step, stepsPerEpoch, loss: event.loss });
    });
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, options.host ?? '127.0.0.1', () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  ownNames = hostNames(address);
  return {
    url: `http://${host}:${address.port}/`,
    close: async () => {
      live?.unsubscribe();
      clearInterval(recheck);
      stopWatching();
      for (const timer of pending.values()) clearTimeout(timer);
      for (const client of clients) client.end();
      // Open pages keep their connections alive; closing must not wait for them to leave.
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      server.closeAllConnections();
      await closed;
    },
  };
}
