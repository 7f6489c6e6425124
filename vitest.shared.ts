import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

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
    // The JSON report lets .ci/run print one closing count over all packages.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
