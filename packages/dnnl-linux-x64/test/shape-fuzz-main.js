// The shape fuzz in a process of its own: `node shape-fuzz-main.js ADDON SEED COUNT [KERNEL…]`
// loads the addon at ADDON (the AddressSanitizer build, say), prints each failing case as a JSON
// line as it is found and exits 1 if there was one. The case about to run is on stderr, so a crash or a hang
// names it.
import { createRequire } from 'node:module';
import { fuzz } from './shape-fuzz.js';

const [addon, seed = '1', count = '40', ...kernels] = process.argv.slice(2);
const dnnl = createRequire(import.meta.url)(addon);
dnnl.setThreads(2);
const failures = fuzz(dnnl, {
  seed: Number(seed),
  count: Number(count),
  kernels: kernels.length ? kernels : undefined,
  announce: (line) => process.stderr.write(`${line}\n`),
  report: (failure) => process.stdout.write(`${JSON.stringify(failure)}\n`),
});
process.exitCode = failures.length ? 1 : 0;
