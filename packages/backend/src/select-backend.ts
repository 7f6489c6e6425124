import * as tf from '@tensorflow/tfjs-core';
import { useExplicitTransposeMatMul } from './explicit-transpose-mat-mul.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendReport {
  /** The tfjs backend name now active: `tensorflow`, `wasm` or `cpu`. */
  readonly backend: string;
  /** The package that provides it. */
  readonly package: string;
  /** For `tensorflow`: whether it runs on a GPU; undefined where it cannot say. */
  readonly gpu: boolean | undefined;
  /** One line for people: what was chosen and why the ones before it were not. */
  readonly summary: string;
  readonly skipped: readonly { readonly package: string; readonly reason: string }[];
}

interface Candidate {
  readonly name: string;
  readonly package: string;
  load(): Promise<void>;
}

// Optional packages are imported by computed name, so bundlers and tsc do not require them.
const importOptional = (name: string): Promise<unknown> => import(name);

const CANDIDATES: Record<Exclude<BackendChoice, 'auto'>, readonly Candidate[]> = {
  tensorflow: [
    { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', load: () => importOptional('@tensorflow/tfjs-node-gpu').then(() => undefined) },
    { name: 'tensorflow', package: '@tensorflow/tfjs-node', load: () => importOptional('@tensorflow/tfjs-node').then(() => undefined) },
  ],
  wasm: [{ name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', load: () => import('@tensorflow/tfjs-backend-wasm').then(() => undefined) }],
  cpu: [{ name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', load: () => import('@tensorflow/tfjs-backend-cpu').then(() => undefined) }],
};

/**
 * Picks the tfjs backend for this process: the application calls this once, libraries never do.
 * `auto` tries tfjs-node-gpu, tfjs-node, wasm, then cpu, and reports what it got and why.
 */
export interface SelectBackendOptions {
  /** On wasm, replace BatchMatMul by explicit transpose + plain matMul (default true; 5x faster training). */
  readonly explicitTransposeMatMul?: boolean;
}

export async function selectBackend(choice: BackendChoice = 'auto', options: SelectBackendOptions = {}): Promise<BackendReport> {
  const candidates = choice === 'auto' ? [...CANDIDATES.tensorflow, ...CANDIDATES.wasm, ...CANDIDATES.cpu] : CANDIDATES[choice];
  if (!candidates) throw new Error(`unknown backend "${choice}": expected auto, tensorflow, wasm or cpu`);
  const skipped: { package: string; reason: string }[] = [];
  for (const candidate of candidates) {
    try {
      await candidate.load();
      if (!(await tf.setBackend(candidate.name))) throw new Error('the backend failed to initialise');
      await tf.ready();
    } catch (error) {
      skipped.push({ package: candidate.package, reason: firstLine(error) });
      continue;
    }
    if (candidate.name === 'wasm' && options.explicitTransposeMatMul !== false) useExplicitTransposeMatMul('wasm');
    const gpu = candidate.name === 'tensorflow' ? usesGpu() : candidate.name === 'cpu' || candidate.name === 'wasm' ? false : undefined;
    return { backend: candidate.name, package: candidate.package, gpu, skipped, summary: summarise(candidate, gpu, skipped) };
  }
  throw new Error(`no tfjs backend could be loaded: ${skipped.map((s) => `${s.package} (${s.reason})`).join('; ')}`);
}

function usesGpu(): boolean | undefined {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return typeof backend.isUsingGpuDevice === 'boolean' ? backend.isUsingGpuDevice : undefined;
}

function summarise(candidate: Candidate, gpu: boolean | undefined, skipped: readonly { package: string; reason: string }[]): string {
  let where = '';
  if (candidate.package === '@tensorflow/tfjs-node-gpu') where = gpu ? ' on the GPU' : ' but on the CPU: it found no usable GPU (CUDA 11.2 / cuDNN 8.1)';
  const fallbacks = skipped.map((s) => `${s.package}: ${s.reason}`).join('; ');
  return `backend ${candidate.name} (${candidate.package})${where}${fallbacks ? ` — not available: ${fallbacks}` : ''}`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0]!;
  if (/Cannot find (package|module)/.test(line)) return 'not installed';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
