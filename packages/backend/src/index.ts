export { useExplicitTransposeMatMul } from './explicit-transpose-mat-mul.js';
export { BACKEND_CHOICES, type BackendChoice, type BackendReport, selectBackend, type SelectBackendOptions } from './select-backend.js';
