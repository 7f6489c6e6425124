export { renderPng, renderSvg } from './render.js';
