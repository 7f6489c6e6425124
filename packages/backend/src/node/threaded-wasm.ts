import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { forgetWasmVariants } from '../wasm-variant.js';

const require = createRequire(import.meta.url);
const BUILD = 'tfjs-backend-wasm-threaded-simd';
/** tfjs-backend-wasm's priority for the `wasm` backend, kept for ours. */
const WASM_PRIORITY = 2;

interface EmscriptenModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: Array<{ unref(): void }> };
  tfjs?: Record<string, unknown>;
}
type ModuleFactory = (config: { locateFile(path: string): string; mainScriptUrlOrBlob: string }) => Promise<EmscriptenModule>;

let registeredThreads: number | undefined;

/**
 * Makes `wasm` tfjs-backend-wasm's threaded SIMD build with `threads` threads. tfjs keeps wasm
 * single-threaded in Node (tensorflow/tfjs#3830): its loader gives Emscripten Blob URLs, which
 * Node's workers cannot load, and the module sizes its pool from half the logical cores (so one
 * thread on a 2-vCPU machine). Here the worker script is a real file, the main script a path, the
 * core count the module reads is what the caller asks for, and the pool's workers do not keep
 * the process alive. Call before `tf.setBackend('wasm')`; a different count replaces the backend.
 */
export function useThreadedWasm(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (registeredThreads === threads) return;
  forgetWasmVariants();
  tf.removeBackend('wasm'); // the stock factory registered on import, or ours with another count
  tf.registerBackend('wasm', () => createBackend(threads), WASM_PRIORITY);
  registeredThreads = threads;
}

/** The thread count of the registered threaded backend; undefined while wasm is tfjs's own. */
export function threadedWasmThreads(): number | undefined {
  return registeredThreads;
}

async function createBackend(threads: number): Promise<tf.KernelBackend> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const folder = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const factory = require(join(folder, `${BUILD}.js`)) as ModuleFactory;
  const worker = workerScript(folder, wasm.version_wasm);
  // The module reads os.cpus() once, while it starts, and uses half of it: report what is wanted.
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]!);
  let module: EmscriptenModule;
  try {
    module = await factory({
      locateFile: (path) => (path.endsWith('.worker.js') ? worker : join(folder, path)),
      mainScriptUrlOrBlob: join(folder, `${BUILD}.js`),
    });
  } finally {
    os.cpus = cpus;
  }
  // The bindings tfjs-backend-wasm's own loader adds (backend_wasm.ts, init()).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  wasm.setThreadsCount(threads);
  const backend = new wasm.BackendWasm(module as never);
  // The pool's threads live as long as the process; they must not keep it from exiting.
  for (const running of module.PThread.runningWorkers) running.unref();
  return backend;
}

/**
 * The pthread worker as a file Node can start: tfjs ships its source as a string (meant for a
 * Blob), with its "\n" escapes turned into newlines by the template literal that holds it.
 */
function workerScript(folder: string, version: string): string {
  const { wasmWorkerContents } = require(join(folder, `${BUILD}.worker.js`)) as { wasmWorkerContents: string };
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  // Per user: in a shared /tmp (sticky), another user's copy could be neither replaced nor trusted.
  const path = join(tmpdir(), `rxvision-${BUILD}-${version}-${process.getuid?.() ?? 'user'}.worker.cjs`);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== source) {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, source);
    renameSync(temporary, path); // atomic: a concurrent process never starts half a worker
  }
  return path;
}
