export { useExplicitTransposeMatMul } from './explicit-transpose-mat-mul.js';
export { type BackendChoice, type BackendReport, selectBackend, type SelectBackendOptions } from './select-backend.js';
