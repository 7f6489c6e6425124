// Where a whole run's wall time goes (issue #37, item 3): an experiment run as `rxvision train`
// runs it (runExperiment into a run folder), every event timed, the time split into what happens
// before the first step, the steps, what happens between an epoch's last step and its record
// (validation, with its test-time augmentation, and the checkpoint), between a record and the next
// epoch's first step (the history file, the epoch's first batch), and after the last epoch (test evaluation, charts, model, ONNX); with the
// garbage collector's pauses, which fall inside the others.
// Usage: node tools/benchmarks/run-breakdown.js [--config experiments/cifar10-fast.json] [--epochs 2]
//   [--backend auto] [--threads 2] [--out /tmp/rxvision-breakdown]
// Needs CIFAR-10 (RXVISION_CIFAR10_SOURCE, as the CLI). Never asserted in tests.
import { readFile, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { selectBackend } from '@rxvision/backend/node';
import { parseExperimentText, runExperiment } from '@rxvision/experiment';
import { lastValueFrom, tap } from 'rxjs';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'experiments/cifar10-fast.json' },
    epochs: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string', default: '/tmp/rxvision-breakdown' },
  },
});
const path = resolve(values.config);
const parsed = parseExperimentText(await readFile(path, 'utf8'), path);
if (Array.isArray(parsed.schedule)) throw new Error(`${path}: --epochs cuts a schedule of one shape (triangle, oneCycle, …), not phases`);
// The schedule cut to --epochs: its steps cost what they cost in the full run.
const experiment = { ...parsed, schedule: { ...parsed.schedule, epochs: Number(values.epochs) } };
await rm(values.out, { recursive: true, force: true });

let gcMs = 0;
new PerformanceObserver((list) => list.getEntries().forEach((entry) => (gcMs += entry.duration))).observe({ entryTypes: ['gc'] });

const started = performance.now();
const at = () => (performance.now() - started) / 1000;
const marks = { start: 0, finish: 0 };
/** Per epoch: when its first and last step ended, how many steps, when its record came. */
const epochs = [];
let current;
const backend = (probe) =>
  selectBackend(values.backend, { probe, threads: Number(values.threads) }).then((report) => (console.log(report.summary), report));
await lastValueFrom(
  runExperiment(experiment, { folder: values.out, baseDir: dirname(path), source: path, backend }).pipe(
    tap((event) => {
      const now = at();
      if (event.type === 'start') marks.start = now;
      if (event.type === 'batch') {
        if (!current || current.epoch !== event.epoch) epochs.push((current = { epoch: event.epoch, first: now, steps: 0, times: [] }));
        current.times.push(now);
        current.last = now;
        current.steps++;
      }
      if (event.type === 'epoch') current.record = now;
      if (event.type === 'end') marks.end = now;
      if (event.type === 'finish') marks.finish = now;
    }),
  ),
);
const total = at();

// A step's time: the median gap between steps (the first step of an epoch also pays its start).
const gaps = epochs.flatMap((e) => e.times.slice(1).map((t, i) => t - e.times[i]));
const step = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
const steps = epochs.reduce((sum, e) => sum + (e.last - e.first) + step, 0);
const validation = epochs.reduce((sum, e) => sum + (e.record - e.last), 0);
// From the start event (or an epoch's record) to the epoch's first step, less that step.
const between = epochs.reduce((sum, e, i) => sum + (e.first - (i === 0 ? marks.start : epochs[i - 1].record) - step), 0);
const rows = [
  ['before the first step (data, whitening, backend and its probe, model)', marks.start],
  [`steps (${epochs.reduce((n, e) => n + e.steps, 0)}, median ${(step * 1000).toFixed(0)} ms)`, steps],
  ["validation and checkpoint (an epoch's last step to its record)", validation],
  ['a record to the next first step, less a step (history file, first batch)', between],
  ['after the last epoch (test evaluation, charts, model, ONNX, summary)', marks.finish - marks.end],
];
const accounted = rows.reduce((sum, [, seconds]) => sum + seconds, 0);
rows.push(['unaccounted', total - accounted]);
console.log(`${path}, ${values.epochs} epochs, ${total.toFixed(1)} s in all (in this process, from composing to the summary)`);
for (const [what, seconds] of rows)
  console.log(`${seconds.toFixed(1).padStart(8)} s ${((100 * seconds) / total).toFixed(1).padStart(5)}%  ${what}`);
console.log(`garbage collection: ${(gcMs / 1000).toFixed(1)} s of pauses, inside the above`);
