// Shared ESLint flat config; each project's eslint.config.js spreads it.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const tfjsBackends = ['@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-*'];

/** Node built-ins: allowed only in Node-only projects and in `src/node/` entry points. */
const nodeBuiltins = {
  patterns: [{ regex: '^node:', message: 'Platform-neutral code: put Node-only code under src/node/ (a separate entry point).' }],
  paths: [
    'fs',
    'fs/promises',
    'path',
    'os',
    'stream',
    'stream/promises',
    'zlib',
    'crypto',
    'http',
    'https',
    'url',
    'child_process',
    'worker_threads',
  ].map((name) => ({
    name,
    message: 'Platform-neutral code: put Node-only code under src/node/.',
  })),
};

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/vitest.config.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // `{ seconds: _seconds, ...row }` drops a field on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Typed rules for promises, sources only: a rejection nobody handles fails a run far from its cause.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      // A promise returned from a try block with a finally is unhandled while the finally runs.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // Sources only: tests play the application's part (they register backends, build models).
    files: ['src/**/*.ts', 'bin/**/*.js'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // The house: cli → train → metrics, cli → stream → dataset, cli → plot → metrics, train → stream;
            // experiment composes dataset → stream → model → train and runs it into a run folder, for the CLI and whatever runs experiments.
            // Every package may throw errors of the one base, @rxvision/errors, which depends on nothing.
            { sourceTag: 'scope:errors', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:folder', onlyDependOnLibsWithTags: ['scope:errors'] },
            {
              sourceTag: 'scope:run-folder',
              onlyDependOnLibsWithTags: ['scope:folder', 'scope:metrics', 'scope:errors'],
              bannedExternalImports: tfjsBackends.concat(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']),
            },
            { sourceTag: 'scope:dataset', onlyDependOnLibsWithTags: ['scope:folder', 'scope:errors'] },
            { sourceTag: 'scope:stream', onlyDependOnLibsWithTags: ['scope:dataset', 'scope:errors'] },
            {
              sourceTag: 'scope:metrics',
              onlyDependOnLibsWithTags: ['scope:errors'],
              bannedExternalImports: tfjsBackends.concat(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']),
            },
            { sourceTag: 'scope:model', onlyDependOnLibsWithTags: ['scope:folder', 'scope:errors'], bannedExternalImports: tfjsBackends },
            {
              sourceTag: 'scope:train',
              onlyDependOnLibsWithTags: [
                'scope:stream',
                'scope:metrics',
                'scope:dataset',
                'scope:model',
                'scope:folder',
                'scope:onnx',
                'scope:errors',
              ],
              bannedExternalImports: tfjsBackends,
            },
            { sourceTag: 'scope:onnx', onlyDependOnLibsWithTags: ['scope:errors'], bannedExternalImports: tfjsBackends },
            { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: ['scope:onnx', 'scope:errors', 'scope:backend-native'] },
            { sourceTag: 'scope:plot', onlyDependOnLibsWithTags: ['scope:metrics', 'scope:errors'], bannedExternalImports: tfjsBackends },
            {
              sourceTag: 'scope:tensorboard',
              onlyDependOnLibsWithTags: ['scope:metrics', 'scope:errors'],
              bannedExternalImports: tfjsBackends.concat(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']),
            },
            {
              sourceTag: 'scope:experiment',
              onlyDependOnLibsWithTags: [
                'scope:onnx',
                'scope:dataset',
                'scope:stream',
                'scope:model',
                'scope:train',
                'scope:metrics',
                'scope:folder',
                'scope:run-folder',
                'scope:plot',
                'scope:tensorboard',
                'scope:errors',
              ],
              bannedExternalImports: tfjsBackends,
            },
            {
              sourceTag: 'scope:sweep',
              onlyDependOnLibsWithTags: [
                'scope:experiment',
                'scope:dataset',
                'scope:folder',
                'scope:run-folder',
                'scope:metrics',
                'scope:train',
                'scope:errors',
              ],
              bannedExternalImports: tfjsBackends.concat(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']),
            },
            {
              sourceTag: 'scope:dashboard',
              onlyDependOnLibsWithTags: [
                'scope:onnx',
                'scope:plot',
                'scope:metrics',
                'scope:run-folder',
                'scope:dataset',
                'scope:folder',
                'scope:errors',
              ],
              bannedExternalImports: tfjsBackends.concat(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']),
            },
            {
              sourceTag: 'scope:cli',
              onlyDependOnLibsWithTags: [
                'scope:onnx',
                'scope:dataset',
                'scope:stream',
                'scope:model',
                'scope:train',
                'scope:metrics',
                'scope:backend',
                'scope:plot',
                'scope:experiment',
                'scope:tensorboard',
                'scope:dashboard',
                'scope:sweep',
                'scope:folder',
                'scope:run-folder',
                'scope:errors',
              ],
            },
            {
              sourceTag: 'scope:tools',
              onlyDependOnLibsWithTags: [
                'scope:dataset',
                'scope:stream',
                'scope:model',
                'scope:train',
                'scope:metrics',
                'scope:backend',
                'scope:plot',
                'scope:experiment',
                'scope:dashboard',
                'scope:errors',
              ],
            },
          ],
        },
      ],
    },
  },
];

/** For platform-neutral projects: Node built-ins only under src/node/. */
export const platformNeutral = [
  {
    files: ['src/**/*.ts'],
    ignores: ['src/node/**'],
    rules: { 'no-restricted-imports': ['error', nodeBuiltins] },
  },
];
