// The dashboard page: plain browser JavaScript, no build step, nothing loaded from the internet.
// Charts are @rxvision/plot's Vega-Lite specs, served by /api/chart and drawn with vega as SVG.
/* global vega, vegaLite */
'use strict';

const state = {
  runs: new Map(),
  compared: new Set(),
  selected: undefined,
  view: undefined,
  parallel: undefined,
  parallelDrawing: 0,
  sort: { column: undefined, descending: true },
};
const $ = (id) => document.getElementById(id);
const percent = (value) => (typeof value === 'number' ? `${(100 * value).toFixed(2)}%` : '');

async function getJson(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `${path}: ${response.status}`);
  return body;
}

function renderRuns() {
  const body = $('runs').tBodies[0];
  body.replaceChildren();
  $('no-runs').hidden = state.runs.size > 0;
  const drawn = new Set();
  for (const run of state.runs.values()) {
    if (!run.sweep) {
      renderRun(body, run, run.name);
      continue;
    }
    // A sweep's trials as one group, where its most recent trial would be, in trial order.
    if (drawn.has(run.sweep)) continue;
    drawn.add(run.sweep);
    const trials = [...state.runs.values()].filter((other) => other.sweep === run.sweep).sort((a, b) => a.name.localeCompare(b.name));
    renderSweep(body, run.sweep, trials);
    for (const trial of trials) renderRun(body, trial, trial.name.slice(run.sweep.length + 1)).classList.add('trial');
  }
}

function renderSweep(body, sweep, trials) {
  const row = body.insertRow();
  row.className = 'sweep';
  const tick = document.createElement('input');
  tick.type = 'checkbox';
  tick.checked = trials.every((trial) => state.compared.has(trial.name));
  tick.setAttribute('aria-label', `compare sweep ${sweep}`);
  tick.addEventListener('click', () => {
    for (const trial of trials) {
      if (tick.checked) state.compared.add(trial.name);
      else state.compared.delete(trial.name);
    }
    renderRuns();
    void drawChart();
  });
  row.insertCell().append(tick);
  const title = row.insertCell();
  title.colSpan = 5;
  const finished = trials.filter((trial) => trial.status === 'finished').length;
  const stopped = trials.filter((trial) => trial.ended === 'scheduler').length;
  const epochs = trials.reduce((sum, trial) => sum + trial.epochs, 0);
  title.textContent = `sweep ${sweep}: ${trials.length} trials, ${finished} finished${stopped > 0 ? ` (${stopped} stopped early by its scheduler)` : ''}, ${epochs} epochs trained`;
}

function renderRun(body, run, label) {
  const row = body.insertRow();
  row.dataset.run = run.name;
  row.className = run.name === state.selected ? 'selected' : '';
  const tick = document.createElement('input');
  tick.type = 'checkbox';
  tick.checked = state.compared.has(run.name);
  tick.setAttribute('aria-label', `compare ${run.name}`);
  tick.addEventListener('click', (event) => {
    event.stopPropagation();
    if (tick.checked) state.compared.add(run.name);
    else state.compared.delete(run.name);
    void drawChart();
  });
  row.insertCell().append(tick);
  const name = row.insertCell();
  name.textContent = label;
  if (run.description) name.title = run.description;
  const status = row.insertCell();
  const shown = describeStatus(run);
  status.textContent = run.problems.length > 0 ? `${shown} (damaged files)` : shown;
  if (run.failure) status.title = run.failure;
  status.className = `status-${run.status}`;
  row.insertCell().textContent = String(run.epochs);
  row.insertCell().textContent = percent(run.last?.valAccuracy);
  row.insertCell().textContent = percent(run.test?.accuracy);
  row.addEventListener('click', () => select(run.name));
  return row;
}

/** A run's state in a few words: running with where it is and the time left, stopped, failed, finished. */
function describeStatus(run) {
  if (run.status === 'running' && run.progress) {
    const p = run.progress;
    return `running: epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.stepsPerEpoch}, ${Math.round(p.samplesPerSecond)} samples/s, ${duration(p.secondsLeft)} left`;
  }
  if (run.status === 'stopped') return 'stopped (resumable)';
  if (run.status === 'failed') return `failed: ${run.failure}`;
  if (run.ended === 'scheduler') return `stopped early at epoch ${run.epochs}`;
  if (run.ended) return `finished (${run.ended})`;
  return run.status;
}

function duration(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function drawChart() {
  const names = [...state.compared].filter((name) => state.runs.has(name));
  state.view?.finalize();
  state.view = undefined;
  const chart = $('chart');
  if (names.length === 0) {
    chart.textContent = 'Tick runs to draw their curves.';
    return;
  }
  fillMetrics(names);
  const metric = $('metric').value;
  const query = [
    ...names.map((name) => `run=${encodeURIComponent(name)}`),
    ...(metric ? [`metric=${encodeURIComponent(metric)}`] : []),
    ...(metric && $('log').checked ? ['log=1'] : []),
    ...(metric ? [`smooth=${Number($('smooth').value) || 1}`] : []),
  ].join('&');
  const spec = await getJson(`/api/chart?${query}`);
  await render(spec);
  // Drawn at the spec's widths first; where that is wider than the panel, the plots are narrowed
  // by the excess (axes and legend keep their size), so nothing is cut off from 1,280 px up.
  const excess = chart.querySelector('svg').getBoundingClientRect().width - chart.clientWidth;
  if (excess > 0) await render(narrowed(spec, excess));
  chart.dataset.runs = names.join(',');
  await renderSettings(names);
}

async function render(spec) {
  state.view?.finalize();
  const chart = $('chart');
  chart.replaceChildren();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'svg', container: chart, hover: true });
  state.view = view;
  await view.runAsync();
}

/** The spec with its plots' widths cut by `excess` pixels in all, in proportion, down to 40% at most. */
function narrowed(spec, excess) {
  const plots = spec.hconcat ?? [spec];
  const total = plots.reduce((sum, plot) => sum + (plot.width ?? 0), 0);
  const scale = Math.max(0.4, (total - excess) / total);
  const narrow = (plot) => ({ ...plot, width: Math.floor(plot.width * scale) });
  return spec.hconcat ? { ...spec, hconcat: spec.hconcat.map(narrow) } : narrow(spec);
}

/** The ticked runs' settings that differ, beside the chosen figure and test accuracy: sortable by any column, filterable. */
async function renderSettings(names) {
  const box = $('compare');
  if (names.length < 2) {
    box.hidden = true;
    return;
  }
  const settings = (await getJson(`/api/settings?${names.map((name) => `run=${encodeURIComponent(name)}`).join('&')}`)).map(
    (run) => run.settings,
  );
  const paths = [...new Set(settings.flatMap((s) => Object.keys(s)))].sort();
  const metric = $('metric').value || 'valAccuracy';
  const figure = (run) => (run.last ? (run.last[metric] ?? run.last.metrics?.[metric]) : undefined);
  const columns = [
    { title: 'run', value: (run) => run.name },
    ...paths.map((path) => ({ title: path, value: (_, i) => settings[i][path] ?? '' })),
    { title: `last ${metric}`, value: (run) => figure(run), number: true },
    { title: 'test acc', value: (run) => run.test?.accuracy, number: true },
  ];
  const rows = names.map((name, i) => ({
    run: state.runs.get(name),
    cells: columns.map((column) => column.value(state.runs.get(name), i)),
  }));
  const filter = $('filter').value.trim().toLowerCase();
  const shown = rows.filter(
    (row) =>
      !filter ||
      row.cells.some((cell) =>
        String(cell ?? '')
          .toLowerCase()
          .includes(filter),
      ),
  );
  const at = columns.findIndex((column) => column.title === state.sort.column);
  if (at >= 0) {
    const key = (cell) => (cell === undefined || cell === '' ? undefined : Number.isFinite(Number(cell)) ? Number(cell) : String(cell));
    shown.sort((a, b) => {
      const [x, y] = [key(a.cells[at]), key(b.cells[at])];
      if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1; // missing last
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return state.sort.descending ? -order : order;
    });
  }
  const table = $('settings');
  const head = table.tHead;
  head.replaceChildren();
  const headings = head.insertRow();
  columns.forEach((column) => {
    const th = document.createElement('th');
    th.textContent = column.title + (column.title === state.sort.column ? (state.sort.descending ? ' ▼' : ' ▲') : '');
    th.addEventListener('click', () => {
      state.sort = { column: column.title, descending: state.sort.column === column.title ? !state.sort.descending : true };
      void renderSettings(names);
    });
    headings.append(th);
  });
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const row of shown) {
    const tr = body.insertRow();
    tr.dataset.run = row.run.name;
    row.cells.forEach(
      (cell, c) =>
        (tr.insertCell().textContent = columns[c].number ? (typeof cell === 'number' ? cell.toFixed(4) : '') : String(cell ?? '')),
    );
  }
  box.hidden = false;
  await drawParallel(names, paths.length > 0, metric);
}

/** Three runs or more with settings that differ: one line each across those settings, coloured by the figure. */
async function drawParallel(names, differ, metric) {
  const drawing = ++state.parallelDrawing; // a later call supersedes this one
  const box = $('parallel');
  if (names.length < 3 || !differ) {
    state.parallel?.finalize();
    state.parallel = undefined;
    box.replaceChildren();
    delete box.dataset.runs;
    return;
  }
  const spec = await getJson(
    `/api/parallel?${[...names.map((name) => `run=${encodeURIComponent(name)}`), `metric=${encodeURIComponent(metric)}`].join('&')}`,
  );
  if (drawing !== state.parallelDrawing) return;
  state.parallel?.finalize();
  box.replaceChildren();
  state.parallel = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'svg', container: box, hover: true });
  await state.parallel.runAsync();
  if (drawing === state.parallelDrawing) box.dataset.runs = names.join(',');
}

/** The figures the ticked runs record each epoch, for the curve chooser (the choice kept while there). */
function fillMetrics(names) {
  const select = $('metric');
  const figures = new Set(['valLoss', 'trainLoss', 'valAccuracy', 'learningRate']);
  for (const name of names) for (const metric of Object.keys(state.runs.get(name)?.last?.metrics ?? {})) figures.add(metric);
  // Per-step curves come from progress.json, which every run writes as it trains.
  const labels = {
    '': 'losses and validation accuracy',
    'step:loss': 'training loss per step',
    'step:learningRate': 'learning rate per step',
  };
  const chosen = select.value;
  const wanted = ['', ...figures, 'step:loss', 'step:learningRate'];
  if ([...select.options].map((option) => option.value).join() === wanted.join()) return;
  select.replaceChildren(...wanted.map((value) => new Option(labels[value] ?? value, value)));
  select.value = wanted.includes(chosen) ? chosen : '';
}

async function select(name) {
  state.selected = name;
  renderRuns();
  const run = await getJson(`/api/runs/${encodeURIComponent(name)}`);
  $('details').hidden = false;
  $('details-name').textContent = run.name;
  $('details-description').textContent = [run.description, run.model, run.dataset && `dataset: ${run.dataset}`].filter(Boolean).join(' — ');
  $('details-problems').textContent = run.problems.join('; ');
  $('details-classify').hidden = run.status !== 'finished';
  $('details-classify').href = `/classify.html?run=${encodeURIComponent(run.name)}`;
  const figures = [
    ['epochs', run.epochs],
    ['last validation accuracy', percent(run.last?.valAccuracy)],
    ['last validation loss', run.last?.valLoss?.toFixed(4)],
    ['test accuracy', percent(run.test?.accuracy)],
    ['test loss', run.test?.loss?.toFixed(4)],
    ['seconds', run.summary?.seconds?.toFixed(0)],
  ];
  fillTable(
    $('details-figures'),
    figures.filter(([, value]) => value !== undefined && value !== ''),
  );
  fillTable(
    $('details-classes'),
    Object.entries(run.summary?.test?.perClassAccuracy ?? {}).map(([name, value]) => [name, percent(value)]),
  );
  showPicture($('details-confusion'), run.name, 'confusion-matrix.png');
  showPicture($('details-samples'), run.name, 'samples.png');
  showTopLosses(run.name);
  $('details-settings').textContent = JSON.stringify(run.experiment ?? {}, null, 2);
}

/** The run's worst test images, each with its true and predicted class and the probabilities (fastai's plot_top_losses). */
async function showTopLosses(name) {
  $('top-losses').hidden = true;
  const list = $('details-top-losses');
  list.replaceChildren();
  const response = await fetch(`/api/runs/${encodeURIComponent(name)}/top-losses.json`);
  if (!response.ok || state.selected !== name) return; // none (an unfinished run, no test split), or another run chosen since
  for (const entry of await response.json()) {
    const item = document.createElement('li');
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.src = entry.image;
    img.alt = `a ${entry.label} taken for a ${entry.predicted}`;
    const caption = document.createElement('figcaption');
    caption.textContent = `${entry.label} → ${entry.predicted} ${percent(entry.probability)}, loss ${entry.loss.toFixed(2)}, p(${entry.label}) ${percent(entry.trueProbability)}`;
    figure.append(img, caption);
    item.append(figure);
    list.append(item);
  }
  $('top-losses').hidden = list.childElementCount === 0;
}

function fillTable(table, rows) {
  table.replaceChildren();
  for (const [key, value] of rows) {
    const row = table.insertRow();
    row.insertCell().textContent = key;
    row.insertCell().textContent = String(value);
  }
}

function showPicture(img, run, file) {
  const figure = img.parentElement;
  figure.hidden = true; // shown once the run turns out to have the picture
  img.onload = () => (figure.hidden = false);
  img.src = `/api/runs/${encodeURIComponent(run)}/${file}?t=${Date.now()}`;
}

async function refreshRuns() {
  const runs = await getJson('/api/runs');
  state.runs = new Map(runs.map((run) => [run.name, run]));
  renderRuns();
}

async function start() {
  $('metric').addEventListener('change', () => void drawChart());
  $('log').addEventListener('change', () => void drawChart());
  $('smooth').addEventListener('change', () => void drawChart());
  $('filter').addEventListener('input', () => void renderSettings([...state.compared].filter((name) => state.runs.has(name))));
  await refreshRuns();
  // The most recent run is drawn from the start; the rest are a tick away.
  const [latest] = state.runs.keys();
  if (latest) state.compared.add(latest);
  renderRuns();
  await drawChart();
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => ($('live').textContent = 'live: updates are pushed as runs write their epochs'));
  events.addEventListener('error', () => ($('live').textContent = 'disconnected: retrying…'));
  events.addEventListener('run', (message) => {
    const run = JSON.parse(message.data);
    const before = state.runs.get(run.name);
    const isNew = !before;
    // A running run rewrites its progress every few seconds: the curves change only with an epoch (or its end).
    const changed = !before || before.epochs !== run.epochs || before.status !== run.status;
    state.runs.set(run.name, run);
    if (isNew) state.runs = new Map([...state.runs.values()].sort((a, b) => b.updated - a.updated).map((r) => [r.name, r]));
    renderRuns();
    if (changed && state.compared.has(run.name)) void drawChart();
    if (changed && state.selected === run.name) void select(run.name);
  });
  events.addEventListener('step', (message) => {
    const step = JSON.parse(message.data);
    const of = step.stepsPerEpoch ? `/${step.stepsPerEpoch}` : '';
    $('live').textContent = `${step.run}: epoch ${step.epoch}, step ${step.step}${of}, loss ${step.loss.toFixed(4)}`;
  });
}

// A narrower or wider window fits the chart again, once the resizing settles.
let resizing;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => void drawChart(), 250);
});

start().catch((error) => ($('live').textContent = `error: ${error.message}`));
