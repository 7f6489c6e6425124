// Prints the size of the platform-neutral packages bundled for the browser (the README's figure).
import { NEUTRAL_ENTRIES, neutralBundle } from './bundle.js';

const { unresolved, minified, gzipped } = await neutralBundle();
if (unresolved.length > 0) throw new Error(`not bundled for the browser: ${unresolved.join('; ')}`);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`${NEUTRAL_ENTRIES.join(', ')}: ${kib(minified)} minified, ${kib(gzipped)} gzipped (esbuild, platform browser)`);
