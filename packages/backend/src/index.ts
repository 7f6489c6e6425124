export { useExplicitTransposeMatMul } from './explicit-transpose-mat-mul.js';
export { type BackendChoice, type BackendReport, selectBackend } from './select-backend.js';
