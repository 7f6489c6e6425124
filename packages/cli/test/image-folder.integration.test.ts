import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
let photos: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-image-folder-'));
  photos = join(dir, 'photos');
  // photos/{train,test}/{sky,grass}/*.png|jpg at 12×10: blue-ish and green-ish pictures.
  for (const [split, count] of [
    ['train', 40],
    ['test', 10],
  ] as const) {
    for (const [name, rgb] of [
      ['sky', [40, 90, 220]],
      ['grass', [50, 190, 40]],
    ] as const) {
      await mkdir(join(photos, split, name), { recursive: true });
      for (let i = 0; i < count / 2; i++) {
        const raw = Buffer.from(Array.from({ length: 12 * 10 }, (_, p) => rgb.map((v) => (v + ((p * 13 + i * 29) % 40)) & 0xff)).flat());
        const image = sharp(raw, { raw: { width: 12, height: 10, channels: 3 } });
        await writeFile(join(photos, split, name, `${i}.${i % 2 ? 'png' : 'jpg'}`), await (i % 2 ? image.png() : image.jpeg()).toBuffer());
      }
    }
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('an image folder through the CLI', () => {
  test('prepare writes train.arrow and test.arrow into --data; explore and train --config then use them', async () => {
    const data = join(dir, 'data');
    const prepared = await runCli(['prepare', '--dataset', 'image-folder', '--source', photos, '--data', data, '--size', '8x8']);
    expect(prepared.code, prepared.stderr).toBe(0);
    expect(prepared.stdout.trim().split('\n')).toEqual([
      `prepared: ${join(data, 'train.arrow')} (40 images, 8×8×3, classes grass, sky)`,
      `prepared: ${join(data, 'test.arrow')} (10 images, 8×8×3, classes grass, sky)`,
    ]);
    expect((await readdir(photos)).sort()).toEqual(['test', 'train']); // nothing written into the source

    const explored = await runCli(['explore', '--data', data, '--out', join(dir, 'explore'), '--json']);
    expect(explored.code, explored.stderr).toBe(0);
    expect(JSON.parse(explored.stdout)).toMatchObject({ datasetSize: 40, testSize: 10, classes: ['grass', 'sky'], imageShape: [8, 8, 3] });

    await writeFile(
      join(dir, 'photos.json'),
      JSON.stringify({
        dataset: { type: 'arrow', train: 'data/train.arrow', test: 'data/test.arrow' },
        validation: 8,
        batchSize: 8,
        model: { type: 'cnn', blocks: [4] },
        schedule: [{ epochs: 2, learningRate: 0.05 }],
      }),
    );
    const trained = await runCli(['train', '--config', join(dir, 'photos.json'), '--backend', 'wasm', '--out', join(dir, 'run'), '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(dir, 'run', 'summary.json'), 'utf8'));
    expect(summary.split).toEqual({ train: 32, validation: 8, test: 10 });
  }, 300_000);

  test.each([64, 112])(
    "the reliability issue's crash case trains to the end on onednn: ResNet 8-16-32 on %i px photos, batch 16, AdamW, one-cycle (#34)",
    async (size) => {
      // It died in malloc (exit 134 or 139) with oneDNN 2.6.3's strided 1×1 filter gradient writing past its scratchpad.
      const data = join(dir, `data-${size}`);
      expect(
        (await runCli(['prepare', '--dataset', 'image-folder', '--source', photos, '--data', data, '--size', `${size}x${size}`])).code,
      ).toBe(0);
      const config = join(dir, `resnet-${size}.json`);
      const experiment = {
        dataset: { type: 'arrow', train: `data-${size}/train.arrow`, test: `data-${size}/test.arrow` },
        validation: 8,
        batchSize: 16,
        model: { type: 'resnet', stages: [8, 16, 32], blocksPerStage: 1 },
        optimizer: { type: 'adamw', weightDecay: 0.01 },
        schedule: { type: 'oneCycle', epochs: 2, peak: 0.003 },
      };
      await writeFile(config, JSON.stringify(experiment));
      const trained = await runCli([
        'train',
        '--config',
        config,
        '--backend',
        'onednn',
        '--threads',
        '2',
        '--out',
        join(dir, `resnet-${size}`),
      ]);
      expect([
        trained.code,
        trained.stderr
          .split('\n')
          .filter((line) => !line.startsWith('backend '))
          .join('\n')
          .trim(),
      ]).toEqual([0, '']);
      expect(JSON.parse(await readFile(join(dir, `resnet-${size}`, 'history.json'), 'utf8'))).toHaveLength(2);
    },
  );

  test('a corrupt image fails in one line naming it, and --data is not even created', async () => {
    const broken = join(dir, 'broken');
    await mkdir(join(broken, 'a'), { recursive: true });
    await mkdir(join(broken, 'b'), { recursive: true });
    await writeFile(
      join(broken, 'a', '1.png'),
      await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } })
        .png()
        .toBuffer(),
    );
    await writeFile(join(broken, 'b', '2.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const data = join(dir, 'never');
    const result = await runCli(['prepare', '--dataset', 'image-folder', '--source', broken, '--data', data]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`rxvision: ${join(broken, 'b', '2.jpg')}: is not a readable PNG, JPEG or WebP image (`);
    await expect(readdir(data)).rejects.toThrow('ENOENT');
  });

  test.each([
    [['--dataset', 'imagenet'], '--dataset must be one of cifar10, cifar100, fashion-mnist, image-folder, parquet, got "imagenet"'],
    [['--dataset', 'cifar100', '--labels', 'medium'], '--labels must be fine or coarse, got "medium"'],
    [['--labels', 'coarse'], '--labels applies to --dataset cifar100 only'],
    [['--dataset', 'image-folder'], '--dataset image-folder needs --source: a folder of class folders, or one holding train/ (and test/)'],
    [
      ['--dataset', 'image-folder', '--source', '.', '--size', '8'],
      '--size must be HEIGHTxWIDTH in pixels (1 to 4096), like 64x64, got "8"',
    ],
    [['--size', '8x8'], '--size and --grey apply to --dataset image-folder and parquet only'],
  ])('prepare %j fails in one line', async (args, line) => {
    const result = await runCli(['prepare', ...args]);
    expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: ${line}`]);
  });
});
