export { renderPng, renderSvg } from './render.js';
export { captionedImage, type GridImages, imageGrid } from './image-grid.js';
