export { BackendError, MissingKernelError } from './backend-error.js';
export { useExplicitTransposeMatMul } from './explicit-transpose-mat-mul.js';
export { BACKEND_CHOICES, type BackendChoice, type BackendReport, selectBackend, type SelectBackendOptions } from './select-backend.js';
export { GRADIENT_KERNELS, registerConvGradientKernels } from './conv-gradient-kernels.js';
export { useCorrectMaxPoolGrad } from './max-pool-grad-kernel.js';
export { threadedWasmThreads, useThreadedWasm } from './threaded-wasm.js';
