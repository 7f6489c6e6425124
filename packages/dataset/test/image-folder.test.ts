import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openImageDataset, prepareImageFolder } from '../src/node/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-folder-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A solid-colour image file of the given format and size. */
async function image(
  path: string,
  format: 'png' | 'jpeg' | 'webp',
  [width, height]: [number, number],
  rgb: [number, number, number],
): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let p = 0; p < width * height; p++) raw.set(rgb, p * 3);
  const encoded = sharp(raw, { raw: { width, height, channels: 3 } });
  await writeFile(
    path,
    await (
      format === 'png' ? encoded.png() : format === 'jpeg' ? encoded.jpeg({ quality: 100 }) : encoded.webp({ lossless: true })
    ).toBuffer(),
  );
}

/** cats/ (PNG, JPEG) and dogs/ (WebP, PNG) at 6×4, plus a text file that is no image. */
async function folder(
  name: string,
  sizes: [number, number][] = [
    [6, 4],
    [6, 4],
    [6, 4],
    [6, 4],
  ],
): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'dogs'), { recursive: true });
  await mkdir(join(root, 'cats'), { recursive: true });
  await image(join(root, 'cats', 'a.png'), 'png', sizes[0]!, [250, 0, 0]);
  await image(join(root, 'cats', 'b.JPG'), 'jpeg', sizes[1]!, [0, 250, 0]);
  await image(join(root, 'dogs', 'c.webp'), 'webp', sizes[2]!, [0, 0, 250]);
  await image(join(root, 'dogs', 'd.png'), 'png', sizes[3]!, [10, 20, 30]);
  await writeFile(join(root, 'dogs', 'notes.txt'), 'not an image');
  return root;
}

describe('prepareImageFolder', () => {
  test('classes from the sub-folders, PNG, JPEG and WebP decoded to HWC in name order; a second run is a no-op', async () => {
    const source = await folder('plain');
    const out = join(dir, 'data', 'plain.arrow');
    const progress: number[] = [];
    const result = await prepareImageFolder({ source, out, onProgress: ({ images }) => progress.push(images) });
    expect(result).toMatchObject({ rows: 4, classes: ['cats', 'dogs'], shape: [4, 6, 3], skipped: false });
    expect(progress).toEqual([1, 2, 3, 4]);
    const dataset = await openImageDataset(out);
    expect([0, 1, 2, 3].map((row) => dataset.label(row))).toEqual([0, 0, 1, 1]);
    expect(Array.from(dataset.image(0).subarray(0, 3))).toEqual([250, 0, 0]);
    expect(Array.from(dataset.image(2).subarray(0, 3))).toEqual([0, 0, 250]);
    expect(Array.from(dataset.image(3).subarray(0, 3))).toEqual([10, 20, 30]);
    expect(Math.abs(dataset.image(1)[1]! - 250)).toBeLessThan(4); // JPEG, nearly exact at quality 100
    expect((await prepareImageFolder({ source, out })).skipped).toBe(true);
  });

  test('a size resizes every image; one channel makes them grey', async () => {
    const source = await folder('mixed-resized', [
      [6, 4],
      [8, 8],
      [3, 3],
      [6, 4],
    ]);
    const result = await prepareImageFolder({ source, out: join(dir, 'data', 'grey.arrow'), size: [5, 7], channels: 1 });
    expect(result.shape).toEqual([5, 7, 1]);
    const dataset = await openImageDataset(join(dir, 'data', 'grey.arrow'));
    expect(dataset.image(0).length).toBe(35);
  });

  test.each([
    [
      'a folder of mixed sizes',
      async () =>
        folder('mixed', [
          [6, 4],
          [6, 4],
          [5, 4],
          [6, 4],
        ]),
      (root: string) =>
        `${join(root, 'dogs', 'c.webp')}: is 5×4 pixels, the first image (${join(root, 'cats', 'a.png')}) 6×4: give a size to resize them all`,
    ],
    [
      'a corrupt image',
      async () => {
        const root = await folder('corrupt');
        await writeFile(join(root, 'dogs', 'd.png'), Buffer.from('\x89PNG\r\n\x1a\n not really'));
        return root;
      },
      (root: string) => `${join(root, 'dogs', 'd.png')}: is not a readable PNG, JPEG or WebP image (`,
    ],
    [
      'no class folders',
      async () => {
        await mkdir(join(dir, 'flat'), { recursive: true });
        await image(join(dir, 'flat', 'x.png'), 'png', [2, 2], [1, 2, 3]);
        return join(dir, 'flat');
      },
      (root: string) => `${root}: holds no class folders (expected one sub-folder of images per class)`,
    ],
  ])('%s fails in one line naming the file, and leaves nothing behind', async (_name, make, message) => {
    const root = await make();
    const outDir = join(dir, `out-${_name.replace(/\W+/g, '-')}`);
    await expect(prepareImageFolder({ source: root, out: join(outDir, 'x.arrow') })).rejects.toThrow(message(root));
    await expect(readdir(outDir)).rejects.toThrow('ENOENT'); // not even the folder it would have made
  });

  test('the output may not go inside the image folder', async () => {
    const source = await folder('inside');
    await expect(prepareImageFolder({ source, out: join(source, 'cats', 'x.arrow') })).rejects.toThrow(
      `${join(source, 'cats', 'x.arrow')}: is inside the image folder ${source}; write it somewhere else`,
    );
  });

  describe('with a labels CSV (multi-label)', () => {
    /** The fixture folder and a CSV over it: a header, quoted and unquoted fields, a blank line, CRLF. */
    async function labeled(name: string, rows: string[]): Promise<{ source: string; labels: string }> {
      const source = await folder(name);
      const labels = join(dir, `${name}.csv`);
      await writeFile(labels, ['image,tags', ...rows].join('\r\n'));
      return { source, labels };
    }

    test("the CSV's images in its order, each with every class it names; classes sorted; a second run is a no-op", async () => {
      const { source, labels } = await labeled('tags', ['dogs/d.png,sky dog', '"cats/a.png","cat  grass"', '', 'cats/b.JPG,grass']);
      const out = join(dir, 'data', 'tags.arrow');
      const result = await prepareImageFolder({ source, out, labels });
      expect(result).toMatchObject({ rows: 3, classes: ['cat', 'dog', 'grass', 'sky'], skipped: false });
      const dataset = await openImageDataset(out);
      expect([0, 1, 2].map((row) => Array.from(dataset.labelSet!(row)))).toEqual([[1, 3], [0, 2], [2]]);
      expect(Array.from(dataset.image(0).subarray(0, 3))).toEqual([10, 20, 30]);
      expect((await prepareImageFolder({ source, out, labels })).skipped).toBe(true);
      await writeFile(labels, 'image,tags\ndogs/d.png,sky\n');
      await expect(prepareImageFolder({ source, out, labels })).rejects.toThrow(/exists and is not this folder's images/);
    });

    test.each([
      ['no comma', ['cats/a.png sky'], 'line 2 is not file,labels'],
      ['no labels', ['cats/a.png,sky', 'cats/b.JPG, '], 'line 3 gives cats/b.JPG no labels; every image needs at least one'],
      ['a missing image', ['cats/a.png,sky', 'cats/zz.png,sky'], 'line 3: cats/zz.png does not exist'],
      ['an image listed twice', ['cats/a.png,sky', './cats/a.png,dog'], 'line 3 lists ./cats/a.png a second time'],
      ['a file outside the folder', ['../x.png,sky'], 'line 2 names "../x.png", not a PNG, JPEG or WebP file inside'],
      ['a file that is no image', ['dogs/notes.txt,sky'], 'line 2 names "dogs/notes.txt", not a PNG, JPEG or WebP file inside'],
      ['a FIFO', ['cats/fifo.png,sky'], 'line 2: cats/fifo.png is not a file'],
      ['only a header', [], 'lists no images (expected a header line, then file,labels lines)'],
    ])('%s is one line naming the CSV and its line, and nothing is written', async (name, rows, message) => {
      const { source, labels } = await labeled(`bad-${name.replace(/\W+/g, '-')}`, rows);
      execFileSync('mkfifo', [join(source, 'cats', 'fifo.png')]);
      const outDir = join(dir, `out-labels-${name.replace(/\W+/g, '-')}`);
      await expect(prepareImageFolder({ source, out: join(outDir, 'x.arrow'), labels })).rejects.toThrow(`${labels}: ${message}`);
      await expect(readdir(outDir)).rejects.toThrow('ENOENT');
    });

    test('a labels file that is missing or a FIFO is one line', async () => {
      const source = await folder('fifo-csv');
      const fifo = join(dir, 'labels.fifo');
      execFileSync('mkfifo', [fifo]);
      await expect(prepareImageFolder({ source, out: join(dir, 'n.arrow'), labels: fifo })).rejects.toThrow(`${fifo}: is not a file`);
      const missing = join(dir, 'missing.csv');
      await expect(prepareImageFolder({ source, out: join(dir, 'n.arrow'), labels: missing })).rejects.toThrow(
        `${missing}: does not exist`,
      );
    });
  });
});
