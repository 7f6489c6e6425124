import { spawnSync } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR10, imageDatasetSchema } from '@rxvision/dataset';
import { claimFolder } from '@rxvision/folder';
import { createTutorialModel } from '@rxvision/model';
import { fileSystemSaver } from '@rxvision/model/node';
import '@tensorflow/tfjs-backend-cpu';
import { type DataType, Field, FixedSizeList, Int8, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Uint8 } from 'apache-arrow';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';
import { writeSmallCifar } from './small-cifar-fixture.js';

// Each numbered case of "every failure is one clear line": the exit code, the one line the user
// sees, and that the data (or run) folder holds what it held before. The commands run on a small
// CIFAR-shaped data folder made here; only what prepares CIFAR-10 itself needs the real tarball.
const source = process.env.RXVISION_CIFAR10_SOURCE;
let dir: string;
let data: string;
/** A source folder with CIFAR-10's file names, never read: the folder errors the cases test come first. */
let raw: string;
let run: string;

/** A failed command: this exit code and exactly this one line on stderr, nothing else. */
function expectFailure(result: CliRun, code: number, line: string): void {
  expect({ code: result.code, stderr: result.stderr.trim() }).toEqual({ code, stderr: `rxvision: ${line}` });
}

/** Every file and folder below `folder` with its size and modification time (or that it is missing). */
async function snapshot(folder: string): Promise<string[]> {
  const names = await readdir(folder, { recursive: true }).catch(() => undefined);
  if (!names) return ['(missing)'];
  const entries = await Promise.all(
    names.sort().map(async (name) => {
      const info = await stat(join(folder, name));
      return `${name} ${info.isDirectory() ? 'dir' : info.size} ${info.mtimeMs}`;
    }),
  );
  return entries;
}

/** A copy of the data folder `from` with `test.arrow` replaced by `bytes`. */
async function dataWithTestFile(from: string, name: string, bytes: Uint8Array): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await copyFile(join(from, 'train.arrow'), join(folder, 'train.arrow'));
  await writeFile(join(folder, 'test.arrow'), bytes);
  return folder;
}

/** An Arrow file shaped like a dataset file but with the given image width and label type. */
function arrowFile(imageWidth: number, labelType: DataType, labels: ArrayLike<number>): Uint8Array {
  const rows = labels.length;
  const pixelType = new Uint8();
  const imageType = new FixedSizeList(imageWidth, new Field('pixel', pixelType, false));
  const metadata = imageDatasetSchema({ classes: CIFAR10.classes, shape: [32, 32, 3], rows, sources: {} }).metadata;
  const schema = new Schema([new Field('image', imageType, false), new Field('label', labelType, false)], metadata);
  const pixels = makeData({ type: pixelType, length: rows * imageWidth, data: new Uint8Array(rows * imageWidth) });
  const images = makeData({ type: imageType, length: rows, child: pixels });
  const labelValues = labelType.typeId === new Int8().typeId ? Int8Array.from(labels) : Uint8Array.from(labels);
  const labelData = makeData({ type: labelType as Uint8, length: rows, data: labelValues as Uint8Array });
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, children: [images, labelData] }));
  return tableToIPC(new Table([batch]), 'file');
}

/** A run folder holding a freshly initialised model of the given shape, saved with CIFAR-10's class names. */
async function runWithModel(name: string, inputShape: [number, number, number], classes: number): Promise<string> {
  const folder = join(dir, name);
  const model = createTutorialModel({ seed: 1, inputShape, classes });
  model.setUserDefinedMetadata({ classes: [...CIFAR10.classes] });
  await model.save(fileSystemSaver(join(folder, 'model')));
  model.dispose();
  return folder;
}

/** The pid of a process that has exited: what a killed run's leftovers are named by. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-failures-'));
  data = await writeSmallCifar(join(dir, 'data'), { train: 2000, test: 500 });
  raw = join(dir, 'raw', 'cifar-10-batches-bin');
  await mkdir(raw, { recursive: true });
  for (const file of CIFAR10.files) await writeFile(join(raw, file.name), 'never read');
  run = join(dir, 'run');
  const trained = await runCli([
    'train',
    '--data',
    data,
    '--limit',
    '200',
    '--schedule',
    '1@0.05',
    '--batch-size',
    '60',
    '--backend',
    'wasm',
    '--out',
    run,
  ]);
  expect(trained.code, trained.stderr).toBe(0);
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.runIf(source)('1. prepare from a folder without test_batch.bin (the real CIFAR-10 files)', () => {
  test('says what is missing, exits 1 and leaves no data folder and no temporary file', async () => {
    const extracted = join(dir, 'extracted');
    await mkdir(extracted);
    expect(spawnSync('tar', ['-xzf', source!, '-C', extracted]).status).toBe(0);
    const partial = join(dir, 'notest');
    await mkdir(partial);
    for (const name of await readdir(join(extracted, 'cifar-10-batches-bin'))) {
      if (name.startsWith('data_batch_')) await copyFile(join(extracted, 'cifar-10-batches-bin', name), join(partial, name));
    }
    const out = join(dir, 'notest-data');
    expectFailure(await runCli(['prepare', '--source', partial, '--data', out]), 1, `${partial}: lacks test_batch.bin`);
    expect(await snapshot(out)).toEqual(['(missing)']);
    // Into a folder that exists, it stays as it was (no train.arrow.<pid>.tmp).
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    const before = await snapshot(out);
    expectFailure(await runCli(['prepare', '--source', partial, '--data', out]), 1, `${partial}: lacks test_batch.bin`);
    expect(await snapshot(out)).toEqual(before);
  });
});

describe('2. a download server that accepts and never answers', () => {
  let silent: Server;
  const accepted: Socket[] = [];
  let port: number;
  beforeAll(async () => {
    silent = createServer((socket) => accepted.push(socket)); // accepts, reads nothing, sends nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  test('prepare gives up after --timeout seconds with one line, and writes nothing', async () => {
    const url = `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`;
    const out = join(dir ?? tmpdir(), 'silent-data');
    const result = await runCli(['prepare', '--source', url, '--data', out, '--timeout', '1']);
    expectFailure(result, 1, `${url}: sent nothing for 1 s; check the address and the network, or pass a local .tar.gz or folder`);
    expect(await snapshot(out)).toEqual(['(missing)']);
  });

  test('a body that stalls after the headers fails the same way', async () => {
    const stalling = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-length': '1000000' });
      response.write(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])); // a gzip header, then nothing
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(stalling.address() as { port: number }).port}/x.tar.gz`;
    try {
      const out = join(dir ?? tmpdir(), 'stalled-data');
      const result = await runCli(['prepare', '--source', url, '--data', out, '--timeout', '1']);
      expectFailure(result, 1, `${url}: sent nothing for 1 s; check the address and the network, or pass a local .tar.gz or folder`);
      expect(await snapshot(out)).toEqual(['(missing)']);
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  test('--timeout must be a number of seconds', async () => {
    expectFailure(
      await runCli(['prepare', '--timeout', 'soon']),
      1,
      '--timeout must be a number of seconds between 0 and 3600, got "soon"',
    );
  });
});

describe('3. one line instead of a stack trace', () => {
  test('--out and --data under a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    expectFailure(
      await runCli(['train', '--data', data, '--limit', '200', '--out', join(file, 'run')]),
      1,
      `cannot create folder ${join(file, 'run')}: ${file} is a file, not a folder`,
    );
    expectFailure(
      await runCli(['explore', '--data', data, '--out', join(file, 'x')]),
      1,
      `cannot create folder ${join(file, 'x')}: ${file} is a file, not a folder`,
    );
    expectFailure(
      await runCli(['prepare', '--source', raw, '--data', join(file, 'data')]),
      1,
      `cannot create folder ${join(file, 'data')}: ${file} is a file, not a folder`,
    );
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  test('an existing file as --out', async () => {
    const file = join(dir, 'existing-file');
    await writeFile(file, 'x');
    expectFailure(
      await runCli(['train', '--data', data, '--limit', '200', '--out', file]),
      1,
      `cannot create folder ${file}: a file of that name exists`,
    );
    expectFailure(await runCli(['explore', '--data', data, '--out', file]), 1, `cannot create folder ${file}: a file of that name exists`);
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  test('a folder without write permission, as an unprivileged user', async () => {
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    const options = { unprivileged: true };
    expectFailure(
      await runCli(['prepare', '--source', raw, '--data', locked], {}, options),
      1,
      `cannot write into ${locked}: permission denied`,
    );
    expectFailure(
      await runCli(['prepare', '--source', raw, '--data', join(locked, 'sub')], {}, options),
      1,
      `cannot create folder ${join(locked, 'sub')}: permission denied`,
    );
    expectFailure(
      await runCli(['train', '--data', data, '--limit', '200', '--out', locked], {}, options),
      1,
      `cannot write into ${locked}: permission denied`,
    );
    expectFailure(
      await runCli(['explore', '--data', data, '--out', locked], {}, options),
      1,
      `cannot write into ${locked}: permission denied`,
    );
    expect(await readdir(locked)).toEqual([]);
  });

  test.each([
    ['null', 'null', 'expected a JSON object'],
    ['a format alone', '{"format":1}', '"config" must be an object'],
  ])('a checkpoint.json that holds %s', async (name, content, problem) => {
    const damaged = join(dir, `checkpoint-${name.replace(/ /g, '-')}`);
    await cp(run, damaged, { recursive: true });
    const path = join(damaged, 'checkpoint', 'checkpoint.json');
    await writeFile(path, content);
    const before = await snapshot(damaged);
    expectFailure(await runCli(['train', '--resume', damaged]), 1, `${path}: not an rxvision checkpoint (${problem})`);
    expect(await snapshot(damaged)).toEqual(before);
  });

  test('an empty optimizer.bin', async () => {
    const damaged = join(dir, 'checkpoint-empty-optimizer');
    await cp(run, damaged, { recursive: true });
    const path = join(damaged, 'checkpoint', 'optimizer.bin');
    await writeFile(path, '');
    const before = await snapshot(damaged);
    expectFailure(
      await runCli(['train', '--resume', damaged, '--backend', 'wasm']),
      1,
      `${path}: damaged: it holds 0 bytes, the checkpoint lists 4`,
    );
    expect(await snapshot(damaged)).toEqual(before);
  });

  test('a truncated PNG for predict', async () => {
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 256));
    const png = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    const truncated = join(dir, 'truncated.png');
    await writeFile(truncated, png.subarray(0, png.length >> 1));
    expectFailure(
      await runCli(['predict', '--model', run, '--backend', 'wasm', truncated]),
      1,
      `${truncated}: is a damaged image (pngload: end of stream)`,
    );
  });

  test('a model whose input shape differs from the dataset: evaluate refuses, predict resizes to it', async () => {
    const grey = await runWithModel('grey-model', [28, 28, 1], 10);
    expectFailure(
      await runCli(['evaluate', '--model', grey, '--data', data, '--backend', 'wasm']),
      1,
      `${grey}: the model takes 28×28×1 images; the dataset in ${data} holds 32×32×3`,
    );
    const image = join(dir, 'colour.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: 'red' } })
      .png()
      .toFile(image);
    const predicted = await runCli(['predict', '--model', grey, '--backend', 'wasm', '--json', image]);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(JSON.parse(predicted.stdout).top).toHaveLength(3);
    expectFailure(
      await runCli(['predict', '--model', grey, '--backend', 'wasm', '--no-resize', image]),
      1,
      `${image}: 32×32 pixels; the model takes 28×28 (leave out --no-resize to resize)`,
    );
  });
});

describe('4. a damaged dataset file is described, never prepared over', () => {
  const cases: Array<[string, () => Promise<Uint8Array>, (path: string) => string]> = [
    [
      'truncated',
      async () => (await readFile(join(data, 'test.arrow'))).subarray(0, 1_000_000),
      (path) => `${path}: is not a readable Arrow IPC file (`,
    ],
    [
      'a 3071-wide image column',
      async () => arrowFile(3071, new Uint8(), [1, 2]),
      (path) => `${path}: column "image" holds 3071 values per image, but its shape 32×32×3 needs 3072`,
    ],
    ['zero rows', async () => arrowFile(3072, new Uint8(), []), (path) => `${path}: holds no images`],
    [
      'negative labels',
      async () => arrowFile(3072, new Int8(), [3, -1]),
      (path) => `${path}: column "label" must be an unsigned integer (Uint8, Uint16 or Uint32), found Int8`,
    ],
  ];

  test.each(cases)('%s: train, evaluate and explore say what is wrong and leave it as it is', async (name, bytes, problem) => {
    const folder = await dataWithTestFile(data, `damaged-${name.replace(/ /g, '-')}`, await bytes());
    const path = join(folder, 'test.arrow');
    const before = await snapshot(folder);
    // A source is set, so a command that tried to prepare again would overwrite the file (or fail on the source instead).
    const env = { RXVISION_CIFAR10_SOURCE: source ?? raw };
    for (const args of [
      ['train', '--data', folder, '--limit', '200', '--out', join(dir, 'never')],
      ['evaluate', '--model', run, '--data', folder, '--backend', 'wasm'],
      ['explore', '--data', folder, '--out', join(dir, 'never')],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toContain(`rxvision: ${problem(path)}`);
    }
    expect(await snapshot(folder)).toEqual(before);
    expect(await snapshot(join(dir, 'never'))).toEqual(['(missing)']);
  });

  // prepare knows a folder it prepared itself (its files name CIFAR-10's raw files): the real dataset's.
  test.runIf(source).each(cases)(
    '%s: prepare leaves a damaged test.arrow of real CIFAR-10 as it is',
    async (name, bytes) => {
      const cifar = join(dir, 'cifar-prepared');
      if (!(await stat(cifar).catch(() => undefined)))
        expect((await runCli(['prepare', '--source', source!, '--data', cifar])).code).toBe(0);
      const folder = await dataWithTestFile(cifar, `damaged-cifar-${name.replace(/ /g, '-')}`, await bytes());
      const path = join(folder, 'test.arrow');
      const before = await snapshot(folder);
      const prepared = await runCli(['prepare', '--data', folder], { RXVISION_CIFAR10_SOURCE: source });
      expect(prepared.code).toBe(1);
      expect(prepared.stderr.trim()).toMatch(
        new RegExp(`^rxvision: ${escape(path)}: .*; left as it is \\(move it away, or prepare with force to replace it\\)$`),
      );
      expect(await snapshot(folder)).toEqual(before);
    },
    120_000,
  );

  test('a 20000×20000 PNG is called too large, not "not a PNG"', async () => {
    const huge = join(dir, 'huge.png');
    await sharp({ create: { width: 20000, height: 20000, channels: 3, background: 'white' }, limitInputPixels: false })
      .png()
      .toFile(huge);
    expectFailure(
      await runCli(['predict', '--model', run, '--backend', 'wasm', huge]),
      1,
      `${huge}: 20000×20000 pixels is too large (at most 268 megapixels)`,
    );
  });
});

describe('5. no silently wrong results', () => {
  test('a model with 12 outputs and 10 class names', async () => {
    const twelve = await runWithModel('twelve-outputs', [32, 32, 3], 12);
    const problem = `${join(twelve, 'model')}: the model has 12 outputs but 10 class names`;
    expectFailure(await runCli(['evaluate', '--model', twelve, '--data', data, '--backend', 'wasm']), 1, problem);
    expectFailure(await runCli(['predict', '--model', twelve, '--backend', 'wasm', join(dir, 'colour.png')]), 1, problem);
  });

  test('a --limit too small to hold out validation images', async () => {
    expectFailure(
      await runCli(['train', '--data', data, '--limit', '4', '--out', join(dir, 'never')]),
      1,
      '--limit must be at least 10 (a tenth is held out for validation), got "4"',
    );
  });

  test.each([
    ['9999999999999999999999', '--batch-size 9999999999999999999999 is too large (at most 9007199254740991 either way)'],
    ['1e3', '--batch-size must be an integer, got "1e3"'],
    ['5000', 'the tutorial: batchSize: 5000 is larger than the training split (1800 images)'],
  ])('--batch-size %s', async (size, line) => {
    expectFailure(await runCli(['train', '--data', data, '--limit', '2000', '--batch-size', size, '--out', join(dir, 'never')]), 1, line);
    expect(await snapshot(join(dir, 'never'))).toEqual(['(missing)']);
  });
});

describe('6. what killed runs left behind', () => {
  test.runIf(source)(
    'the next prepare of real CIFAR-10 into the folder removes what earlier writers left (their claims are gone), whatever pid or token names it',
    async () => {
      const pid = deadPid();
      const cifar = join(dir, 'cifar');
      const first = await runCli(['prepare', '--source', source!, '--data', cifar]);
      expect(first.code, first.stderr).toBe(0);
      await writeFile(join(cifar, `train.arrow.${pid}.tmp`), 'half a file, named as rxvision named them before claims');
      await writeFile(join(cifar, 'test.arrow.0123456789abcdef.tmp'), 'half a file of a lost claim');
      const prepared = await runCli(['prepare', '--data', cifar]);
      expect(prepared.code, prepared.stderr).toBe(0);
      expect((await readdir(cifar)).sort()).toEqual(['test.arrow', 'train.arrow']);
    },
  );

  test('the next train into a run folder removes what earlier writers left (their claims are gone), whatever pid or token names it', async () => {
    const pid = deadPid();
    const resumed = join(dir, 'resumed');
    await cp(run, resumed, { recursive: true });
    await mkdir(join(resumed, 'checkpoint.fedcba9876543210.tmp', 'model'), { recursive: true });
    await writeFile(join(resumed, `history.json.${pid}.tmp`), '[');
    const result = await runCli(['train', '--resume', resumed, '--backend', 'wasm', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const left = await readdir(resumed);
    expect(left.filter((name) => name.endsWith('.tmp') || name.startsWith('writer.lock'))).toEqual([]);
  });

  test('a folder another process holds is refused, and its temporaries stay', async () => {
    const held = join(dir, 'held-run');
    await cp(run, held, { recursive: true });
    const claim = await claimFolder(held, { purpose: 'train' });
    try {
      const temporary = claim.temporaryPath(join(held, 'history.json'));
      await writeFile(temporary, '[');
      const result = await runCli(['train', '--resume', held, '--backend', 'wasm']);
      expectFailure(
        result,
        75,
        `${held} is being written by train (pid ${process.pid} on host ${hostname()}, since ${claim.holder.since}); wait for it to finish or stop it`,
      );
      expect(await readFile(temporary, 'utf8')).toBe('[');
    } finally {
      await claim.release();
    }
  });
});

describe('every command with a broken input of each kind', () => {
  test('one line each, never a stack trace, empty output, internal error, or exit 0 or 13', async () => {
    const file = join(dir, 'matrix-file');
    await writeFile(file, 'x');
    const missing = join(dir, 'matrix-missing');
    const empty = join(dir, 'matrix-empty-folder');
    await mkdir(empty, { recursive: true });
    const locked = join(dir, 'matrix-locked');
    await mkdir(locked, { recursive: true });
    await chmod(locked, 0o555);
    const damagedData = await dataWithTestFile(data, 'matrix-damaged-data', Buffer.from('not arrow'));
    const damagedModel = join(dir, 'matrix-damaged-model');
    await cp(run, damagedModel, { recursive: true });
    await writeFile(join(damagedModel, 'model', 'model.json'), '{"modelTopology": ');
    const notImage = join(dir, 'matrix-not-image.png');
    await writeFile(notImage, 'not an image');
    const image = join(dir, 'matrix-image.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: 'blue' } })
      .png()
      .toFile(image);
    const out = (name: string) => join(dir, 'matrix-out', name);
    const noSource = { RXVISION_CIFAR10_SOURCE: missing };

    const kinds: Record<string, Array<{ args: string[]; env?: NodeJS.ProcessEnv; unprivileged?: boolean }>> = {
      'a missing input': [
        { args: ['prepare', '--source', missing, '--data', out('a')] },
        { args: ['explore', '--data', missing, '--out', out('b')], env: noSource },
        { args: ['train', '--data', missing, '--out', out('c')], env: noSource },
        { args: ['train', '--resume', missing] },
        { args: ['evaluate', '--model', missing, '--data', data] },
        { args: ['predict', '--model', run, join(dir, 'no-such.png')] },
      ],
      'a damaged file': [
        { args: ['prepare', '--data', damagedData], env: { RXVISION_CIFAR10_SOURCE: source ?? raw } },
        { args: ['explore', '--data', damagedData, '--out', out('d')] },
        { args: ['train', '--data', damagedData, '--out', out('e')] },
        { args: ['evaluate', '--model', damagedModel, '--data', data] },
        { args: ['evaluate', '--model', run, '--data', damagedData] },
        { args: ['predict', '--model', damagedModel, image] },
        { args: ['predict', '--model', run, notImage] },
      ],
      'a file where a folder belongs': [
        { args: ['prepare', '--source', raw, '--data', file] },
        { args: ['explore', '--data', file, '--out', out('f')], env: noSource },
        { args: ['explore', '--data', data, '--out', file] },
        { args: ['train', '--data', data, '--limit', '200', '--out', file] },
        { args: ['train', '--resume', file] },
        { args: ['evaluate', '--model', file, '--data', data] },
        { args: ['predict', '--model', file, image] },
      ],
      'a folder where a file belongs, or an empty one': [
        { args: ['prepare', '--source', empty, '--data', out('g')] },
        { args: ['train', '--resume', empty] },
        { args: ['evaluate', '--model', empty, '--data', data] },
        { args: ['predict', '--model', run, empty] },
        { args: ['evaluate', '--model', run, '--data', run], env: noSource },
      ],
      'a folder it cannot write into': [
        { args: ['prepare', '--source', raw, '--data', locked], unprivileged: true },
        { args: ['explore', '--data', data, '--out', locked], unprivileged: true },
        { args: ['train', '--data', data, '--limit', '200', '--out', locked], unprivileged: true },
      ],
      'a bad flag or argument': [
        { args: ['prepare', '--timeout', '-1'] },
        { args: ['explore', '--nope'] },
        { args: ['train', '--schedule', 'fast', '--data', data] },
        { args: ['train', '--seed', '0.5', '--data', data] },
        { args: ['evaluate', '--model', run, '--backend', 'gpu'] },
        { args: ['predict', '--model', run, '--threads', 'all', image] },
        { args: ['predict', '--model', run, '--top', '0', image] },
        { args: ['predict', '--model', run] },
        { args: ['no-such-command'] },
      ],
    };
    const problems: string[] = [];
    for (const [kind, runs] of Object.entries(kinds)) {
      const results = await Promise.all(runs.map(({ args, env, unprivileged }) => runCli(args, env, { unprivileged })));
      results.forEach((result, i) => {
        const stderr = result.stderr.trim();
        const lines = stderr.split('\n');
        const wrong =
          result.code === 0 || result.code === 13 || result.code === null
            ? `exit code ${result.code}`
            : stderr === ''
              ? 'no output'
              : /\n\s+at /.test(result.stderr)
                ? 'a stack trace'
                : stderr.includes('internal error')
                  ? 'an internal error'
                  : lines.length !== 1 || !stderr.startsWith('rxvision: ')
                    ? `${lines.length} lines`
                    : undefined;
        if (wrong) problems.push(`${kind}: rxvision ${runs[i]!.args.join(' ')} → ${wrong}: ${stderr}`);
      });
    }
    expect(problems).toEqual([]);
    expect(await snapshot(join(dir, 'matrix-out'))).toEqual(['(missing)']);
  }, 300_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
