import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const addon = new URL('./dnnl.node', import.meta.url);

let loaded;

/**
 * The addon, loaded once. Throws, with the reason in one line, when this copy has no addon (it was
 * installed where it could not be built) or the addon does not load.
 */
export function loadDnnl() {
  if (loaded) return loaded;
  if (!existsSync(addon)) {
    const status = new URL('./build-status.txt', import.meta.url);
    const why = existsSync(status) ? readFileSync(status, 'utf8').trim() : 'this copy was never built';
    throw new Error(`@rxvision/dnnl-linux-x64 has no addon: ${why}`);
  }
  // libgomp reads its wait policy once, as it loads: threads that spin between two convolutions
  // would take the cores from the wasm kernels that run in between.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  loaded = require(addon.pathname);
  return loaded;
}
