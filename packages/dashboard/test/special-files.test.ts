import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Dashboard, startDashboard } from '../src/index.js';
import { epochRecord, writeAtomic, writeRun } from './fixtures.js';

// What a runs folder may hold besides runs (#34): FIFOs and huge files where a run's files or data
// belong, and folders named with leading dots. Each is answered at once, in one line, and the
// dashboard goes on answering everything else.
let dir: string;
let root: string;
let dashboard: Dashboard;
const GB = 2 ** 30;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-dashboard-special-'));
  root = join(dir, 'runs');
  const fifo = join(dir, 'train.arrow');
  execFileSync('mkfifo', [fifo]);
  await writeRun(root, 'piped', 2);
  await writeAtomic(join(root, 'piped', 'experiment.json'), {
    dataset: { type: 'arrow', train: fifo },
    model: { type: 'mlp', hidden: [8] },
  });
  // Sparse: 3 GB to stat, nothing on the disk.
  await writeRun(root, 'huge-history', 2);
  await truncate(join(root, 'huge-history', 'history.json'), 3 * GB);
  await writeRun(root, 'huge-lock', 2);
  await writeFile(join(root, 'huge-lock', 'writer.lock'), '');
  await truncate(join(root, 'huge-lock', 'writer.lock'), 3 * GB);
  await writeRun(root, '..foo', 1);
  // A large, real Arrow file, for a page that leaves halfway.
  const data = join(dir, 'big.arrow');
  await writeFile(data, Buffer.concat([Buffer.from('ARROW1'), Buffer.alloc(64 << 20)]));
  await writeRun(root, 'big-data', 1);
  await writeAtomic(join(root, 'big-data', 'experiment.json'), {
    dataset: { type: 'arrow', train: data },
    model: { type: 'mlp', hidden: [8] },
  });
  await mkdir(join(root, 'empty'));
  // Edited by hand: a figure no run records, and one that is no figure.
  await writeRun(root, 'steered', 3);
  await writeFile(
    join(root, 'steered', 'history.json'),
    JSON.stringify([epochRecord(1), { ...epochRecord(2), valAccuracy: 7 }, epochRecord(3)]).replace(
      '"valAccuracy":7',
      '"valAccuracy":1e308',
    ),
  );
  await writeRun(root, 'nulled', 2);
  await writeAtomic(join(root, 'nulled', 'history.json'), [epochRecord(1), { ...epochRecord(2), valAccuracy: null }]);
  dashboard = await startDashboard({ runsDir: root, port: 0 });
});
afterAll(async () => {
  await dashboard.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(path, dashboard.url));
  return { status: response.status, body: await response.text() };
}

describe('special files in a runs folder', () => {
  test("a FIFO named as a run's data is one line, at once, however many ask; the dashboard goes on answering", async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => get('/api/runs/piped/data/train.arrow')));
    for (const answer of answers)
      expect([answer.status, JSON.parse(answer.body)]).toEqual([422, { error: `${join(dir, 'train.arrow')}: a FIFO, not a file to read` }]);
    expect((await get('/api/runs')).status).toBe(200);
  });

  test('a 3 GB history or claim file is named a problem of its run, never read whole; the list answers', async () => {
    const runs = JSON.parse((await get('/api/runs')).body) as { name: string; problems: string[]; status: string }[];
    const byName = new Map(runs.map((run) => [run.name, run]));
    expect(byName.get('huge-history')?.problems).toEqual([
      'history.json: not read: history.json holds 3,072 MB, more than the 64 MB the dashboard reads of a run file',
    ]);
    expect(byName.get('huge-lock')).toMatchObject({ status: 'unfinished', problems: [] }); // no claim: nobody writes it
    expect((await get('/api/runs/huge-history')).status).toBe(200);
    expect((await get('/api/runs/huge-lock')).status).toBe(200);
  });

  test('a history with a figure out of range is named damaged, with its epoch, and not charted; a null figure is a gap', async () => {
    const runs = JSON.parse((await get('/api/runs')).body) as { name: string; problems: string[]; epochs: number }[];
    const byName = new Map(runs.map((run) => [run.name, run]));
    expect(byName.get('steered')).toMatchObject({ epochs: 0, problems: ['history.json: epoch 2: valAccuracy 1e+308 is outside [0, 1]'] });
    // null is a figure not measured (NaN, as JSON writes it): shown as a gap, and no reason to fail.
    expect(byName.get('nulled')).toMatchObject({ epochs: 2, problems: [] });
    for (const run of ['steered', 'nulled']) expect((await get(`/api/chart?run=${run}`)).status).toBe(200);
  });

  test("a run's top-losses.json is served only as the page shows it: a damaged one, or one whose image is no PNG data URL, is one line", async () => {
    const entry = {
      row: 3,
      label: 'cat',
      predicted: 'dog',
      probability: 0.8,
      trueProbability: 0.1,
      loss: 2.3,
      image: 'data:image/png;base64,iVBORw0KGgo=',
    };
    await writeRun(root, 'looked-at', 1, { finished: true });
    const file = join(root, 'looked-at', 'top-losses.json');
    expect(await get('/api/runs/looked-at/top-losses.json')).toMatchObject({ status: 404 });
    await writeAtomic(file, [entry]);
    expect(JSON.parse((await get('/api/runs/looked-at/top-losses.json')).body)).toEqual([entry]);
    for (const [damage, line] of [
      [[{ ...entry, image: 'javascript:alert(1)' }], "entry 1's image must be a PNG data URL"],
      [[entry, { ...entry, probability: 7 }], "entry 2's probabilities must be in [0, 1]"],
      [{ entries: [] }, 'expected a list'],
    ] as const) {
      await writeAtomic(file, damage);
      const answer = await get('/api/runs/looked-at/top-losses.json');
      expect([answer.status, JSON.parse(answer.body)]).toEqual([422, { error: `looked-at/top-losses.json: ${line}` }]);
    }
    await writeFile(file, '[{"row": 3,');
    expect((await get('/api/runs/looked-at/top-losses.json')).body).toMatch(/^\{"error":"looked-at\/top-losses.json: not valid JSON/);
  });

  test('a run named ..foo is listed as it is served', async () => {
    const runs = JSON.parse((await get('/api/runs')).body) as { name: string }[];
    expect(runs.map((run) => run.name)).toContain('..foo');
    expect(runs.map((run) => run.name)).not.toContain('empty');
    expect((await get('/api/runs/..foo')).status).toBe(200);
  });

  test("a page that leaves halfway through a run's data leaves no file open", async () => {
    const open = async () => (await readdir('/proc/self/fd')).length;
    const before = await open();
    const url = new URL('/api/runs/big-data/data/train.arrow', dashboard.url);
    await new Promise<void>((resolve, reject) => {
      const req = request(url, (response) => {
        expect(response.statusCode).toBe(200);
        response.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
    for (let i = 0; i < 100 && (await open()) > before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await open()).toBe(before);
  });
});
