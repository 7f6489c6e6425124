// Bundling for the browser with esbuild, as an application would: shared by the tests and by
// `node tools/browser/bundle-size.js`, which prints the README's size figure.
import { builtinModules } from 'node:module';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;

/** The platform-neutral entry points: what a browser application imports of rxvision. */
export const NEUTRAL_ENTRIES = [
  '@rxvision/dataset',
  '@rxvision/stream',
  '@rxvision/model',
  '@rxvision/train',
  '@rxvision/metrics',
  '@rxvision/onnx',
  '@rxvision/backend',
];

/** Every Node built-in, bare and with the node: prefix. */
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * Bundles `code` (an ES module) for the browser: minified, ESM, every import resolved for
 * `platform: 'browser'`. An import esbuild cannot resolve for a browser (a Node built-in that no
 * package's `browser` field maps away) is returned in `unresolved`, with its importer.
 */
export async function bundleForBrowser(code, { outfile, minify = true } = {}) {
  try {
    const result = await build({
      stdin: { contents: code, resolveDir: here, loader: 'js', sourcefile: 'entry.js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify,
      metafile: true,
      write: outfile !== undefined,
      ...(outfile ? { outfile } : {}),
      logLevel: 'silent',
    });
    return { unresolved: [], metafile: result.metafile, bytes: outfile ? undefined : result.outputFiles[0].contents };
  } catch (error) {
    if (!error.errors) throw error;
    return { unresolved: error.errors.map((e) => `${e.text} (${e.location?.file ?? '?'})`) };
  }
}

/** The Node built-ins among a bundle's inputs (esbuild names a built-in it kept by its bare name). */
export function nodeBuiltinInputs(metafile) {
  return Object.keys(metafile.inputs).filter(
    (input) => NODE_BUILTINS.has(input.replace(/^\(disabled\):/, '')) && !input.startsWith('(disabled)'),
  );
}

/** The neutral entry points as one module, and its minified and gzipped sizes. */
export async function neutralBundle() {
  const code = NEUTRAL_ENTRIES.map((entry, i) => `export * as m${i} from '${entry}';`).join('\n');
  const { unresolved, metafile, bytes } = await bundleForBrowser(code);
  if (unresolved.length > 0) return { unresolved };
  return { unresolved, metafile, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, bytes };
}
