// The dashboard page: plain browser JavaScript, no build step, nothing loaded from the internet.
// Charts are @rxvision/plot's Vega-Lite specs, served by /api/chart and drawn with vega as SVG.
/* global vega, vegaLite */
'use strict';

const state = { runs: new Map(), compared: new Set(), selected: undefined, view: undefined };
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
  const shown = run.ended === 'scheduler' ? `stopped early at epoch ${run.epochs}` : run.ended ? `finished (${run.ended})` : run.status;
  status.textContent = run.problems.length > 0 ? `${shown} (damaged files)` : shown;
  status.className = `status-${run.status}`;
  row.insertCell().textContent = String(run.epochs);
  row.insertCell().textContent = percent(run.last?.valAccuracy);
  row.insertCell().textContent = percent(run.test?.accuracy);
  row.addEventListener('click', () => select(run.name));
  return row;
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
  const spec = await getJson(`/api/chart?${names.map((name) => `run=${encodeURIComponent(name)}`).join('&')}`);
  chart.replaceChildren();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'svg', container: chart, hover: true });
  state.view = view;
  await view.runAsync();
  chart.dataset.runs = names.join(',');
}

async function select(name) {
  state.selected = name;
  renderRuns();
  const run = await getJson(`/api/runs/${encodeURIComponent(name)}`);
  $('details').hidden = false;
  $('details-name').textContent = run.name;
  $('details-description').textContent = [run.description, run.model, run.dataset && `dataset: ${run.dataset}`].filter(Boolean).join(' — ');
  $('details-problems').textContent = run.problems.join('; ');
  const figures = [
    ['epochs', run.epochs],
    ['last validation accuracy', percent(run.last?.valAccuracy)],
    ['last validation loss', run.last?.valLoss?.toFixed(4)],
    ['test accuracy', percent(run.test?.accuracy)],
    ['test loss', run.test?.loss?.toFixed(4)],
    ['seconds', run.summary?.seconds?.toFixed(0)],
  ];
  fillTable($('details-figures'), figures.filter(([, value]) => value !== undefined && value !== ''));
  fillTable($('details-classes'), Object.entries(run.summary?.test?.perClassAccuracy ?? {}).map(([name, value]) => [name, percent(value)]));
  showPicture($('details-confusion'), run.name, 'confusion-matrix.png');
  showPicture($('details-samples'), run.name, 'samples.png');
  $('details-settings').textContent = JSON.stringify(run.experiment ?? {}, null, 2);
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
    const isNew = !state.runs.has(run.name);
    state.runs.set(run.name, run);
    if (isNew) state.runs = new Map([...state.runs.values()].sort((a, b) => b.updated - a.updated).map((r) => [r.name, r]));
    renderRuns();
    if (state.compared.has(run.name)) void drawChart();
    if (state.selected === run.name) void select(run.name);
  });
  events.addEventListener('step', (message) => {
    const step = JSON.parse(message.data);
    const of = step.stepsPerEpoch ? `/${step.stepsPerEpoch}` : '';
    $('live').textContent = `${step.run}: epoch ${step.epoch}, step ${step.step}${of}, loss ${step.loss.toFixed(4)}`;
  });
}

start().catch((error) => ($('live').textContent = `error: ${error.message}`));
