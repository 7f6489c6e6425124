import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Dashboard, type LiveEvent, startDashboard } from '../src/index.js';
import { epochRecord, readEvents, writeAtomic, writeRun } from './fixtures.js';

let dir: string;
let root: string;
let dashboard: Dashboard;
const live = new Subject<LiveEvent>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-dashboard-'));
  root = join(dir, 'runs');
  await writeRun(root, 'good', 3, { finished: true });
  await mkdir(join(root, 'broken'));
  await writeFile(join(root, 'broken', 'history.json'), '[{"epoch": 1, "trainLoss": 0.5'); // being written by another tool, or damaged
  await writeFile(join(dir, 'secret.json'), '{"epoch": 1}');
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, 'outside', 'history.json'), '[]');
  await symlink(join(dir, 'outside'), join(root, 'escape'));
  // A run whose files are links out of the runs folder (to this machine's secrets, say).
  await writeFile(join(dir, 'shadow'), 'TOP-SECRET-LINE\n');
  await writeFile(join(dir, 'leaked-summary.json'), '{"description": "TOP-SECRET-SUMMARY"}');
  await writeRun(root, 'linked', 1);
  await symlink(join(dir, 'shadow'), join(root, 'linked', 'loss.png'));
  await symlink(join(dir, 'leaked-summary.json'), join(root, 'linked', 'summary.json'));
  await writeRun(root, 'lr=0.1,momentum=0.9', 2, { finished: true }); // a name with a comma, as sweeps name things
  dashboard = await startDashboard({ runsDir: root, port: 0, live: { run: 'good', events: live, stepsPerEpoch: 10 } });
});
afterAll(async () => {
  await dashboard.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw request, so that paths reach the server exactly as written (fetch would normalise them). */
function get(path: string, method = 'GET', host?: string): Promise<{ status: number; body: string; type: string }> {
  const url = new URL(dashboard.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method, ...(host !== undefined && { headers: { host } }) },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body, type: String(response.headers['content-type']) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard server', () => {
  test('listens on 127.0.0.1 by default and serves the page and its scripts from the package', async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get('/');
    expect([page.status, page.type]).toEqual([200, 'text/html; charset=utf-8']);
    for (const script of page.body.match(/src="[^"]+"/g)!) {
      const path = script.slice(5, -1);
      expect(path.startsWith('/')).toBe(true); // nothing from the internet
      expect((await get(path)).status).toBe(200);
    }
  });

  test('lists runs with their figures, and says what is wrong with a damaged one instead of failing', async () => {
    const runs = JSON.parse((await get('/api/runs')).body) as {
      name: string;
      status: string;
      epochs: number;
      test?: { accuracy: number };
      problems: string[];
    }[];
    const byName = Object.fromEntries(runs.map((run) => [run.name, run]));
    expect(Object.keys(byName).sort()).toEqual(['broken', 'good', 'linked', 'lr=0.1,momentum=0.9']); // not the link leading outside
    expect(byName.good).toMatchObject({ status: 'finished', epochs: 3, test: { accuracy: 0.5 }, problems: [] });
    expect(byName.broken!.status).toBe('unfinished');
    expect(byName.broken!.problems).toHaveLength(1);
    expect(byName.broken!.problems[0]).toMatch(/^history\.json: not valid JSON/);
    const chart = JSON.parse((await get('/api/chart?run=good')).body) as { hconcat: { data: { values: unknown[] } }[] };
    expect(chart.hconcat[0]!.data.values).toHaveLength(6); // training and validation loss, three epochs
  });

  test.each([
    ['/api/runs/..%2F..%2Fetc%2Fpasswd', 400],
    ['/api/runs/%2Fetc%2Fpasswd', 400],
    ['/api/runs/..', 404], // the URL's own dot segments are resolved first: /api/
    ['/api/runs/escape', 400],
    ['/api/runs/escape/loss.png', 400],
    ['/api/runs/%E0%A4%A', 400],
    ['/api/chart?run=good&run=..%2Fsecret.json', 400],
    ['/api/chart?runs=good', 400], // runs are named one parameter each
    ['/api/runs/good/..%2F..%2Fsecret.json', 404],
    ['/api/runs/good/experiment.json', 404],
    ['/api/runs/missing', 404],
    ['/../secret.json', 404],
    ['/api/runs/good/a/b', 404],
  ])('GET %s answers %i in one JSON line, and the server keeps serving', async (path, status) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    expect(response.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.body).error).toMatch(/^[^\n]+$/);
    expect(response.body).not.toContain('"epoch"'); // nothing of the files outside
    expect((await get('/api/runs')).status).toBe(200);
  });

  test('serves no file of a run that is a link: a picture answers 404, a linked summary is named a problem, never read', async () => {
    const picture = await get('/api/runs/linked/loss.png');
    expect(picture.status).toBe(404);
    expect(picture.body).not.toContain('TOP-SECRET');
    const listing = await get('/api/runs');
    expect(listing.body).not.toContain('TOP-SECRET');
    const run = JSON.parse((await get('/api/runs/linked')).body) as { problems: string[]; summary?: unknown };
    expect(run.summary).toBeUndefined();
    expect(run.problems).toEqual(['summary.json: not read: summary.json is a link, which the dashboard does not follow']);
  });

  test('a run whose name holds a comma is charted by its name', async () => {
    const response = await get(`/api/chart?run=${encodeURIComponent('lr=0.1,momentum=0.9')}&run=good`);
    expect(response.status, response.body).toBe(200);
    expect(response.body).toContain('lr=0.1,momentum=0.9');
  });

  test.each(['evil.example', 'evil.example:80', ''])(
    'refuses a request naming another host (%j): a page of another site reaching it through DNS',
    async (host) => {
      const response = await get('/api/runs', 'GET', host || ' ');
      expect(response.status).toBe(403);
      expect(JSON.parse(response.body).error).toMatch(
        /^the dashboard answers requests for 127\.0\.0\.1:\d+, localhost:\d+, \[::1\]:\d+ only, not /,
      );
    },
  );

  test('answers requests for localhost and its own address', async () => {
    const port = new URL(dashboard.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`])
      expect((await get('/api/runs', 'GET', host)).status, host).toBe(200);
  });

  test('closes at once while a page still holds a connection open', async () => {
    const other = await startDashboard({ runsDir: root, port: 0 });
    expect((await fetch(new URL('/api/runs', other.url))).status).toBe(200); // fetch keeps the connection alive
    const events = await fetch(new URL('/api/events', other.url));
    await other.close(); // would wait for the browser to leave, without closing its connections
    expect(events.status).toBe(200);
  });

  test('is read-only', async () => {
    expect((await get('/api/runs', 'POST')).status).toBe(405);
    expect((await get('/api/runs/good', 'DELETE')).status).toBe(405);
  });

  test("pushes a run's new epochs as it writes them, and the steps of the run training in this process", async () => {
    const { contentType, until, cancel } = await readEvents(dashboard.url);
    expect(contentType).toBe('text/event-stream; charset=utf-8');
    await until(/retry: 1000/);
    // A new run appears: its experiment.json may be pushed before its history.json is written.
    await writeRun(root, 'fresh', 1);
    expect(JSON.parse((await until(/event: run\ndata: (\{"name":"fresh"[^\n]*"epochs":1[^\n]*\})\n\n/))[1]!).last.epoch).toBe(1);
    // Epoch after epoch, each history.json replacing the last by a rename, as runs write it.
    for (let epochs = 2; epochs <= 6; epochs++) {
      await writeAtomic(
        join(root, 'fresh', 'history.json'),
        Array.from({ length: epochs }, (_, i) => epochRecord(i + 1)),
      );
      const pushed = await until(new RegExp(`event: run\\ndata: (\\{"name":"fresh"[^\\n]*"epochs":${epochs}[^\\n]*\\})\\n\\n`));
      expect(JSON.parse(pushed[1]!).last.epoch).toBe(epochs);
    }
    live.next({ type: 'batch', epoch: 2, step: 7, loss: 0.25 });
    expect(JSON.parse((await until(/event: step\ndata: (.*)\n\n/))[1]!)).toEqual({
      run: 'good',
      epoch: 2,
      step: 7,
      stepsPerEpoch: 10,
      loss: 0.25,
    });
    await cancel();
  });
});

describe('a sweep folder in the runs folder', () => {
  let sweepRoot: string;
  let sweeps: Dashboard;
  beforeAll(async () => {
    sweepRoot = join(dir, 'with-sweeps');
    await writeRun(sweepRoot, 'alone', 2, { finished: true });
    await mkdir(join(sweepRoot, 'alone', 'checkpoint'));
    await writeAtomic(join(sweepRoot, 'alone', 'checkpoint', 'experiment.json'), {});
    await mkdir(join(sweepRoot, 'lr', 'trials'), { recursive: true });
    await writeAtomic(join(sweepRoot, 'lr', 'sweep.json'), { source: 'lr.json', trials: [], states: {} });
    await writeAtomic(join(sweepRoot, 'lr', 'trials', 'trial-000.json'), {});
    await writeRun(sweepRoot, 'lr/trial-000', 2, { finished: true });
    await writeRun(sweepRoot, 'lr/trial-001', 3, { seed: 2 });
    sweeps = await startDashboard({ runsDir: sweepRoot, port: 0 });
  });
  afterAll(() => sweeps?.close());

  test('its trials are runs named SWEEP/TRIAL, pushed live as they write; other folders have no runs inside', async () => {
    const runs = (await (await fetch(new URL('/api/runs', sweeps.url))).json()) as { name: string; sweep?: string; epochs: number }[];
    expect(runs.map(({ name, sweep, epochs }) => ({ name, sweep, epochs })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'alone', sweep: undefined, epochs: 2 },
      { name: 'lr/trial-000', sweep: 'lr', epochs: 2 },
      { name: 'lr/trial-001', sweep: 'lr', epochs: 3 },
    ]);
    const trial = await fetch(new URL('/api/runs/lr%2Ftrial-001', sweeps.url));
    expect([trial.status, ((await trial.json()) as { history: unknown[] }).history.length]).toEqual([200, 3]);
    expect((await fetch(new URL('/api/chart?run=lr/trial-000&run=lr/trial-001', sweeps.url))).status).toBe(200);
    expect((await fetch(new URL('/api/runs/alone%2Fcheckpoint', sweeps.url))).status).toBe(404); // not a sweep
    expect((await fetch(new URL('/api/runs/lr%2Ftrials%2Fx', sweeps.url))).status).toBe(400);
    expect((await fetch(new URL('/api/runs/lr%2F..%2F..%2Fsecret.json', sweeps.url))).status).toBe(400);
    expect((await fetch(new URL('/api/runs/lr%2Fsweep.json', sweeps.url))).status).toBe(404); // a file is no run

    const { until, cancel } = await readEvents(sweeps.url);
    await until(/retry: 1000/);
    await writeRun(sweepRoot, 'lr/trial-002', 1); // a trial starts
    expect(JSON.parse((await until(/event: run\ndata: (\{"name":"lr\/trial-002".*\})\n\n/))[1]!)).toMatchObject({ sweep: 'lr', epochs: 1 });
    await writeAtomic(
      join(sweepRoot, 'lr', 'trial-001', 'history.json'),
      Array.from({ length: 4 }, (_, i) => epochRecord(i + 1, 2)),
    );
    expect(JSON.parse((await until(/event: run\ndata: (\{"name":"lr\/trial-001"[^\n]*"epochs":4[^\n]*\})\n\n/))[1]!).last.epoch).toBe(4);
    await cancel();
  });
});
