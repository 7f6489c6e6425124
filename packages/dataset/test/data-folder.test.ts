import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DATA_SPLITS, DataFolder } from '../src/node/index.js';

test('a data folder names its splits once and says which are prepared', async () => {
  const folder = new DataFolder(await mkdtemp(join(tmpdir(), 'rxvision-data-folder-')));
  expect(DATA_SPLITS.map(DataFolder.fileName)).toEqual(['train.arrow', 'test.arrow']);
  expect([DataFolder.splitNamed('test.arrow'), DataFolder.splitNamed('test.json'), DataFolder.splitNamed('../train.arrow')]).toEqual([
    'test',
    undefined,
    undefined,
  ]);
  expect([await folder.preparedSplits(), await folder.isPrepared()]).toEqual([[], false]);
  await writeFile(folder.splitFile('test'), '');
  expect([await folder.preparedSplits(), await folder.isPrepared()]).toEqual([['test'], false]);
  await writeFile(folder.splitFile('train'), '');
  expect([await folder.preparedSplits(), await folder.isPrepared()]).toEqual([['train', 'test'], true]);
  expect(folder.splitFile('train')).toBe(join(folder.path, 'train.arrow'));
});
