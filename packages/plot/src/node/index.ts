export { renderPng, renderSvg } from './render.js';
export { captionedImage, type GridImages, imageGrid, thumbnailPng } from './image-grid.js';
