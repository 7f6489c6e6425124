// The files the dashboard serves from this package and its dependencies: its pages, vega, onnxruntime-web.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send, sendJson } from './responses.js';

const ASSETS = fileURLToPath(new URL('../assets/', import.meta.url));
const require = createRequire(import.meta.url);
export const STATIC_FILES: Record<string, { path: () => string; type: string }> = {
  '/': { path: () => join(ASSETS, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { path: () => join(ASSETS, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { path: () => join(ASSETS, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/classify.html': { path: () => join(ASSETS, 'classify.html'), type: 'text/html; charset=utf-8' },
  '/classify.js': { path: () => join(ASSETS, 'classify.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/vega.min.js': { path: () => require.resolve('vega/build/vega.min.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/vega-lite.min.js': { path: () => require.resolve('vega-lite/build/vega-lite.min.js'), type: 'text/javascript; charset=utf-8' },
};
/** onnxruntime-web's files the classify page loads (an optional peer dependency: the page says when it is missing). */
const ONNXRUNTIME_WEB_FILE = /^ort[\w.-]*\.(mjs|wasm)$/;
const ONNXRUNTIME_WEB_MISSING =
  'onnxruntime-web is not installed beside @rxvision/dashboard: npm install onnxruntime-web@1.30.0 to classify images in the browser';

export async function sendOnnxRuntimeWeb(response: ServerResponse, file: string): Promise<void> {
  if (!ONNXRUNTIME_WEB_FILE.test(file)) return sendJson(response, 404, { error: `no onnxruntime-web file named ${JSON.stringify(file)}` });
  let dist: string;
  try {
    dist = dirname(require.resolve('onnxruntime-web')); // its browser files sit beside its main
  } catch {
    return sendJson(response, 404, { error: ONNXRUNTIME_WEB_MISSING });
  }
  const bytes = await readFile(join(dist, file)).catch(() => undefined);
  if (!bytes) return sendJson(response, 404, { error: `onnxruntime-web has no ${file}` });
  send(response, 200, file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8', bytes);
}
