import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { bundleForBrowser, NEUTRAL_ENTRIES, neutralBundle, nodeBuiltinInputs } from '../bundle.js';

describe('the platform-neutral packages, bundled for the browser', () => {
  test('bundle with esbuild for platform browser: no Node built-in, no Node entry point, a size the README states', async () => {
    const bundle = await neutralBundle();
    expect(bundle.unresolved).toEqual([]);
    expect(nodeBuiltinInputs(bundle.metafile!)).toEqual([]);
    const inputs = Object.keys(bundle.metafile!.inputs);
    // Every package's own code is in it, none of their Node entries.
    for (const entry of NEUTRAL_ENTRIES)
      expect(inputs.some((input) => input.includes(`packages/${entry.replace('@rxvision/', '')}/dist/`))).toBe(true);
    expect(inputs.filter((input) => /packages\/[^/]+\/dist\/node\//.test(input))).toEqual([]);
    // The README's figure, to the KiB (node tools/browser/bundle-size.js prints it).
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const [, minified, gzipped] = /\*\*(\d+) KiB\*\* minified, \*\*(\d+) KiB\*\*/.exec(readme) ?? [];
    expect([Number(minified), Number(gzipped)]).toEqual([Math.round(bundle.minified! / 1024), Math.round(bundle.gzipped! / 1024)]);
  }, 120_000);

  test('a Node entry point does not bundle for the browser, and the check says which built-in', async () => {
    const { unresolved } = await bundleForBrowser("export * from '@rxvision/dataset/node';");
    expect(unresolved.length).toBeGreaterThan(0);
    expect(unresolved.join('\n')).toMatch(/Could not resolve "node:(fs|path|fs\/promises|crypto|os)"/);
  }, 120_000);
});
