// LesionLab's Web Worker, one per page: owns the wasm modules and a model session for every
// LesionLab of the page (`lesionlab.js` and `engine.js` speak to it), so the page stays
// responsive while the models run, and every model shares one module download and instance.
//
// The messages are `../api/protocol.js`'s: requests `{ id, op, args }` (`args.sid` names the
// LesionLab), answers `{ id, ok, result | error }`, progress, backend and panic messages, and
// `OP.control` (pause, resume or cancel fine-tuning) and `OP.module` (a module's download that
// the page started, handed over).
//
// `backend: 'auto'` is CPU first, WebGPU when ready: the CPU module and session answer at once;
// in the background the WebGPU module loads, its session runs one warm-up forward (its shaders
// compile then, not while a user waits), and then takes over if it is faster than the CPU on the
// same input (`takeover: 'faster'`, the default) or at once (`takeover: 'ready'`). A request runs
// to its end on the session it started on; the switch only changes where the next one runs.

import { pixelsOf } from './decode.js';
import { fail, messageOf, serialise } from '../api/errors.js';
import { isKept } from '../api/kept.js';
import { countedBody } from '../api/progress.js';
import { threshold as thresholdMask } from '../page/render.js';
import { modeId } from '../api/modes.js';
import { EVENT, MODEL_OPS, OP, TRAINING_OPS } from '../api/protocol.js';
import { DEFAULT_MODE, METHODS, MODES, THRESHOLD } from '../api/rules.js';
import { clearRun } from '../api/store.js';
import { cpuModule, threadsFor } from '../api/threads.js';

// Fine-tuning's code (and the zip reader) loads when first used, not before the first mask.
let tuningModule = null;
const tuning = () =>
  (tuningModule ??= import('./worker-finetune.js').catch((err) => {
    tuningModule = null; // tried again next time
    throw err;
  }));

// Model calls run one at a time (bounded memory, timings that mean something); fine-tuning runs
// in its own lane, so that the page keeps segmenting between its steps.
const lanes = { model: Promise.resolve(), train: Promise.resolve() };
const TRAINING = new Set(TRAINING_OPS);

// Called by the crate's panic hook. The modules are unusable after a panic: the page is told,
// fails what was pending with the message and starts a fresh worker for the next call.
self.lesionlabPanic = (message) => self.postMessage({ type: EVENT.panic, message: String(message) });

self.onmessage = (event) => {
  const { id, op, args } = event.data;
  if (op === OP.control) {
    tuning().then(
      (t) => t.steer(args.action),
      () => {},
    ); // no run without the module
    return;
  }
  if (op === OP.panicChannel) {
    panicChannel = args.name;
    return;
  }
  if (op === OP.module) {
    // Before the `prepare` that uses it; unless the module is loading already (then unread).
    if (modules[args.kind]) args.body.cancel();
    else given[args.kind] = args;
    return;
  }
  const report = (progress) => self.postMessage({ type: EVENT.progress, id, progress });
  const lane = TRAINING.has(op) ? 'train' : 'model';
  lanes[lane] = lanes[lane].then(async () => {
    try {
      const { result, transfer } = await handle(op, args, report);
      self.postMessage({ id, ok: true, result }, transfer ?? []);
    } catch (err) {
      self.postMessage({ id, ok: false, error: serialise(err) });
    }
  });
};

/** `fn` in the model lane, after the requests already waiting there. */
function inModelLane(fn) {
  const done = lanes.model.then(fn);
  lanes.model = done.catch(() => {});
  return done;
}

let adapter = null;
function webgpuAdapter() {
  adapter ??= (async () => {
    if (!('gpu' in navigator) || !navigator.gpu) return 'WebGPU is not available in this browser';
    try {
      return (await navigator.gpu.requestAdapter()) ? null : 'WebGPU is not available (the browser found no adapter)';
    } catch (err) {
      return `WebGPU failed to start (${messageOf(err)})`;
    }
  })();
  return adapter;
}

const modules = {};
const memories = new Map(); // each loaded module's wasm memory
// The CPU module of this worker, chosen by its first LesionLab (every later one shares it):
// 'threads' on a pool of `poolThreads` workers where the page is cross-origin isolated, else 'cpu'.
let cpuFolder = null;
let poolThreads = 1;
let pool = null; // the threaded module's pool starting (a Promise), once
let panicChannel = null; // where pool threads report a panic to the page (engine.js)
const downloadedNow = new Set(); // the modules this visit downloaded (not the service worker's copies)
const given = {}; // kind -> { body, total }: a module's download the page started (engine.js)
const downloaded = {}; // each loaded module's size in bytes

/** Picks the CPU module for `threads` (see `cpuFolder`); the first choice stands. */
function chooseCpuModule(threads) {
  if (!cpuFolder) {
    poolThreads = threadsFor(threads);
    cpuFolder = cpuModule(poolThreads);
  }
}

/** The module a backend's sessions run in: 'webgpu', or this worker's CPU module. */
function moduleOf(backend) {
  return backend === 'webgpu' ? 'webgpu' : (cpuFolder ?? 'cpu');
}

/** The threads of the visitor's CPU that a session of `backend` computes on. */
function threadsOf(backend) {
  return backend === 'webgpu' ? 1 : poolThreads;
}

/**
 * A backend's module, loaded once; the threaded CPU module with its pool of workers started.
 * When that module cannot start (a browser that refuses its memory), the single-threaded one
 * takes its place.
 */
async function wasm(backend, report = (/** @type {any} */ _p) => {}) {
  const kind = moduleOf(backend);
  if (kind !== 'threads') return load(kind, report);
  try {
    const m = await load(kind, report);
    if (!pool && panicChannel) m.setPanicChannel(panicChannel);
    await (pool ??= m.initThreadPool(poolThreads));
    poolThreads = m.threadCount(); // what the pool runs on, as the module counts it
    return m;
  } catch (err) {
    console.warn(`The threaded module could not start (${messageOf(err)}); one thread computes instead.`);
    pool = null;
    cpuFolder = 'cpu';
    poolThreads = 1;
    return load('cpu', report);
  }
}

/**
 * The `webgpu` module (WebGPU and Flex), the smaller `cpu` one (Flex only) or `threads` (Flex
 * on shared memory), loaded once; its download reported as `{ what: 'module', done, total }`
 * while it streams into compilation.
 */
async function load(kind, report = (/** @type {any} */ _p) => {}) {
  if (!modules[kind]) {
    modules[kind] = (async () => {
      const url = new URL(`../../pkg/${kind}/lesionlab_core_bg.wasm`, import.meta.url);
      const handed = given[kind];
      delete given[kind];
      // The module's bytes are fetched while its JS glue loads, not one after the other (or
      // were already on their way: the page's download, handed over as it streams).
      const [m, local, response] = await Promise.all([
        import(`../../pkg/${kind}/lesionlab_core.js`),
        handed ? false : isKept(url),
        handed
          ? new Response(handed.body, { headers: handed.total ? { 'Content-Length': handed.total } : {} })
          : fetch(url),
      ]);
      if (!response.ok) throw fail('io', `could not load ${url}: HTTP ${response.status}`);
      if (local) {
        // Served by the service worker from its cache: compiled from that response as it is,
        // so that the browser reuses the code it compiled and optimised on an earlier visit
        // (a wrapped response, as below, is compiled anew every time).
        memories.set(kind, (await m.default({ module_or_path: response })).memory);
        downloaded[kind] = Number(response.headers.get('Content-Length')) || 0;
        report({ what: 'module', done: downloaded[kind], total: downloaded[kind] });
        return m;
      }
      // wasm-bindgen compiles a Response as it streams when its type is application/wasm.
      const body = countedBody(response, 'module', (p) => {
        if (p.done === p.total) downloaded[kind] = p.total;
        report(p);
      });
      const wasmResponse = new Response(body, { headers: { 'Content-Type': 'application/wasm' } });
      memories.set(kind, (await m.default({ module_or_path: wasmResponse })).memory);
      downloadedNow.add(kind);
      return m;
    })();
    modules[kind].catch(() => {
      delete modules[kind];
    });
  } else {
    // Loaded (or loading) for another LesionLab: one event says it is all here.
    modules[kind].then(
      () => report({ what: 'module', done: downloaded[kind], total: downloaded[kind] }),
      () => {},
    );
  }
  return modules[kind];
}

let codeKept = null;

/**
 * After a visit that downloaded the CPU module, once the service worker keeps it: the module is
 * compiled again from the service worker's copy, and one forward runs. Chromium keeps a module's
 * optimised code with the response it was compiled from, written when functions are optimised
 * after that compile; this visit compiled its download as it streamed (no cache entry), and the
 * next visit compiles the service worker's copy, so without this it would start on unoptimised
 * code (its first mask 0.7 s instead of 0.4 s, README). In Chromium the compile reuses the module
 * in memory; only the forward costs. Answers whether it ran: once, only for a downloaded module
 * the service worker has.
 */
function keepCompiledCode() {
  codeKept ??= (async () => {
    const lab = [...labs.values()].find((l) => l.sessions.cpu);
    const folder = moduleOf('cpu');
    if (!downloadedNow.has(folder) || !lab) return false;
    const url = new URL(`../../pkg/${folder}/lesionlab_core_bg.wasm`, import.meta.url);
    if (!(await isKept(url))) return false;
    // Never a second download: the service worker's copy or nothing.
    const kept = await fetch(url, { cache: 'only-if-cached', mode: 'same-origin' }).catch(() => null);
    if (!kept?.ok) return false;
    await WebAssembly.compileStreaming(kept);
    const s = lab.sessions.cpu;
    const mine = held.get(s);
    // The photo it holds, if any (a grey one would make the next call decode it again), in the
    // mode of its last pass, which explain and the feature maps then still reuse.
    if (mine && s.hasPhoto(mine.key)) await s.segment(mine.key, { mode: mine.mode ?? DEFAULT_MODE, refine: false });
    else await forward(s, s.fastOnly ? modeId('head', s.fastOnly) : DEFAULT_MODE);
    return true;
  })().catch(() => false);
  return codeKept;
}

/** The backend a LesionLab starts on: the CPU for 'cpu' and 'auto', WebGPU for 'webgpu'. */
async function firstKind(backend) {
  if (backend !== 'webgpu') return 'cpu';
  const missing = await webgpuAdapter();
  if (missing) throw fail('device', `${missing}; use the backend 'cpu' or 'auto'`);
  return 'webgpu';
}

/** Loads the module `backend` starts on, reporting its download, while the page fetches weights. */
async function prepare({ backend, threads }, report) {
  if (backend === 'auto') webgpuAdapter(); // asked now, while the module downloads
  chooseCpuModule(threads);
  const kind = await firstKind(backend);
  await wasm(kind, report);
  return { result: { kind: moduleOf(kind) } };
}

// Every LesionLab of the page: sid -> { model, size, weights, source, version, sessions:
// { cpu, webgpu }, active, note, ms }. The weights stay here so that the WebGPU session, made
// later, starts from the same ones, and a switch never loses a loaded weights file.
const labs = new Map();

async function session(kind, { model, weights, source, size }) {
  const m = await wasm(kind);
  return m.Session.create(model, kind, weights, source, size ?? undefined);
}

async function open({ sid, model, backend, weights, source, size, takeover, threads }) {
  chooseCpuModule(threads); // a worker restarted after a crash has had no prepare
  const lab = { model, size, weights: new Uint8Array(weights), source, version: 0, sessions: {}, note: null, ms: {} };
  lab.firstCall = new Promise((done) => {
    lab.called = done;
  });
  // Settled once the session has whole weights (a quick-start file's wait for loadWeights).
  lab.whole = new Promise((done) => {
    lab.madeWhole = done;
  });
  const kind = await firstKind(backend);
  lab.sessions[kind] = await session(kind, lab);
  lab.active = kind;
  if (!lab.sessions[kind].fastOnly) lab.madeWhole();
  labs.set(sid, lab);
  if (backend === 'auto') {
    // Where the browser answers at once (no WebGPU), the note comes with the session; a slow
    // answer (a GPU process starting) never holds the first mask back: onBackend tells it later.
    const quick = await Promise.race([webgpuAdapter(), new Promise((done) => setTimeout(() => done(undefined), 50))]);
    if (quick) lab.note = `${quick}, so the CPU runs the model`;
    else upgrade(sid, lab, takeover ?? 'faster');
  }
  const s = lab.sessions[kind];
  return {
    result: {
      backend: kind,
      threads: threadsOf(kind),
      modes: modesOf(s),
      inputSize: s.inputSize,
      note: lab.note,
      quickStartLevel: s.fastOnly ?? null,
    },
  };
}

function tell(sid, lab, reason) {
  if (labs.get(sid) !== lab) return;
  lab.note = reason;
  const { active } = lab;
  self.postMessage({
    type: EVENT.backend,
    sid,
    backend: active,
    threads: threadsOf(active),
    reason,
    ms: { ...lab.ms },
  });
}

const WARM_UP = 'lesionlab-warm-up';

/** One forward of a grey photo at the model's input size; its milliseconds. */
async function forward(s, mode = DEFAULT_MODE) {
  const n = s.inputSize;
  s.setPhoto(WARM_UP, new Uint8Array(n * n * 4).fill(128), n, n);
  const t0 = performance.now();
  await s.segment(WARM_UP, { mode, refine: false });
  return performance.now() - t0;
}

/** 'auto': the WebGPU session is made, warmed up and measured in the background. */
async function upgrade(sid, lab, takeover) {
  try {
    const missing = await webgpuAdapter();
    if (missing) return tell(sid, lab, `${missing}, so the CPU runs the model`);
    // The WebGPU module (four times the CPU one), its session and warm-up wait for the first
    // answer, or two quiet seconds: on two cores their compiling would delay the first mask.
    await Promise.race([lab.firstCall, new Promise((done) => setTimeout(done, 2000))]);
    // Its warm-up runs the default mode, which a quick-start file's weights cannot.
    await lab.whole;
    if (labs.get(sid) !== lab) return;
    await wasm('webgpu');
    if (labs.get(sid) !== lab) return;
    let version = lab.version;
    const gpu = await session('webgpu', lab);
    await forward(gpu); // compiles the shaders
    lab.ms.webgpu = await forward(gpu);
    if (labs.get(sid) !== lab) return gpu.free();
    // Weights loaded or fine-tuned meanwhile (the loop: they may change again while loading).
    while (version !== lab.version) {
      version = lab.version;
      gpu.loadWeights(lab.weights, lab.source);
    }
    lab.sessions.webgpu = gpu;
    if (takeover === 'faster') {
      // The CPU measured in its own lane, between the page's requests; it drops the photo the
      // CPU session holds (the next call decodes it again).
      lab.ms.cpu = await inModelLane(() => (labs.get(sid) === lab ? forward(lab.sessions.cpu) : Infinity));
      if (!(lab.ms.webgpu < lab.ms.cpu)) {
        // Not kept: its memory and the weights' copies would serve nothing.
        delete lab.sessions.webgpu;
        gpu.free();
        return tell(
          sid,
          lab,
          `WebGPU is ready but slower here (${Math.round(lab.ms.webgpu)} ms against ${Math.round(lab.ms.cpu)} ms on the CPU per forward), so the CPU runs the model`,
        );
      }
    }
    lab.active = 'webgpu';
    const why =
      takeover === 'faster'
        ? `WebGPU took over: ${Math.round(lab.ms.webgpu)} ms against ${Math.round(lab.ms.cpu)} ms on the CPU per forward`
        : 'WebGPU took over once its shaders were compiled';
    tell(sid, lab, why);
  } catch (err) {
    tell(sid, lab, `WebGPU failed (${messageOf(err)}), so the CPU runs the model`);
  }
}

/** After weights changed in `kind`'s session: the other session and the kept bytes follow. */
async function follow(lab, kind) {
  const bytes = await lab.sessions[kind].exportWeights();
  lab.weights = bytes;
  lab.version++;
  for (const [other, s] of Object.entries(lab.sessions)) if (other !== kind) s.loadWeights(bytes, lab.source);
}

function close({ sid }) {
  const lab = labs.get(sid);
  labs.delete(sid);
  lab?.madeWhole(); // an upgrade waiting for the whole weights ends
  for (const s of Object.values(lab?.sessions ?? {})) s.free();
  return { result: null };
}

/**
 * Per mode (keyed by the ids of `MODES`: look a mode up with `modeId`): the layers it computes,
 * with what they do, and each method's default layer.
 */
function modesOf(s) {
  return Object.fromEntries(
    MODES.map((mode) => [
      mode,
      {
        layers: s.layersIn(mode),
        defaults: Object.fromEntries(METHODS.map((method) => [method, s.defaultLayer(method, mode)])),
      },
    ]),
  );
}

function labOf(sid) {
  const lab = labs.get(sid);
  if (!lab) throw fail('bad-argument', 'LesionLab is not ready: create() did not finish, or it was disposed');
  return lab;
}

/** The session the next request of `sid` runs on, its backend and the threads it computes on. */
function current(sid) {
  const lab = labOf(sid);
  return { lab, s: lab.sessions[lab.active], backend: lab.active, threads: threadsOf(lab.active) };
}

// The photo each session holds: its key, size and the mode of its last pass (`mode`). A call
// with the same key neither decodes nor resizes it again.
const held = new WeakMap();

/** Makes `s` hold the photo of `key`, decoding it only when it holds another. */
async function hold(s, { source, key, name }) {
  const mine = held.get(s);
  if (mine?.key === key && s.hasPhoto(key)) {
    if (source instanceof ImageBitmap) source.close();
    return { ...mine, decoded: false, ms: 0 };
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
  held.set(s, { key, width, height });
  return { key, width, height, decoded: true, ms: performance.now() - t0 };
}

async function segment(args) {
  const { s, backend, threads } = current(args.sid);
  const { width, height, decoded, ms: preprocess } = await hold(s, args);
  const r = await s.segment(args.key, {
    mode: args.mode,
    tta: Boolean(args.tta),
    threshold: args.threshold,
    lesions: args.lesions,
    refine: args.refine,
    box: args.box,
    points: args.points ?? [],
  });
  if (!args.tta) held.get(s).mode = args.mode;
  const t1 = performance.now();
  // The crate's mask, by the caller's threshold: the one rule (`is_lesion` in src/rules.rs).
  const { probability, mask } = r;
  const ms = { preprocess, model: r.ms.model, postprocess: r.ms.postprocess + (performance.now() - t1) };
  const result = {
    width,
    height,
    mask,
    probability,
    check: r.check,
    lesion: r.lesion,
    refined: r.refined,
    ms,
    decoded,
    passes: r.passes,
    backend,
    threads,
  };
  const transfer = [mask.buffer, probability.buffer];
  if (args.heads) {
    // U-Net++'s deep-supervision heads, each alone (the crate refuses other models).
    result.heads = (await s.heads(args.key)).map((h) => ({ ...h, mask: thresholdMask(h.probability, args.threshold) }));
    result.passes += result.heads.length;
    for (const h of result.heads) transfer.push(h.mask.buffer, h.probability.buffer);
  }
  return { result, transfer };
}

/** A folder of photos and expert masks scored with this LesionLab's model (`lab.evaluate`). */
async function evaluateFolder(args, report) {
  const { s, backend, threads } = current(args.sid);
  const { evaluate } = await import('./worker-evaluate.js');
  const out = await evaluate(s, await wasm(backend), args, report);
  return { result: { ...out.result, backend, threads }, transfer: out.transfer };
}

/** The layer explorer: one layer's most active feature maps. */
async function featureMaps(args) {
  const { s, backend, threads } = current(args.sid);
  const { width, height, decoded } = await hold(s, args);
  const f = await s.featureMaps(args.key, args.layer ?? undefined, args.count, args.mode);
  return { result: { ...f, width, height, decoded, backend, threads }, transfer: f.channels.map((c) => c.map.buffer) };
}

async function explain(args) {
  const { s, backend, threads } = current(args.sid);
  const { width, height, decoded } = await hold(s, args);
  const h = await s.explain(args.key, args.method, args.layer ?? undefined, args.target, args.mode);
  return {
    result: {
      width,
      height,
      heatmap: h.heatmap,
      layer: h.layer,
      method: args.method,
      meanLogit: h.meanLogit,
      blankNote: h.blankNote,
      decoded,
      passes: h.passes,
      backend,
      threads,
    },
    transfer: [h.heatmap.buffer],
  };
}

/** How sure the model is about a photo: its eight test-time views compared. */
async function uncertainty(args) {
  const { s, backend, threads } = current(args.sid);
  const { width, height, decoded } = await hold(s, args);
  const u = await s.uncertainty(args.key, args.mode, args.threshold ?? THRESHOLD);
  return { result: { ...u, width, height, decoded, backend, threads, method: 'tta' }, transfer: [u.spread.buffer] };
}

/** Several models' probability maps of one photo compared (the crate's `over_models`). */
async function compareMaps({ sid, maps, width, height, threshold }) {
  const { backend, threads } = current(sid);
  const core = await wasm(backend);
  const u = core.compareMaps(maps, width, height, threshold ?? THRESHOLD);
  return { result: { ...u, method: 'models', threads }, transfer: [u.spread.buffer] };
}

/** The ABCD figures of a mask on its photo (the crate's `describe`). */
async function describe({ sid, mask, width, height, source, name, mmPerPixel }) {
  const core = await wasm(current(sid).backend);
  const mm = mmPerPixel ?? undefined;
  if (source instanceof Blob) {
    return {
      result: core.describeLesionFile(mask, width, height, new Uint8Array(await source.arrayBuffer()), name, mm),
    };
  }
  const pixels = await pixelsOf(source, name);
  return { result: core.describeLesion(mask, width, height, pixels.rgba, pixels.width, pixels.height, mm) };
}

async function exportWeights({ sid }) {
  const bytes = await current(sid).s.exportWeights();
  return { result: bytes.buffer, transfer: [bytes.buffer] };
}

function loadWeights({ sid, weights, source }) {
  const lab = labOf(sid);
  const bytes = new Uint8Array(weights);
  // The session in use checks them first: refused weights change nothing anywhere.
  lab.sessions[lab.active].loadWeights(bytes, source);
  for (const [kind, s] of Object.entries(lab.sessions)) if (kind !== lab.active) s.loadWeights(bytes, source);
  Object.assign(lab, { weights: bytes, source, version: lab.version + 1 });
  lab.madeWhole();
  // After a quick-start file the whole file's input size applies.
  return { result: { inputSize: lab.sessions[lab.active].inputSize } };
}

/** Fine-tuning on the session in use when it starts; the weights it ends with reach the others. */
async function train(sid, run) {
  const { lab, s, backend, threads } = current(sid);
  const out = await run(s, await wasm(backend));
  if (out.result.outcome === 'finished') await follow(lab, backend);
  return { result: { ...out.result, backend, threads } };
}

async function handle(op, args, report) {
  try {
    return await route(op, args, report);
  } finally {
    if (MODEL_OPS.includes(op)) labs.get(args.sid)?.called();
  }
}

async function route(op, args, report) {
  switch (op) {
    case OP.prepare:
      return prepare(args, report);
    case OP.open:
      return open(args);
    case OP.close:
      return close(args);
    case OP.segment:
      return segment(args);
    case OP.explain:
      return explain(args);
    case OP.describe:
      return describe(args);
    case OP.uncertainty:
      return uncertainty(args);
    case OP.featureMaps:
      return featureMaps(args);
    case OP.compareMaps:
      return compareMaps(args);
    case OP.finetune:
      return train(args.sid, async (s, core) => (await tuning()).finetune(s, core, args, report));
    case OP.resumeFinetune:
      return train(args.sid, async (s, core) => (await tuning()).resumeFinetune(s, core, report));
    case OP.evaluate:
      return evaluateFolder(args, report);
    case OP.pairFiles: {
      // Names only: the CPU module is enough, and no model or weights are loaded for it.
      const { entries, pairs, skipped } = await (await tuning()).pairFiles(await wasm('cpu'), args.files);
      return { result: { files: entries.length, pairs: pairs.length, skipped } };
    }
    case OP.exportWeights:
      return exportWeights(args);
    case OP.keepCompiledCode:
      return { result: await keepCompiledCode() };
    case OP.memory: {
      labOf(args.sid);
      // Chromium's non-standard heap size; null where a browser has none.
      const heap = performance.memory?.usedJSHeapSize ?? null;
      const wasmBytes = [...memories.values()].reduce((sum, m) => sum + m.buffer.byteLength, 0);
      return {
        result: {
          wasmBytes,
          workerHeapBytes: heap,
          modules: Object.fromEntries([...memories].map(([k, m]) => [k, m.buffer.byteLength])),
        },
      };
    }
    case OP.loadWeights:
      return loadWeights(args);
    case OP.preview:
      return { result: await (await tuning()).preview(args.n) };
    case OP.clearRun:
      await clearRun();
      return { result: null };
    case OP.panic: {
      const core = await wasm(current(args.sid).backend);
      const panic = args.onPool ? core.panicOnPoolForTest : core.panicForTest;
      if (!panic) throw fail('bad-argument', 'this module has no such test hook (pkg-scripts/test builds them)');
      panic();
      return { result: null };
    }
    default:
      throw fail('bad-argument', `unknown request '${op}'`);
  }
}
