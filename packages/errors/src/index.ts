export { type ErrorKind, RxvisionError } from './rxvision-error.js';
