import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/reporters';

/**
 * Errors thrown outside any test (an unhandled rejection, say) fail vitest's run but not one test,
 * so the JSON report does not show them; this file does, for .ci/run's closing count.
 */
const unhandledErrorsReport = (): Reporter => {
  let root = '.';
  return {
    onInit: (vitest) => void (root = vitest.config.root),
    onTestRunEnd: (_modules, unhandledErrors) => {
      const messages = unhandledErrors.map((error) => `${error.name ?? 'Error'}: ${error.message ?? ''}`);
      writeFileSync(join(root, '.vitest-unhandled.json'), JSON.stringify({ messages }));
    },
  };
};

/**
 * Shared by every package's vitest.config.ts: workspace packages resolve to their TypeScript
 * sources through the `@rxvision/source` export condition, so a package's tests never wait
 * for its dependencies to be built.
 */
export default defineConfig({
  resolve: { conditions: ['@rxvision/source'] },
  ssr: { resolve: { conditions: ['@rxvision/source', ...defaultServerConditions] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report (and the unhandled errors beside it) let .ci/run print one closing count over all packages.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }], unhandledErrorsReport()],
  },
});
