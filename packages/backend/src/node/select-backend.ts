// Over 250 lines: the backend candidates as data (the table adding a backend touches) and the one
// function that tries them in order.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, MissingKernelError } from '../backend-error.js';
import { BackendMemoryError, guardWasmHeap } from '../wasm-heap-guard.js';
import { withoutAddedProcessHandlers } from './process-handlers.js';
import { GRADIENT_KERNELS } from '../conv-gradient-kernels.js';
import { useWasmTrainingKernels, type WasmTrainingKernelsOptions } from '../wasm-training-kernels.js';
import { useLeadingAxesReductions } from '../leading-axes-reductions.js';
import { useLeanBatchNormGradient } from '../batch-norm-gradient.js';
import { importOptional, nodeBindingProblem, resolvePackage } from './node-binding.js';
import { keepFreedMemory, MALLOC_TUNABLES_HINT, mallocTunablesApplied } from './malloc-tunables.js';
import { loadOnnxRuntime, type OnnxRuntime } from './onnxruntime.js';
import { useOnnxRuntimeConvFilterGradient } from './onnxruntime-conv-filter.js';
import { useOnnxRuntimeMatMul } from './onnxruntime-mat-mul.js';
import type { Dnnl } from '@rxvision/dnnl-linux-x64';
import { loadOneDnn, ONEDNN_PACKAGE } from './onednn.js';
import { useOneDnnActivations } from './onednn-activation.js';
import { useOneDnnBatchNorm } from './onednn-batch-norm.js';
import { useOneDnnBinaryOps } from './onednn-binary.js';
import { useOneDnnConvolutions } from './onednn-convolutions.js';
import { useOneDnnMatMul } from './onednn-mat-mul.js';
import { useOneDnnPooling } from './onednn-pooling.js';
import { COMPUTE_PRECISIONS, type ComputePrecision, setOneDnnPrecision } from './onednn-precision.js';
import { threadedWasmThreads, useThreadedWasm } from './threaded-wasm.js';
import { registerWasmVariant } from '../wasm-variant.js';
import { registerCpuVariant } from '../cpu-variant.js';
import { usePlainBinaryOps } from '../plain-binary-ops.js';
import { useRowCopies } from '../row-copies.js';
import { installNodeWebGpu, probeWebGpuInChildProcess } from './webgpu.js';

/** What an application may ask for, `auto` first. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'onednn', 'onednn-cpu', 'onnxruntime', 'wasm', 'cpu'] as const;

export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendReport {
  /** The tfjs backend name now active: `tensorflow`, `webgpu`, `onednn`, `onednn-cpu`, `onnxruntime`, `wasm` or `cpu`. */
  readonly backend: string;
  /** The package that provides it. */
  readonly package: string;
  /** Whether it computes on a GPU; undefined where it cannot say. */
  readonly gpu: boolean | undefined;
  /** For webgpu: the adapter's description. */
  readonly device?: string;
  /** For wasm, onednn and onnxruntime: the threads its pool runs. */
  readonly threads?: number;
  /** What its convolutions and products compute in: bfloat16 only where asked and taken (onednn, onednn-cpu). */
  readonly precision: ComputePrecision;
  /** One line for people: what was chosen and why the ones before it were not. */
  readonly summary: string;
  readonly skipped: readonly { readonly package: string; readonly reason: string }[];
}

/** What a backend found when it loaded: for webgpu, whether the adapter is a GPU and its name. */
type Found = { gpu?: boolean; device?: string } | void;

/**
 * A backend `selectBackend` may take, as data: everything that differs between backends is said
 * here, and the loop that tries them branches on no name.
 */
interface Candidate {
  readonly name: string;
  readonly package: string;
  /** Loads and registers the backend; may return what it found about the device. */
  load(auto: boolean): Promise<Found>;
  /** Its tensors live in tfjs-backend-wasm's heap (wasm and its variants): wasm's kernels, heap guard and thread pool apply. */
  readonly onWasm?: boolean;
  /** The threads wasm's own pool runs under it, of those asked (default: all of them). */
  wasmThreads?(threads: number): number;
  /** Registers its own kernels once it is the current backend, with `threads` asked. */
  install?(threads: number): void;
  /** The threads it reports it computes with (default: wasm's pool under a wasm backend, none otherwise). */
  reportedThreads?(threads: number): number | undefined;
  /** Whether it computes on a GPU (default: what `load` found). */
  gpu?(found: Found): boolean | undefined;
  /** What computes what, for the report's line (default: its package). */
  describe?(): string;
  /** Advice the report's line adds, if any. */
  hint?(): string | undefined;
  /** Where it computes, for the report's line (default: with how many threads). */
  where?(gpu: boolean | undefined): string;
  /** Once loaded: why it cannot compute in bfloat16, or undefined where it can (absent: float32 only). */
  bfloat16?(): string | undefined;
}

/** Loaded by the onnxruntime candidate. */
let onnxRuntime: OnnxRuntime | undefined;
/** Loaded by the onednn and onednn-cpu candidates. */
let oneDnn: Dnnl | undefined;

/** Loads the oneDNN addon into `oneDnn`, or throws why there is none in one line. */
async function loadOneDnnAddon(): Promise<void> {
  const loaded = await loadOneDnn();
  if ('problem' in loaded) throw new Error(loaded.problem);
  oneDnn = loaded.dnnl;
}

/** Why the loaded addon cannot compute in bfloat16 here, if it cannot. */
const oneDnnBfloat16 = () => (oneDnn!.bf16 ? undefined : 'this CPU lacks AVX512-BF16');

/** oneDNN's kernels for `backendName` (a backend `heapOf` takes), on `threads` threads. */
function useOneDnnKernels(backendName: string, threads: number): void {
  useLeadingAxesReductions(backendName, oneDnn!.sumRows);
  oneDnn!.setThreads(threads);
  useOneDnnMatMul(backendName, oneDnn!);
  useOneDnnConvolutions(backendName, oneDnn!);
  useOneDnnBatchNorm(backendName, oneDnn!);
  useOneDnnPooling(backendName, oneDnn!);
  useOneDnnActivations(backendName, oneDnn!);
  useOneDnnBinaryOps(backendName, oneDnn!);
}

async function importNodeBackend(name: string): Promise<void> {
  const problem = nodeBindingProblem(name);
  if (problem) throw new Error(problem);
  await importOptional(name);
}

const tensorflow = (name: string): Candidate => ({
  name: 'tensorflow',
  package: name,
  load: () => importNodeBackend(name),
  gpu: usesGpu,
  ...(name === '@tensorflow/tfjs-node-gpu' && {
    where: (gpu: boolean | undefined) => (gpu ? ' on the GPU' : ' but on the CPU: it found no usable GPU (CUDA 11.2 / cuDNN 8.1)'),
  }),
});

const CANDIDATES: Record<Exclude<BackendChoice, 'auto'>, readonly Candidate[]> = {
  tensorflow: [tensorflow('@tensorflow/tfjs-node-gpu'), tensorflow('@tensorflow/tfjs-node')],
  webgpu: [
    {
      name: 'webgpu',
      package: '@tensorflow/tfjs-backend-webgpu',
      async load(auto) {
        if (auto) {
          // A software adapter trains several times slower than wasm; only an explicit choice takes it.
          const probed = await probeWebGpuInChildProcess(resolvePackage('webgpu'));
          if (probed.software)
            throw new Error(`only a software adapter (${probed.description}), slower than wasm; pass webgpu explicitly to use it`);
        }
        const adapter = await installNodeWebGpu(importOptional);
        await importOptional('@tensorflow/tfjs-backend-webgpu');
        return { gpu: !adapter.software, device: adapter.description };
      },
    },
  ],
  // wasm's kernels with oneDNN's for matrix products, convolutions, batch normalisation and activations, which
  // read and write the wasm heap in place: a backend of its own name, since its sums differ from wasm's.
  onednn: [
    {
      name: 'onednn',
      package: ONEDNN_PACKAGE,
      onWasm: true,
      async load() {
        await loadOneDnnAddon();
        await import('@tensorflow/tfjs-backend-wasm');
        registerWasmVariant('onednn');
      },
      // oneDNN's threads take the cores and wasm keeps one: its pool's threads spin between
      // kernels, against oneDNN's (ResNet step 212 ms with two, 186–193 with one).
      wasmThreads: () => 1,
      install: (threads) => useOneDnnKernels('onednn', threads),
      bfloat16: oneDnnBfloat16,
      reportedThreads: (threads) => threads,
      describe: () =>
        `oneDNN ${oneDnn?.version} from ${ONEDNN_PACKAGE} for matrix products, convolutions, batch normalisation and activations, @tensorflow/tfjs-backend-wasm for the rest`,
    },
  ],
  // The same oneDNN kernels over tfjs-backend-cpu's tensors, each a Float32Array of the process's:
  // no 4 GB wasm heap caps the model, and the kernels oneDNN does not take run in JavaScript
  // (slower than wasm's). `auto` takes it only where a wasm backend's heap cannot hold the probe.
  'onednn-cpu': [
    {
      name: 'onednn-cpu',
      package: ONEDNN_PACKAGE,
      async load() {
        await loadOneDnnAddon();
        await import('@tensorflow/tfjs-backend-cpu');
        registerCpuVariant('onednn-cpu');
      },
      install(threads) {
        // As the cpu candidate: its one-line report replaces tfjs-backend-cpu's banner.
        (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
        // cpu's own Slice, PadV2, Add, Sub and Multiply go element by element through broadcast positions.
        useRowCopies('onednn-cpu');
        usePlainBinaryOps('onednn-cpu');
        useOneDnnKernels('onednn-cpu', threads);
      },
      bfloat16: oneDnnBfloat16,
      reportedThreads: (threads) => threads,
      gpu: () => false,
      describe: () =>
        `oneDNN ${oneDnn?.version} from ${ONEDNN_PACKAGE} for matrix products, convolutions, batch normalisation and activations, @tensorflow/tfjs-backend-cpu for the rest, tensors in the process's memory (no wasm heap)`,
    },
  ],
  // wasm's kernels with onnxruntime's MLAS for every matrix product: a backend of its own name,
  // since its sums differ from wasm's in the last bits.
  onnxruntime: [
    {
      name: 'onnxruntime',
      package: 'onnxruntime-node',
      onWasm: true,
      async load() {
        onnxRuntime = loadOnnxRuntime();
        // Its binding returns fresh buffers: glibc must keep freed ones, set now where the addon is.
        const native = await loadOneDnn();
        if ('dnnl' in native) keepFreedMemory(native.dnnl);
        await import('@tensorflow/tfjs-backend-wasm');
        registerWasmVariant('onnxruntime');
      },
      install(threads) {
        useLeadingAxesReductions('onnxruntime');
        useOnnxRuntimeMatMul('onnxruntime', onnxRuntime!, threads);
        useOnnxRuntimeConvFilterGradient('onnxruntime', onnxRuntime!, threads);
      },
      describe: () => `onnxruntime-node ${onnxRuntime?.version} for matrix products, @tensorflow/tfjs-backend-wasm for the rest`,
      hint: () => (mallocTunablesApplied() ? undefined : MALLOC_TUNABLES_HINT),
    },
  ],
  // Not its leading-axes reductions: their float64 sums would move the last bits of the tutorial's recorded digits.
  wasm: [
    {
      name: 'wasm',
      package: '@tensorflow/tfjs-backend-wasm',
      onWasm: true,
      load: () => import('@tensorflow/tfjs-backend-wasm').then(() => undefined),
    },
  ],
  cpu: [
    {
      name: 'cpu',
      package: '@tensorflow/tfjs-backend-cpu',
      load: () => import('@tensorflow/tfjs-backend-cpu').then(() => undefined),
      // tfjs-backend-cpu prints a multi-line "install tfjs-node" banner on stderr at its first write;
      // the report's summary already says which packages were not available, in one line.
      install: () => void ((tf.backend() as unknown as { firstUse?: boolean }).firstUse = false),
      gpu: () => false,
    },
  ],
};

/**
 * Picks the tfjs backend for this process: the application calls this once, libraries never do.
 * `auto` tries tfjs-node-gpu, WebGPU (a hardware adapter only), tfjs-node, onednn, onnxruntime, wasm, onednn-cpu, then
 * cpu, and reports what it got and why the others were passed over; with a probe, a wasm backend whose heap cannot
 * hold it is passed over (and the others on that heap with it).
 */
export interface SelectBackendOptions extends WasmTrainingKernelsOptions {
  /**
   * Runs what the application will run (say, one training step of its model: `probeTraining` of
   * @rxvision/train) on each candidate. `auto` passes over a backend that lacks a kernel for it;
   * an explicit choice fails with a MissingKernelError that names the kernel and who has it.
   */
  readonly probe?: () => unknown;
  /** Threads for wasm, onednn and onnxruntime (default: every core, `os.availableParallelism()`); 1 keeps tfjs's single-threaded wasm build. */
  readonly threads?: number;
  /**
   * `bfloat16`: convolutions and products in mixed precision (bfloat16 operands, float32 sums,
   * outputs and weights), which only onednn and onednn-cpu compute, on a CPU with AVX512-BF16;
   * `auto` passes over the rest, an explicit choice that cannot is refused in one line. Default float32.
   */
  readonly precision?: ComputePrecision;
}

export async function selectBackend(choice: BackendChoice = 'auto', options: SelectBackendOptions = {}): Promise<BackendReport> {
  const [nodeGpu, node] = CANDIDATES.tensorflow;
  const candidates =
    choice === 'auto'
      ? [
          nodeGpu!,
          ...CANDIDATES.webgpu,
          node!,
          ...CANDIDATES.onednn,
          ...CANDIDATES.onnxruntime,
          ...CANDIDATES.wasm,
          // Slower than onednn, but for a probe too large for the wasm heap, the fastest that trains it.
          ...CANDIDATES['onednn-cpu'],
          ...CANDIDATES.cpu,
        ]
      : CANDIDATES[choice];
  if (!candidates) throw new BackendError(`unknown backend "${choice}": expected one of ${BACKEND_CHOICES.join(', ')}`);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new BackendError(`threads must be a positive integer, got ${threads}`);
  const precision = options.precision ?? 'float32';
  if (!COMPUTE_PRECISIONS.includes(precision))
    throw new BackendError(`precision must be ${COMPUTE_PRECISIONS.join(' or ')}, got "${precision}"`);
  const skipped: { package: string; reason: string }[] = [];
  /** An explicit choice that cannot compute in bfloat16 is refused; auto passes over it. */
  const cannotBfloat16 = (candidate: Candidate, reason: string) => {
    if (choice !== 'auto')
      throw new BackendError(
        `${candidate.name} cannot compute in bfloat16: ${reason}; bfloat16 needs onednn or onednn-cpu on a CPU with AVX512-BF16`,
      );
    skipped.push({ package: candidate.package, reason: `cannot compute in bfloat16: ${reason}` });
  };
  /** Why the wasm heap cannot hold the probe, once one wasm backend found it: the others share that heap. */
  let heapTooSmall: string | undefined;
  for (const candidate of candidates) {
    if (candidate.onWasm && heapTooSmall) {
      skipped.push({ package: candidate.package, reason: heapTooSmall });
      continue;
    }
    if (precision === 'bfloat16' && !candidate.bfloat16) {
      cannotBfloat16(candidate, 'it computes in float32 only');
      continue;
    }
    let found: Found;
    try {
      found = await candidate.load(choice === 'auto');
      const wasmThreads = candidate.wasmThreads?.(threads) ?? threads;
      if (candidate.onWasm && (wasmThreads > 1 || threadedWasmThreads() !== undefined)) useThreadedWasm(wasmThreads);
      await withoutAddedProcessHandlers(async () => {
        if (!(await tf.setBackend(candidate.name))) throw new Error('the backend failed to initialise');
        await tf.ready();
      });
    } catch (error) {
      skipped.push({ package: candidate.package, reason: firstLine(error) });
      continue;
    }
    const noBfloat16 = precision === 'bfloat16' ? candidate.bfloat16!() : undefined;
    if (noBfloat16) {
      cannotBfloat16(candidate, noBfloat16);
      continue;
    }
    useLeanBatchNormGradient();
    if (candidate.onWasm) {
      guardWasmHeap();
      useWasmTrainingKernels(candidate.name, options);
    }
    candidate.install?.(threads);
    if (candidate.bfloat16) setOneDnnPrecision(candidate.name, precision);
    let missing: string | undefined;
    try {
      missing = options.probe && (await missingKernel(options.probe));
    } catch (error) {
      if (!(choice === 'auto' && candidate.onWasm && error instanceof BackendMemoryError)) throw error;
      heapTooSmall = `the model's probe does not fit tfjs-wasm's heap (at most 4 GB)`;
      skipped.push({ package: candidate.package, reason: heapTooSmall });
      continue;
    }
    if (missing) {
      if (choice !== 'auto') throw new MissingKernelError(missing, candidate.name, await backendsWithKernel(missing));
      skipped.push({ package: candidate.package, reason: `lacks the ${missing} kernel the model needs` });
      continue;
    }
    const gpu = candidate.gpu ? candidate.gpu(found) : candidate.onWasm ? false : found?.gpu;
    const device = found?.device;
    const threadCount = candidate.reportedThreads ? candidate.reportedThreads(threads) : candidate.onWasm ? wasmPoolThreads() : undefined;
    return {
      backend: candidate.name,
      package: candidate.package,
      gpu,
      ...(device && { device }),
      ...(threadCount !== undefined && { threads: threadCount }),
      precision,
      skipped,
      summary: summarise(candidate, gpu, skipped, device, threadCount, precision),
    };
  }
  throw new BackendError(`no tfjs backend could be loaded: ${skipped.map((s) => `${s.package} (${s.reason})`).join('; ')}`);
}

/** The kernel the probe found missing on the current backend, if that is why it failed. */
async function missingKernel(probe: () => unknown): Promise<string | undefined> {
  try {
    await probe();
    return undefined;
  } catch (error) {
    const missing = /Kernel '(\w+)' not registered for backend/.exec((error as Error).message ?? '')?.[1];
    if (missing) return missing;
    throw error;
  }
}

/** The installed backends that register `kernel` (importing a backend registers its kernels). */
async function backendsWithKernel(kernel: string): Promise<string[]> {
  const installed = [
    ...CANDIDATES.tensorflow,
    ...CANDIDATES.webgpu,
    ...CANDIDATES.onednn,
    ...CANDIDATES.onnxruntime,
    ...CANDIDATES.wasm,
    ...CANDIDATES.cpu,
  ].filter((candidate) => {
    if (candidate.name !== 'tensorflow') return true;
    return nodeBindingProblem(candidate.package) === undefined;
  });
  const names = new Set<string>();
  for (const candidate of installed) {
    const loaded = await importOptional(candidate.package).then(
      () => true,
      () => false,
    );
    if (loaded && (tf.getKernel(kernel, candidate.name) || (candidate.onWasm && (GRADIENT_KERNELS as readonly string[]).includes(kernel))))
      names.add(candidate.name);
  }
  return [...names];
}

/** The threads tfjs-backend-wasm's pool really runs (its own report, not what was asked). */
function wasmPoolThreads(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  return backend.wasm?.tfjs?.getThreadsCount?.();
}

function usesGpu(): boolean | undefined {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return typeof backend.isUsingGpuDevice === 'boolean' ? backend.isUsingGpuDevice : undefined;
}

function summarise(
  candidate: Candidate,
  gpu: boolean | undefined,
  skipped: readonly { package: string; reason: string }[],
  device?: string,
  threads?: number,
  precision: ComputePrecision = 'float32',
): string {
  let where = threads === undefined ? '' : ` with ${threads} thread${threads === 1 ? '' : 's'}`;
  if (precision === 'bfloat16') where += ', convolutions and products in bfloat16 (float32 sums and weights)';
  where = candidate.where?.(gpu) ?? where;
  if (device) where = ` on ${device}${gpu ? '' : ' (software: slow)'}`;
  const fallbacks = skipped.map((s) => `${s.package}: ${s.reason}`).join('; ');
  const what = candidate.describe?.() ?? candidate.package;
  const hint = candidate.hint?.();
  return `backend ${candidate.name} (${what})${where}${hint ? ` — ${hint}` : ''}${fallbacks ? ` — not available: ${fallbacks}` : ''}`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0]!;
  if (/Cannot find (package|module)/.test(line)) return 'not installed';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
