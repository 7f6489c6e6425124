import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC } from '@uwdata/flechette';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { prepareCifar10 } from '../src/node/index.js';
import { type Fixture, makeFixture, writeTarball } from './fixtures.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await makeFixture();
  const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), [...fixture.raw.entries()]);
  await prepareCifar10({ source: tarball, dataDir: join(fixture.dir, 'out'), spec: fixture.spec });
});
afterAll(() => fixture.cleanup());

test('an independent Arrow implementation (flechette) reads the prepared files', async () => {
  for (const split of ['train', 'test'] as const) {
    const table = tableFromIPC(await readFile(join(fixture.dir, 'out', `${split}.arrow`)));
    const expected = fixture.rows[split];
    expect(table.numRows).toBe(expected.length);
    expect(table.schema.fields.map((field) => field.name)).toEqual(['image', 'label']);
    expect(JSON.parse(table.schema.metadata!.get('rxvision.classes')!)).toEqual(fixture.spec.classes);
    const images = table.getChild('image')!;
    const labels = table.getChild('label')!;
    for (const row of [0, 1, expected.length - 1]) {
      expect(labels.at(row)).toBe(expected[row]!.label);
      expect(Array.from(images.at(row) as ArrayLike<number>)).toEqual(Array.from(expected[row]!.hwc));
    }
  }
});
