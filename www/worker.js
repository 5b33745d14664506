// LesionLab's Web Worker: owns the wasm module and one model session, so the page stays
// responsive while the model runs. Spoken to only by `lesionlab.js` (messages `{ id, op, args }`,
// answers `{ id, ok, result | error }`, `{ type: 'progress', id, progress }` while fine-tuning,
// `{ type: 'panic', message }` when Rust panics; `{ op: 'control' }` pauses, resumes or cancels).

import { decodePixels } from './decode.js';
import { threshold as thresholdMask } from './render.js';
import { clearRun, loadRun, saveRun, updateRun } from './store.js';
import { isZip, zipEntries } from './zip.js';

let session = null;
let core = null; // the wasm module of the session: pkg/webgpu (WebGPU + CPU) or pkg/cpu (CPU only)
let queue = Promise.resolve();
let fine = null; // the FineTune of the last fine-tuning run
// Pause and cancel arrive while a run is in progress, outside the request queue.
const control = { paused: false, cancel: false, waiters: [] };

// Called by the crate's panic hook. The module is unusable after a panic: the page is told,
// fails what was pending with the message and starts a fresh worker for the next call.
self.lesionlabPanic = (message) => self.postMessage({ type: 'panic', message: String(message) });

self.onmessage = (event) => {
  const { id, op, args } = event.data;
  if (op === 'control') {
    steer(args.action);
    return;
  }
  const report = (progress) => self.postMessage({ type: 'progress', id, progress });
  // One request at a time: bounded memory, and timings that mean something.
  queue = queue.then(async () => {
    try {
      const { result, transfer } = await handle(op, args, report);
      self.postMessage({ id, ok: true, result }, transfer ?? []);
    } catch (err) {
      self.postMessage({ id, ok: false, error: messageOf(err) });
    }
  });
};

function messageOf(err) {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String(err.message);
  return String(err);
}

async function webgpuAdapter() {
  if (!('gpu' in navigator) || !navigator.gpu) return 'WebGPU is not available in this browser';
  try {
    return (await navigator.gpu.requestAdapter()) ? null : 'WebGPU is not available (the browser found no adapter)';
  } catch (err) {
    return `WebGPU failed to start (${messageOf(err)})`;
  }
}

const modules = {};

/** The `webgpu` module (WebGPU and Flex) or the smaller `cpu` one (Flex only), loaded once. */
async function wasm(kind) {
  if (!modules[kind]) {
    modules[kind] = import(`../pkg/${kind}/lesionlab_core.js`).then(async (m) => {
      await m.default();
      return m;
    });
  }
  return modules[kind];
}

async function open(kind, model, weights, source, size) {
  const m = await wasm(kind);
  const s = await m.Session.create(model, kind, new Uint8Array(weights), source, size ?? undefined);
  core = m;
  return s;
}

async function create({ model, backend, weights, source, size }) {
  let note = null;
  let chosen = backend;
  if (backend === 'auto' || backend === 'webgpu') {
    const missing = await webgpuAdapter();
    if (missing && backend === 'webgpu') throw new Error(`${missing}; use the backend 'cpu' or 'auto'`);
    if (missing) {
      note = `${missing}, so the CPU runs the model`;
      chosen = 'cpu';
    } else {
      chosen = 'webgpu';
    }
  }
  try {
    session = await open(chosen, model, weights, source, size);
  } catch (err) {
    if (backend !== 'auto' || chosen !== 'webgpu' || /weights|tensor|size/i.test(messageOf(err))) throw err;
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
  if (!session) throw new Error('LesionLab is not ready: create() did not finish');
  return session;
}

async function segment({ source, name, threshold, mode, tta }) {
  const s = requireSession();
  const t0 = performance.now();
  const { rgba, width, height } = await decodePixels(source, name);
  const decodeMs = performance.now() - t0;
  const r = await s.segment(rgba, width, height, mode, Boolean(tta));
  const t1 = performance.now();
  const probability = r.probability;
  const mask = thresholdMask(probability, threshold);
  const ms = {
    preprocess: decodeMs + r.ms.preprocess,
    model: r.ms.model,
    postprocess: r.ms.postprocess + (performance.now() - t1),
  };
  return {
    result: { width, height, mask, probability, check: r.check, ms },
    transfer: [mask.buffer, probability.buffer],
  };
}

async function explain({ source, name, method, layer, target, mode }) {
  const s = requireSession();
  const { rgba, width, height } = await decodePixels(source, name);
  const h = await s.explain(rgba, width, height, method, layer ?? undefined, target, mode);
  return {
    result: { width, height, heatmap: h.heatmap, layer: h.layer, method, meanLogit: h.meanLogit, blankNote: h.blankNote },
    transfer: [h.heatmap.buffer],
  };
}

function steer(action) {
  if (action === 'pause') control.paused = true;
  if (action === 'resume' || action === 'cancel') {
    control.paused = false;
    if (action === 'cancel') control.cancel = true;
    control.waiters.splice(0).forEach((wake) => wake());
  }
}

// The largest file taken as an image, as natively: 4 bytes per pixel of the 50 MP limit.
const MAX_IMAGE_BYTES = 200_000_000;

/** Every file the user gave, zips opened: `[{ name, size, read }]`, and what could not be used. */
async function expand(files) {
  const entries = [];
  const skipped = [];
  for (const file of files) {
    const name = file.webkitRelativePath || file.name;
    if (await isZip(file)) {
      try {
        entries.push(...(await zipEntries(file)));
      } catch (err) {
        skipped.push({ file: name, reason: messageOf(err).replace(`${file.name}: `, '') });
      }
    } else {
      entries.push({ name, size: file.size, read: () => file.arrayBuffer() });
    }
  }
  return { entries, skipped };
}

/** Files opened and paired by ISIC id with the crate's rules, before anything is decoded. */
async function pairFiles(files) {
  const { entries, skipped } = await expand(files);
  const pairing = core.pairNames(entries.map((e) => e.name));
  return { entries, pairs: pairing.pairs, skipped: [...skipped, ...pairing.skipped] };
}

async function readEntry(entry) {
  if (entry.size > MAX_IMAGE_BYTES) throw new Error(`${Math.round(entry.size / 1e6)} MB is too large for an image`);
  return new Uint8Array(await entry.read());
}

function settingsOf(options) {
  const settings = {
    epochs: options.epochs ?? 1, batchSize: options.batchSize ?? 4, lr: options.lr ?? 1e-3, size: options.size ?? 256,
    valFraction: options.valFraction ?? 0.2, augment: options.augment ?? true, seed: options.seed ?? 0,
  };
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`fine-tuning setting ${k} must be a number`);
  }
  if (!Number.isInteger(settings.epochs) || settings.epochs < 1) throw new Error('epochs must be a whole number of at least 1');
  if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1) throw new Error('batchSize must be a whole number of at least 1');
  return settings;
}

// Storage can fail (private windows, a full disk): training goes on, and the page says that
// this run cannot be resumed after a reload.
async function keep(report, save) {
  try {
    await save();
    return true;
  } catch (err) {
    report({ kind: 'warning', message: `${messageOf(err)}; training goes on, but a reload would lose this run` });
    return false;
  }
}

async function finetune({ files, options }, report) {
  const s = requireSession();
  const settings = settingsOf(options);
  control.cancel = false;
  control.paused = false;
  const ft = new core.FineTune(s, JSON.stringify(settings));
  const { entries, pairs, skipped } = await pairFiles(files);
  const byName = new Map(entries.map((e) => [e.name, e]));
  report({ kind: 'paired', pairs: pairs.length, skipped: [...skipped] });
  for (const [i, [id, image, mask]] of pairs.entries()) {
    if (control.cancel) throw new Error('fine-tuning was cancelled while reading the files');
    let imageBytes, maskBytes;
    try {
      imageBytes = await readEntry(byName.get(image));
    } catch (err) {
      skipped.push({ file: image, reason: `unreadable (${messageOf(err)})` });
      continue;
    }
    try {
      maskBytes = await readEntry(byName.get(mask));
    } catch (err) {
      skipped.push({ file: mask, reason: `unreadable (${messageOf(err)})` });
      continue;
    }
    const bad = ft.addPair(id, image, imageBytes, mask, maskBytes);
    if (bad) skipped.push(bad);
    report({ kind: 'loading', done: i + 1, total: pairs.length });
  }
  const paired = ft.count;
  if (paired === 0) {
    const why = skipped.slice(0, 3).map((k) => `${k.file}: ${k.reason}`).join('; ');
    throw new Error(`no usable image/mask pair among ${files.length} file(s)${why ? `: ${why}` : ''}`);
  }
  const dataset = ft.datasetBytes().buffer;
  const started = await ft.start();
  const info = { model: s.model, settings, paired, skipped, before: started.before, train: started.train, val: started.val };
  await keep(report, () => saveRun({ ...info, dataset, checkpoint: null, history: [], status: 'running' }));
  return trainLoop(ft, info, report);
}

async function resumeFinetune(args, report) {
  const s = requireSession();
  const run = await loadRun();
  if (!run) throw new Error('there is no saved fine-tuning run to resume');
  if (run.model !== s.model) throw new Error(`the saved run fine-tunes '${run.model}': create a LesionLab with that model to resume it`);
  control.cancel = false;
  control.paused = false;
  let ft;
  if (run.checkpoint) {
    ft = core.FineTune.restore(s, new Uint8Array(run.checkpoint), new Uint8Array(run.dataset), JSON.stringify(run.before));
  } else {
    // Stopped during the first epoch: start again from the saved pairs.
    ft = new core.FineTune(s, JSON.stringify(run.settings));
    ft.addDataset(new Uint8Array(run.dataset));
    await ft.start();
  }
  await keep(report, () => updateRun({ status: 'running' }));
  const { model, settings, paired, skipped, before, train, val } = run;
  return trainLoop(ft, { model, settings, paired, skipped, before, train, val }, report);
}

async function trainLoop(ft, info, report) {
  fine = ft;
  // Between steps the worker's event loop runs (pause and cancel arrive); paused, it waits.
  const between = () => (control.paused
    ? new Promise((wake) => control.waiters.push(wake)).then(() => control.cancel)
    : new Promise((done) => setTimeout(() => done(control.cancel), 0)));
  let lastStep = null;
  const onProgress = (p) => {
    if (p.kind === 'step') lastStep = p;
    report(p.kind === 'epoch' && lastStep ? { ...lastStep, ...p } : p);
    return control.cancel;
  };
  let outcome;
  for (;;) {
    outcome = await ft.run(onProgress, between);
    if (outcome === 'cancelled') break;
    const history = ft.history();
    const checkpoint = (await ft.checkpoint()).buffer;
    if (await keep(report, () => updateRun({ checkpoint, history }))) report({ kind: 'saved', epoch: history.length });
    if (outcome === 'finished') break;
  }
  if (outcome === 'finished') ft.apply();
  await keep(report, () => updateRun({ status: outcome }));
  return { result: { ...info, outcome, history: ft.history() } };
}

async function exportWeights() {
  const bytes = await requireSession().exportWeights();
  return { result: bytes.buffer, transfer: [bytes.buffer] };
}

async function handle(op, args, report) {
  switch (op) {
    case 'create': return create(args);
    case 'segment': return segment(args);
    case 'explain': return explain(args);
    case 'finetune': return finetune(args, report);
    case 'resume-finetune': return resumeFinetune(args, report);
    case 'pair-files': {
      requireSession();
      const { entries, pairs, skipped } = await pairFiles(args.files);
      return { result: { files: entries.length, pairs: pairs.length, skipped } };
    }
    case 'export-weights': return exportWeights();
    case 'load-weights':
      requireSession().loadWeights(new Uint8Array(args.weights), args.source);
      return { result: null };
    case 'preview': {
      if (!fine) throw new Error('no fine-tuning run in this session');
      return { result: await fine.preview(args.n) };
    }
    case 'clear-run':
      await clearRun();
      return { result: null };
    case 'panic': requireSession(); core.panicForTest(); return { result: null };
    default: throw new Error(`unknown request '${op}'`);
  }
}
