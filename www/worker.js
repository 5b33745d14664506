// LesionLab's Web Worker: owns the wasm module and one model session, so the page stays
// responsive while the model runs. Spoken to only by `lesionlab.js` (messages `{ id, op, args }`,
// answers `{ id, ok, result | error }`, plus `{ type: 'panic', message }` when Rust panics).

import init, { Session, panicForTest } from '../pkg/lesionlab_core.js';
import { decodePixels } from './decode.js';

let session = null;
let queue = Promise.resolve();

// Called by the crate's panic hook. The module is unusable after a panic: the page is told,
// fails what was pending with the message and starts a fresh worker for the next call.
self.lesionlabPanic = (message) => self.postMessage({ type: 'panic', message: String(message) });

self.onmessage = (event) => {
  const { id, op, args } = event.data;
  // One request at a time: bounded memory, and timings that mean something.
  queue = queue.then(async () => {
    try {
      const { result, transfer } = await handle(op, args);
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

async function create({ model, backend, weights, source, size }) {
  await init();
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
    session = await Session.create(model, chosen, new Uint8Array(weights), source, size ?? undefined);
  } catch (err) {
    if (backend !== 'auto' || chosen !== 'webgpu' || /weights|tensor|size/i.test(messageOf(err))) throw err;
    note = `WebGPU failed (${messageOf(err)}), so the CPU runs the model`;
    session = await Session.create(model, 'cpu', new Uint8Array(weights), source, size ?? undefined);
  }
  return {
    result: { backend: session.backend, layers: Array.from(session.layers()), inputSize: session.inputSize, note },
  };
}

function requireSession() {
  if (!session) throw new Error('LesionLab is not ready: create() did not finish');
  return session;
}

async function segment({ source, name, threshold, mode }) {
  const s = requireSession();
  const t0 = performance.now();
  const { rgba, width, height } = await decodePixels(source, name);
  const decodeMs = performance.now() - t0;
  const r = await s.segment(rgba, width, height, mode);
  const t1 = performance.now();
  const probability = r.probability;
  const mask = new Uint8Array(probability.length);
  for (let i = 0; i < probability.length; i++) mask[i] = probability[i] > threshold ? 255 : 0;
  const ms = {
    preprocess: decodeMs + r.ms.preprocess,
    model: r.ms.model,
    postprocess: r.ms.postprocess + (performance.now() - t1),
  };
  return {
    result: { width, height, mask, probability, ms },
    transfer: [mask.buffer, probability.buffer],
  };
}

async function explain({ source, name, method, layer, target, mode }) {
  const s = requireSession();
  const { rgba, width, height } = await decodePixels(source, name);
  const h = await s.explain(rgba, width, height, method, layer ?? undefined, target, mode);
  return { result: { width, height, heatmap: h.heatmap, layer: h.layer, method }, transfer: [h.heatmap.buffer] };
}

async function handle(op, args) {
  switch (op) {
    case 'create': return create(args);
    case 'segment': return segment(args);
    case 'explain': return explain(args);
    case 'panic': panicForTest(); return { result: null };
    default: throw new Error(`unknown request '${op}'`);
  }
}
