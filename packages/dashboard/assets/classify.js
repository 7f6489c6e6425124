// The classify page: a run's ONNX model (model.onnx, written when the run finished or by
// `rxvision export`) run in the browser by onnxruntime-web, on WebGPU where the browser has an
// adapter, else on wasm; the images are preprocessed as training did (read from the model's metadata).
import * as ort from '/vendor/onnxruntime-web/ort.webgpu.min.mjs';

const $ = (id) => document.getElementById(id);
const run = new URLSearchParams(location.search).get('run') ?? '';
const TOP = 3;

ort.env.wasm.wasmPaths = '/vendor/onnxruntime-web/';
// Threads need SharedArrayBuffer, which only a cross-origin-isolated page has.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? `${url}: ${response.status}`);
  return response;
}

/** A session on WebGPU when the browser has an adapter that takes the model, else on wasm. */
async function createSession(bytes) {
  if (navigator.gpu) {
    try {
      if (await navigator.gpu.requestAdapter())
        return { session: await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] }), device: 'WebGPU' };
    } catch {
      // No usable adapter (a headless browser, a blocked GPU): wasm below.
    }
  }
  return { session: await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }), device: 'wasm' };
}

/** An image file as the model's input: resized to its height × width, pixels / 255, then normalised per channel. */
async function preprocess(file, { imageShape: [height, width, channels], normalize }) {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const input = new Float32Array(height * width * channels);
  for (let i = 0; i < height * width; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    // A grey model takes the luminance (equal to the value itself for a grey image).
    const values = channels === 1 ? [Math.round(0.299 * r + 0.587 * g + 0.114 * b)] : [r, g, b];
    for (let c = 0; c < channels; c++) {
      const scaled = values[c] / 255;
      input[i * channels + c] = normalize ? (scaled - normalize.mean[c]) / normalize.std[c] : scaled;
    }
  }
  return new ort.Tensor('float32', input, [1, height, width, channels]);
}

function show(file, ranked) {
  const item = document.createElement('li');
  item.dataset.file = file.name;
  item.dataset.top = ranked[0].class;
  const image = document.createElement('img');
  image.src = URL.createObjectURL(file);
  image.alt = file.name;
  const list = document.createElement('div');
  list.className = 'ranked';
  const caption = document.createElement('strong');
  caption.textContent = file.name;
  list.append(caption);
  for (const { class: name, probability } of ranked) {
    const row = document.createElement('div');
    row.className = 'bar';
    row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="value"></span>';
    row.querySelector('.name').textContent = name;
    row.querySelector('.fill').style.width = `${(100 * probability).toFixed(1)}%`;
    row.querySelector('.value').textContent = `${(100 * probability).toFixed(1)}%`;
    list.append(row);
  }
  item.append(image, list);
  $('results').prepend(item);
}

async function main() {
  $('run-name').textContent = run;
  const encoded = encodeURIComponent(run);
  const [classifier, bytes] = await Promise.all([
    fetchOk(`/api/runs/${encoded}/classifier`).then((r) => r.json()),
    fetchOk(`/api/runs/${encoded}/model.onnx`).then((r) => r.arrayBuffer()),
  ]);
  const { session, device } = await createSession(new Uint8Array(bytes));
  const { imageShape, classes } = classifier;
  $('status').textContent = `${classes.length} classes, ${imageShape.join('×')} images; running on ${device} in this browser`;
  $('status').dataset.device = device;
  const classify = async (files) => {
    for (const file of files) {
      try {
        const { probabilities } = await session.run({ images: await preprocess(file, classifier) });
        const ranked = Array.from(probabilities.data, (probability, c) => ({ class: classes[c], probability }))
          .sort((a, b) => b.probability - a.probability)
          .slice(0, TOP);
        show(file, ranked);
      } catch (error) {
        $('status').textContent = `${file.name}: ${error.message}`;
      }
    }
    $('results').dataset.count = String($('results').children.length);
  };
  $('pick').disabled = false;
  $('pick').addEventListener('change', () => classify([...$('pick').files]));
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    classify([...event.dataTransfer.files].filter((file) => file.type.startsWith('image/')));
  });
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  $('status').textContent = `cannot classify with ${run}: ${error.message}`;
  $('status').classList.add('problems');
  document.body.dataset.ready = 'failed';
});
