import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const packages = fileURLToPath(new URL('../../../packages/', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
let project: string;
/** Every package of the workspace, by name, as packed. */
let packed: string[] = [];

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'rxvision-packed-'));
  const tarballs: Record<string, string> = {};
  for (const name of await readdir(packages)) {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', project], { cwd: join(packages, name) });
    const [tarball] = JSON.parse(stdout) as [{ name: string; filename: string }];
    tarballs[tarball.name] = `file:./${tarball.filename}`;
  }
  packed = Object.keys(tarballs).sort();
  const manifest = {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: { ...tarballs, '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-layers': '4.22.0', rxjs: '^7.8.2' },
    devDependencies: { typescript: '6.0.3', '@types/node': '^20.19.0' },
  };
  await writeFile(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  // No workspace links: a plain install of the tarballs, third-party packages from the registry.
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project,
    maxBuffer: 1 << 26,
  });
  await copyFile(join(here, 'consumer.ts'), join(project, 'consumer.ts'));
  await copyFile(join(here, 'pipeline.mjs'), join(project, 'pipeline.mjs'));
}, 600_000);
afterAll(() => project && rm(project, { recursive: true, force: true }));

describe('the packed packages, installed from their tarballs', () => {
  test('are real installs, not links to the workspace', async () => {
    const { stdout } = await run('npm', ['ls', '--json', '--depth=0'], { cwd: project });
    const deps = (JSON.parse(stdout) as { dependencies: Record<string, { resolved?: string }> }).dependencies;
    const ours = Object.entries(deps).filter(([name]) => name.startsWith('@rxvision/'));
    expect(ours.map(([name]) => name).sort()).toEqual(packed);
    expect(packed.length).toBeGreaterThanOrEqual(9);
    for (const [, dep] of ours) expect(dep.resolved).toMatch(/\.tgz$/);
  });

  test('every entry point imports from ESM', async () => {
    const entries = [
      'backend',
      'backend/node',
      'cli',
      'dashboard',
      'dataset',
      'dataset/node',
      'errors',
      'experiment',
      'folder',
      'metrics',
      'model',
      'model/node',
      'onnx',
      'run-folder',
      'plot',
      'plot/node',
      'stream',
      'sweep',
      'sweep/node',
      'tensorboard',
      'tensorboard/node',
      'train',
    ];
    const script = entries
      .map(
        (entry, i) =>
          `import * as m${i} from '@rxvision/${entry}'; if (Object.keys(m${i}).length === 0) throw new Error('${entry} exports nothing');`,
      )
      .join('\n');
    await writeFile(join(project, 'imports.mjs'), `${script}\nconsole.log('ok');\n`);
    const { stdout } = await run(process.execPath, ['imports.mjs'], { cwd: project });
    expect(stdout.trim()).toBe('ok');
  });

  test('a TypeScript consumer type-checks against the published types', async () => {
    const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      'consumer.ts',
    ];
    const result = await run(process.execPath, [tsc, ...args], { cwd: project }).catch((error: { stdout: string }) => ({
      stdout: error.stdout,
      failed: true,
    }));
    expect(result.stdout).toBe('');
  });

  test('the native CPU path comes with the install, no script run: auto takes onednn, and onnxruntime-node (an optional peer) is not installed', async () => {
    await writeFile(
      join(project, 'native.mjs'),
      "import { selectBackend } from '@rxvision/backend/node';\nconst report = await selectBackend('auto', { threads: 1 });\nconsole.log(JSON.stringify(report));\n",
    );
    const { stdout } = await run(process.execPath, ['native.mjs'], { cwd: project });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { backend: string; summary: string };
    // CI builds the addon (.ci/run installs libdnnl-dev); a copy without it says why, which fails here.
    expect(report.backend, report.summary).toBe('onednn');
    expect(report.summary).toMatch(/oneDNN \d+\.\d+\.\d+ from @rxvision\/dnnl-linux-x64/);
    expect(existsSync(join(project, 'node_modules', 'onnxruntime-node'))).toBe(false);
  });

  test('a tiny pipeline runs: dataset → stream → one training step → metrics', async () => {
    const { stdout } = await run(process.execPath, ['pipeline.mjs'], { cwd: project });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { backend: string; steps: number; accuracy: number; tensors: number };
    expect(result.backend).toBe('cpu');
    expect(result.steps).toBe(1);
    expect(result.accuracy).toBeGreaterThanOrEqual(0);
    expect(result.accuracy).toBeLessThanOrEqual(1);
    expect(result.tensors).toBe(0);
  });
});
