// LesionLab's Web Worker: owns the wasm module and one model session, so the page stays
// responsive while the model runs. Spoken to only by `lesionlab.js` (messages `{ id, op, args }`,
// answers `{ id, ok, result | error }`, `{ type: 'progress', id, progress }` while loading and
// fine-tuning, `{ type: 'panic', message }` when Rust panics; `{ op: 'control' }` pauses,
// resumes or cancels).

import { pixelsOf } from './decode.js';
import { fail, messageOf, serialise } from './errors.js';
import { countedBody } from './progress.js';
import { threshold as thresholdMask } from './render.js';
import { clearRun } from './store.js';
import * as tuning from './worker-finetune.js';

let session = null;
let core = null; // the wasm module of the session: pkg/webgpu (WebGPU + CPU) or pkg/cpu (CPU only)
let queue = Promise.resolve();

// Called by the crate's panic hook. The module is unusable after a panic: the page is told,
// fails what was pending with the message and starts a fresh worker for the next call.
self.lesionlabPanic = (message) => self.postMessage({ type: 'panic', message: String(message) });

self.onmessage = (event) => {
  const { id, op, args } = event.data;
  if (op === 'control') {
    tuning.steer(args.action);
    return;
  }
  const report = (progress) => self.postMessage({ type: 'progress', id, progress });
  // One request at a time: bounded memory, and timings that mean something.
  queue = queue.then(async () => {
    try {
      const { result, transfer } = await handle(op, args, report);
      self.postMessage({ id, ok: true, result }, transfer ?? []);
    } catch (err) {
      self.postMessage({ id, ok: false, error: serialise(err) });
    }
  });
};


async function webgpuAdapter() {
  if (!('gpu' in navigator) || !navigator.gpu) return 'WebGPU is not available in this browser';
  try {
    return (await navigator.gpu.requestAdapter()) ? null : 'WebGPU is not available (the browser found no adapter)';
  } catch (err) {
    return `WebGPU failed to start (${messageOf(err)})`;
  }
}

const modules = {};
const memories = new Map(); // each loaded module's wasm memory

/**
 * The `webgpu` module (WebGPU and Flex) or the smaller `cpu` one (Flex only), loaded once; its
 * download reported as `{ what: 'module', done, total }` while it streams into compilation.
 */
async function wasm(kind, report = () => {}) {
  if (!modules[kind]) {
    modules[kind] = (async () => {
      const m = await import(`../pkg/${kind}/lesionlab_core.js`);
      const url = new URL(`../pkg/${kind}/lesionlab_core_bg.wasm`, import.meta.url);
      const response = await fetch(url);
      if (!response.ok) throw fail('io', `could not load ${url}: HTTP ${response.status}`);
      // wasm-bindgen compiles a Response as it streams when its type is application/wasm.
      const body = countedBody(response, 'module', report);
      const wasmResponse = new Response(body, { headers: { 'Content-Type': 'application/wasm' } });
      memories.set(m, (await m.default({ module_or_path: wasmResponse })).memory);
      return m;
    })();
    modules[kind].catch(() => { delete modules[kind]; });
  }
  return modules[kind];
}

// Which module a backend runs on: 'auto' takes WebGPU when the browser has an adapter.
const choices = {};
function choose(backend) {
  choices[backend] ??= (async () => {
    if (backend === 'cpu') return { kind: 'cpu', note: null };
    const missing = await webgpuAdapter();
    if (missing && backend === 'webgpu') throw fail('device', `${missing}; use the backend 'cpu' or 'auto'`);
    return missing ? { kind: 'cpu', note: `${missing}, so the CPU runs the model` } : { kind: 'webgpu', note: null };
  })();
  return choices[backend];
}

/** Loads the module `backend` needs, reporting its download, while the page fetches weights. */
async function prepare({ backend }, report) {
  const { kind } = await choose(backend);
  await wasm(kind, report);
  return { result: { kind } };
}

async function open(kind, model, weights, source, size) {
  const m = await wasm(kind);
  const s = await m.Session.create(model, kind, new Uint8Array(weights), source, size ?? undefined);
  core = m;
  return s;
}

async function create({ model, backend, weights, source, size }) {
  const choice = await choose(backend);
  let note = choice.note;
  try {
    session = await open(choice.kind, model, weights, source, size);
  } catch (err) {
    // Bad weights or settings fail on the CPU too; anything else is WebGPU's.
    const failsOnCpuToo = ['weights', 'bad-argument'].includes(err.kind);
    if (backend !== 'auto' || choice.kind !== 'webgpu' || failsOnCpuToo) throw err;
    note = `WebGPU failed (${messageOf(err)}), so the CPU runs the model`;
    session = await open('cpu', model, weights, source, size);
  }
  return { result: { backend: session.backend, modes: modesOf(session), inputSize: session.inputSize, note } };
}

const MODES = ['accurate', 'fast1', 'fast2', 'fast3', 'fast4'];
const METHODS = ['activation', 'cam', 'gradcam'];

/** Per mode: the layers it computes, with what they do, and each method's default layer. */
function modesOf(s) {
  return Object.fromEntries(MODES.map((mode) => [mode, {
    layers: s.layersIn(mode),
    defaults: Object.fromEntries(METHODS.map((method) => [method, s.defaultLayer(method, mode)])),
  }]));
}

function requireSession() {
  if (!session) throw fail('bad-argument', 'LesionLab is not ready: create() did not finish');
  return session;
}

// The photo the session holds: its key and size. A call with the same key neither decodes nor
// resizes it again.
let held = null;

/** Makes the session hold the photo of `key`, decoding it only when it holds another. */
async function hold(s, { source, key, name }) {
  if (held?.key === key && s.hasPhoto(key)) {
    if (source instanceof ImageBitmap) source.close();
    return { ...held, decoded: false, ms: 0 };
  }
  const t0 = performance.now();
  let width, height;
  if (source instanceof Blob) {
    // Files are decoded by the crate, as natively and for fine-tuning; only pixels the page
    // already has (ImageData, ImageBitmap) come through the browser.
    [width, height] = s.setPhotoFile(key, new Uint8Array(await source.arrayBuffer()), name);
  } else {
    const pixels = await pixelsOf(source, name);
    ({ width, height } = pixels);
    s.setPhoto(key, pixels.rgba, width, height);
  }
  held = { key, width, height };
  return { ...held, decoded: true, ms: performance.now() - t0 };
}

async function segment(args) {
  const s = requireSession();
  const { width, height, decoded, ms: preprocess } = await hold(s, args);
  const r = await s.segment(args.key, args.mode, Boolean(args.tta));
  const t1 = performance.now();
  const probability = r.probability;
  const mask = thresholdMask(probability, args.threshold);
  const ms = { preprocess, model: r.ms.model, postprocess: r.ms.postprocess + (performance.now() - t1) };
  return {
    result: { width, height, mask, probability, check: r.check, ms, decoded, passes: r.passes },
    transfer: [mask.buffer, probability.buffer],
  };
}

async function explain(args) {
  const s = requireSession();
  const { width, height, decoded } = await hold(s, args);
  const h = await s.explain(args.key, args.method, args.layer ?? undefined, args.target, args.mode);
  return {
    result: {
      width, height, heatmap: h.heatmap, layer: h.layer, method: args.method, meanLogit: h.meanLogit, blankNote: h.blankNote,
      decoded, passes: h.passes,
    },
    transfer: [h.heatmap.buffer],
  };
}

async function exportWeights() {
  const bytes = await requireSession().exportWeights();
  return { result: bytes.buffer, transfer: [bytes.buffer] };
}

async function handle(op, args, report) {
  switch (op) {
    case 'prepare': return prepare(args, report);
    case 'create': return create(args);
    case 'segment': return segment(args);
    case 'explain': return explain(args);
    case 'finetune': return tuning.finetune(requireSession(), core, args, report);
    case 'resume-finetune': return tuning.resumeFinetune(requireSession(), core, report);
    case 'pair-files': {
      requireSession();
      const { entries, pairs, skipped } = await tuning.pairFiles(core, args.files);
      return { result: { files: entries.length, pairs: pairs.length, skipped } };
    }
    case 'export-weights': return exportWeights();
    case 'memory': {
      requireSession();
      // Chromium's non-standard heap size; null where a browser has none.
      const heap = performance.memory?.usedJSHeapSize ?? null;
      return { result: { wasmBytes: memories.get(core).buffer.byteLength, workerHeapBytes: heap } };
    }
    case 'load-weights':
      requireSession().loadWeights(new Uint8Array(args.weights), args.source);
      return { result: null };
    case 'preview': return { result: await tuning.preview(args.n) };
    case 'clear-run':
      await clearRun();
      return { result: null };
    case 'panic':
      requireSession();
      if (!core.panicForTest) throw fail('bad-argument', 'this build has no test hooks (pkg-scripts/test builds them)');
      core.panicForTest();
      return { result: null };
    default: throw fail('bad-argument', `unknown request '${op}'`);
  }
}
