import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareIdx } from '@rxvision/dataset/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeIdx } from './idx-fixture.js';
import { runCli } from './run-cli.js';

// rxvision is one job to the shell and to supervisors: the command runs in the process the shell
// started. Driven here as a person at a terminal would: an interactive bash in a pseudo-terminal
// (util-linux's `script`), Ctrl-Z typed as the byte the terminal turns into SIGTSTP for the job.
const bin = fileURLToPath(new URL('../bin/rxvision.js', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-job-control-'));
  // 4,000 grey 16×16 images of four classes, each brighter in its own quarter: a few seconds an epoch.
  const rows = 4000;
  const labels = Uint8Array.from({ length: rows }, (_, r) => r % 4);
  const pixels = Uint8Array.from({ length: rows * 256 }, (_, i) => {
    const r = Math.floor(i / 256);
    return (Math.floor((i % 256) / 64) === labels[r] ? 150 : 40) + ((r * 13 + i * 7) % 60);
  });
  await writeIdx(join(dir, 'images'), [rows, 16, 16], pixels);
  await writeIdx(join(dir, 'labels'), [rows], labels);
  await prepareIdx({
    images: join(dir, 'images'),
    labels: join(dir, 'labels'),
    classes: ['a', 'b', 'c', 'd'],
    out: join(dir, 'quarters.arrow'),
  });
  const experiment = {
    seed: 5,
    dataset: { type: 'arrow', train: 'quarters.arrow', test: 'quarters.arrow' },
    validation: 400,
    batchSize: 50,
    model: { type: 'cnn', blocks: [16, 32] },
    optimizer: { type: 'sgd', momentum: 0.9 },
    schedule: { type: 'cosine', epochs: 5, peak: 0.05 },
  };
  await writeFile(join(dir, 'quarters.json'), JSON.stringify(experiment));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

// wasm on one thread: bit for bit the same history on every run.
const trainArgs = (out: string) => ['train', '--config', join(dir, 'quarters.json'), '--backend', 'wasm', '--threads', '1', '--out', out];

/** Every process whose command line names `marker` (the run folder: no other process does). */
function processesNaming(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .some((part) => part.includes(marker));
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** State letter, process group and CPU ticks used (user + system) of a process, from /proc. */
function stat(pid: number): { state: string; group: number; ticks: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { state: fields[0]!, group: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An interactive bash in a pseudo-terminal: type into it, read its screen. */
class Terminal {
  readonly process: ChildProcess;
  screen = '';

  constructor() {
    this.process = spawn('script', ['-qfec', 'bash --norc --noprofile -i', '/dev/null'], {
      env: { ...process.env, PS1: '$ ', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stdout!.on('data', (chunk: Buffer) => (this.screen += chunk.toString()));
  }

  type(text: string): void {
    this.process.stdin!.write(text);
  }

  async waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.screen);
      if (match) return match;
      if (Date.now() > until)
        throw new Error(`no ${pattern} on the terminal within ${timeoutMs} ms; it shows:\n${this.screen.slice(-2000)}`);
      await sleep(50);
    }
  }

  close(): void {
    this.process.kill('SIGKILL');
  }
}

const withoutSeconds = (history: Array<Record<string, unknown>>) => history.map(({ seconds: _seconds, ...row }) => row);

describe.runIf(process.platform === 'linux')('rxvision is one job to the shell', () => {
  test('Ctrl-Z stops every process of the command, fg resumes it, and the history is that of an undisturbed run', async () => {
    const alone = join(dir, 'alone');
    const undisturbed = await runCli(trainArgs(alone));
    expect(undisturbed.code, undisturbed.stderr).toBe(0);

    const terminal = new Terminal();
    try {
      const out = join(dir, 'suspended');
      terminal.type(`${process.execPath} ${bin} ${trainArgs(out).join(' ')}\n`);
      await terminal.waitFor(/Epoch \[1\]/);
      terminal.type('\x1a'); // Ctrl-Z
      await terminal.waitFor(/Stopped/);
      const job = processesNaming(out);
      expect(job.length).toBeGreaterThan(0);
      const before = job.map(stat);
      await sleep(1500);
      const after = job.map(stat);
      for (const [i, pid] of job.entries()) {
        expect(after[i]!.state, `process ${pid}`).toBe('T');
        expect(after[i]!.ticks, `process ${pid} used CPU while stopped`).toBe(before[i]!.ticks);
      }
      // One process group for the whole job: what the shell stops and resumes is all of it.
      expect(new Set(after.map((s) => s.group)).size).toBe(1);

      terminal.type('fg\n');
      await terminal.waitFor(/test_loss: [\d.]+/, 300_000);
      terminal.type('echo "FG_EXIT=$?"\n');
      await terminal.waitFor(/FG_EXIT=0/);
      const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
      expect(withoutSeconds(history)).toEqual(withoutSeconds(JSON.parse(await readFile(join(alone, 'history.json'), 'utf8'))));
      expect(history).toHaveLength(5);
    } finally {
      terminal.close();
    }
  }, 600_000);

  test("SIGTERM to the job's process group checkpoints and exits 143", async () => {
    const terminal = new Terminal();
    try {
      const out = join(dir, 'terminated');
      terminal.type(`${process.execPath} ${bin} ${trainArgs(out).join(' ')}\n`);
      await terminal.waitFor(/Epoch \[1\]/);
      const [pid] = processesNaming(out);
      process.kill(-stat(pid!).group, 'SIGTERM'); // as a supervisor or `kill -- -PGID` does
      terminal.type('echo "EXIT=$?"\n');
      await terminal.waitFor(/EXIT=\d+/);
      expect(terminal.screen).toMatch(/EXIT=143/);
      expect(terminal.screen).toContain(`continue with rxvision train --resume ${out}`);
      const checkpoint = JSON.parse(await readFile(join(out, 'checkpoint', 'checkpoint.json'), 'utf8'));
      expect(checkpoint.position.epoch).toBeGreaterThanOrEqual(2);
      expect(processesNaming(out)).toEqual([]);
    } finally {
      terminal.close();
    }
  }, 600_000);

  test('SIGTERM to the npx process alone (as `timeout` and CI runners send it) reaches training: it checkpoints and stops (#34)', async () => {
    // npx runs the bin under `sh -c`, which dies of the signal npm forwards without passing it on.
    const out = join(dir, 'npx-terminated');
    const workspace = fileURLToPath(new URL('../../..', import.meta.url));
    const npx = spawn('npx', ['--no', 'rxvision', ...trainArgs(out)], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    npx.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
    npx.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
    try {
      for (const until = Date.now() + 120_000; !said.includes('Epoch [1]') && Date.now() < until;) await sleep(50);
      expect(said).toContain('Epoch [1]');
      expect(processesNaming(out).length).toBeGreaterThan(1); // npm, its shell and rxvision
      npx.kill('SIGTERM');
      for (const until = Date.now() + 60_000; processesNaming(out).length > 0 && Date.now() < until;) await sleep(100);
      expect(processesNaming(out)).toEqual([]);
      expect(said).toContain('rxvision: SIGTERM: stopping after the current step and writing a checkpoint');
      const checkpoint = JSON.parse(await readFile(join(out, 'checkpoint', 'checkpoint.json'), 'utf8'));
      expect(checkpoint.position.epoch).toBeGreaterThanOrEqual(1);
      expect(
        await readFile(join(out, 'summary.json')).then(
          () => 'finished',
          () => 'stopped',
        ),
      ).toBe('stopped');
    } finally {
      for (const pid of processesNaming(out)) process.kill(pid, 'SIGKILL');
    }
  }, 300_000);

  test('--help and dashboard run in one process', async () => {
    // --help: watched from start to exit; a relaunched child would live as long as the command.
    const help = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let children = 0;
    let output = '';
    help.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const watcher = setInterval(() => {
      try {
        children = Math.max(
          children,
          readFileSync(`/proc/${help.pid}/task/${help.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).length,
        );
      } catch {
        // exited
      }
    }, 2);
    const code = await new Promise((resolve) => help.on('close', resolve));
    clearInterval(watcher);
    expect(code).toBe(0);
    expect(output).toContain('Usage: rxvision');
    expect(children).toBe(0);

    const dashboard = spawn(process.execPath, [bin, 'dashboard', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let said = '';
      dashboard.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
      dashboard.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
      const until = Date.now() + 60_000;
      while (!/http:\/\/127\.0\.0\.1:\d+/.test(said) && Date.now() < until) await sleep(50);
      expect(said).toMatch(/http:\/\/127\.0\.0\.1:\d+/);
      expect(readFileSync(`/proc/${dashboard.pid}/task/${dashboard.pid}/children`, 'utf8').trim()).toBe('');
    } finally {
      dashboard.kill('SIGTERM');
    }
  }, 120_000);
});
