export { writeTensorBoard } from './write-tensorboard.js';
