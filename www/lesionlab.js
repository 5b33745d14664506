// LesionLab's JavaScript API: skin-lesion segmentation, CAM and Grad-CAM in the browser, on
// WebGPU or the CPU, with nothing uploaded. A plain ES module: import it from any static page.
//
//   import { LesionLab } from './www/lesionlab.js';
//   const lab = await LesionLab.create({ model: 'unetpp', backend: 'auto' });
//   const r = await lab.segment(file, { threshold: 0.5 });
//   const h = await lab.explain(file, { method: 'gradcam' });
//   lab.dispose();
//
// The models run in the page's one Web Worker (`worker.js`, through `engine.js`), which every
// LesionLab of the page shares; every call is answered by a promise that resolves or rejects
// with an Error whose message says what went wrong, a crash included, and whose `kind`
// ('weights', 'unreadable-image', 'device', ...; see errors.js) says what kind of thing it was.

import { call, currentGeneration, fetchWeights, join, post, prepare } from './engine.js';
import { fail } from './errors.js';
import { DEFAULT_MODE, FEATURE_MAPS, MODELS as MODEL_RULES, THRESHOLD } from './rules.js';
import { clearRun, loadRun } from './store.js';

export { LesionLabError } from './errors.js';

const MODELS = MODEL_RULES.map((m) => m.id);
const BACKENDS = ['auto', 'webgpu', 'cpu'];
const TAKEOVERS = ['faster', 'ready'];

/** URL of a shipped default weights file. */
export function defaultWeightsUrl(model) {
  return new URL(`../weights/${model}.safetensors`, import.meta.url);
}

async function weightsBytes(weights, model, report = () => {}) {
  const got = (bytes, source) => {
    report({ what: 'weights', done: bytes.byteLength, total: bytes.byteLength });
    return { bytes, source };
  };
  if (weights === undefined || weights === null) weights = defaultWeightsUrl(model);
  if (weights instanceof ArrayBuffer) return got(weights.slice(0), 'the weights file');
  if (ArrayBuffer.isView(weights)) {
    return got(weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength), 'the weights file');
  }
  if (typeof Blob !== 'undefined' && weights instanceof Blob) {
    return got(await weights.arrayBuffer(), weights.name || 'the weights file');
  }
  if (weights instanceof URL || typeof weights === 'string') {
    const url = new URL(weights, globalThis.document?.baseURI ?? globalThis.location.href).href;
    return { bytes: await fetchWeights(url, report), source: url };
  }
  throw fail('bad-argument', 'weights must be an ArrayBuffer, a typed array, a Blob, a URL or a URL string');
}

// The worker keeps the last photo it was given, decoded and resized, under a key: the same
// Blob (never changed) or ImageData object given again is not decoded again, so that
// segment, CAM and Grad-CAM of one photo decode it once. Other sources get a new key each time.
const photoKeys = new WeakMap();
let lastKey = 0;
function photoKey(source) {
  const keyed = source instanceof Blob || (typeof ImageData !== 'undefined' && source instanceof ImageData);
  if (!keyed) return `photo-${++lastKey}`;
  if (!photoKeys.has(source)) photoKeys.set(source, `photo-${++lastKey}`);
  return photoKeys.get(source);
}

function sourceName(source) {
  return (source && typeof source.name === 'string' && source.name) || 'image';
}

// What the worker can receive: Blobs, ImageBitmaps and ImageData as they are; anything
// drawable (an <img>, a canvas, a video frame) as a fresh ImageBitmap.
async function transferable(source) {
  if (source instanceof Blob || source instanceof ImageData) return { source, transfer: [] };
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete) await source.decode();
    if (!source.naturalWidth) throw fail('unreadable-image', `${source.src || 'image'}: the image element has no loaded picture`);
  }
  if (source instanceof ImageBitmap) {
    const copy = await createImageBitmap(source);
    return { source: copy, transfer: [copy] };
  }
  try {
    const bitmap = await createImageBitmap(source);
    return { source: bitmap, transfer: [bitmap] };
  } catch {
    throw fail('bad-argument', 'unsupported source: pass a Blob, File, ImageBitmap, ImageData or HTMLImageElement');
  }
}

// 'accurate', or 'fastL' (fast mode of level L; 2 when no level is given); no mode is
// DEFAULT_MODE, U-Net++'s deepest head alone.
function parseMode(options) {
  const mode = String(options.mode ?? DEFAULT_MODE).toLowerCase();
  if (mode === 'fast') return `fast${options.level ?? 2}`;
  return mode;
}

export class LesionLab {
  #member; // this LesionLab in the shared worker: `sid` names it there
  #generation = -1; // the worker its model was opened in
  #reopening = null;
  #onBackend = null;
  #options;
  #weights;
  // The last weights a model call (segment, explain) succeeded with: a worker restarted after
  // a panic comes back with these rather than with weights that never worked.
  #worked = null;
  #info;
  #whole = Promise.resolve();
  #wholeReport = () => {};
  #disposed = false;

  constructor(token) {
    if (token !== LesionLab.#token) throw fail('bad-argument', 'use `await LesionLab.create(options)`');
  }

  static #token = Symbol('LesionLab');

  /**
   * Loads a model. `options.model`: 'unet' | 'unetpp' | 'pspnet' (default 'unetpp');
   * `options.backend`: 'auto' | 'webgpu' | 'cpu' (default 'auto'); `options.weights`: an
   * ArrayBuffer, Blob or URL of a safetensors file (default: the shipped weights);
   * `options.size`: the model's input size (default: the one the weights record);
   * `options.onProgress(p)`: the downloads as they arrive, `{ what: 'module' | 'weights' |
   * 'quick-start', done, total }` in bytes, each ending with `done === total` (a module or weights file another
   * LesionLab of the page already loaded gives one event at 100%).
   *
   * `options.quickStart` (default false; with the shipped weights of U-Net++, the one model
   * that has a quick-start file, see `MODELS` in rules.js): resolve as soon as the quick-start
   * file is loaded (U-Net++'s fast mode level 2: 6% of the weights' bytes, reported as `what:
   * 'quick-start'`), so the first mask comes sooner; the whole weights then download after the
   * module (not competing with it) and load in the background. Until they are in, `lab.fastOnly`
   * is that level: `segment`, `explain`, `featureMaps` and `uncertainty` in a fast mode up to it
   * run at once, every other call waits for the whole weights; `lab.whole` resolves when they
   * are in (and rejects, as those calls do, if they cannot be loaded).
   *
   * `backend: 'auto'` is CPU first, WebGPU when ready: the first results come from the CPU
   * module (the smaller download); meanwhile the WebGPU module loads in the background, compiles
   * its shaders on one warm-up forward, and takes over the calls after that when it is faster
   * than the CPU on the same input (`options.takeover`: 'faster', the default, or 'ready': as
   * soon as it is warm). `options.onBackend({ backend, reason, ms })` is called when that is
   * settled; every result says the `backend` it ran on, and `lab.backend` where the next runs.
   */
  static async create(options = {}) {
    const model = options.model ?? 'unetpp';
    const backend = options.backend ?? 'auto';
    const takeover = options.takeover ?? 'faster';
    if (!MODELS.includes(model)) throw fail('bad-argument', `unknown model '${model}': expected ${MODELS.join(', ')}`);
    if (!BACKENDS.includes(backend)) throw fail('bad-argument', `unknown backend '${backend}': expected ${BACKENDS.join(', ')}`);
    if (!TAKEOVERS.includes(takeover)) throw fail('bad-argument', `unknown takeover '${takeover}': expected ${TAKEOVERS.join(', ')}`);
    const lab = new LesionLab(LesionLab.#token);
    lab.#options = { model, backend, size: options.size, takeover };
    lab.#onBackend = options.onBackend ?? null;
    lab.#member = join({ crashed: (message) => lab.#crashed(message), backend: (event) => lab.#backendChanged(event) });
    const report = options.onProgress
      ? (p) => { try { options.onProgress({ ...p }); } catch (err) { console.error('onProgress failed:', err); } }
      : () => {};
    const shipped = options.weights === undefined || options.weights === null;
    const quick = options.quickStart && shipped ? MODEL_RULES.find((m) => m.id === model).quickStart : null;
    try {
      // The module downloads (and compiles) in the worker while the weights download here.
      const [weights] = await Promise.all([
        quick
          ? weightsBytes(new URL(`../weights/${quick.file}`, import.meta.url), model, (p) => report({ ...p, what: 'quick-start' }))
          : weightsBytes(options.weights, model, report),
        prepare({ backend }, { onProgress: report }),
      ]);
      lab.#weights = weights;
      await lab.#open();
      if (quick) lab.#startWhole(report);
    } catch (err) {
      lab.dispose();
      throw err;
    }
    return lab;
  }

  /** After a quick start: fetches the whole weights (the module is in by now) and loads them. */
  #startWhole(report) {
    this.#whole = this.#loadWhole(report);
    // A failure is reported by the calls that wait for it, and the next of them tries again.
    this.#whole.catch(() => {});
    this.#wholeReport = report;
  }

  async #loadWhole(report) {
    const whole = await weightsBytes(undefined, this.#options.model, report);
    if (this.#disposed) return;
    // From now on a restart after a crash reopens with the shipped whole weights, never with the
    // quick-start ones (which cannot run most calls).
    this.#weights = whole;
    this.#worked = whole;
    await this.#ready();
    if (this.#info.fastOnly) {
      const { inputSize } = await this.#call('load-weights', { weights: whole.bytes.slice(0), source: whole.source });
      this.#info = { ...this.#info, inputSize };
    }
    this.#info = { ...this.#info, fastOnly: null };
  }

  /**
   * Whether a call in a mode (`options.mode`, `options.level` as in `segment`) runs on the
   * weights loaded now: false while only the quick-start weights are in and the mode needs more
   * of the network (the call then waits for the whole weights).
   */
  runsNow(options = {}) { return this.#loaded(parseMode(options)); }

  /** Whether the weights loaded now run `mode` (null: anything, as training needs). */
  #loaded(mode) {
    const level = this.#info?.fastOnly;
    const fast = Number(/^fast([1-4])$/.exec(mode ?? '')?.[1]);
    return !level || (fast > 0 && fast <= level);
  }

  /** Waits for the whole weights unless the quick-start ones can run `mode` (null: anything). */
  async #needs(mode) {
    if (this.#loaded(mode)) return;
    const attempt = this.#whole;
    try {
      await attempt;
    } catch (err) {
      if (this.#whole === attempt && !this.#disposed) this.#startWhole(this.#wholeReport);
      throw err;
    }
  }

  /**
   * With `quickStart`, the U-Net++ fast-mode level the quick-start weights run until the whole
   * weights are in; otherwise null.
   */
  get fastOnly() { return this.#info.fastOnly ?? null; }

  /**
   * Resolves once the whole weights are loaded (at once without `quickStart`, or when the
   * LesionLab is disposed first); rejects if they could not be (the next call that needs them
   * tries again, and `whole` is then that new attempt).
   */
  get whole() { return this.#whole; }

  /** The model session in the worker, from the weights in use. */
  async #open() {
    const { bytes, source } = this.#weights;
    const { model, backend, size, takeover } = this.#options;
    this.#info = await this.#call('open', { model, backend, size, takeover, weights: bytes.slice(0), source });
    this.#generation = currentGeneration();
  }

  // The worker cannot be trusted after a panic: the next call opens this model in a fresh one
  // with the last weights that worked (weights loaded since and never used successfully are
  // set aside). Returns the error this LesionLab's pending calls fail with.
  #crashed(message) {
    let restart = 'The next call restarts it.';
    if (this.#worked && this.#weights !== this.#worked) {
      restart = `The next call restarts it with the last weights that worked (${this.#worked.source}), not ${this.#weights.source}.`;
      this.#weights = this.#worked;
    }
    return fail('internal', `LesionLab stopped on an internal error: ${message}. ${restart}`);
  }

  #backendChanged({ backend, reason, ms }) {
    this.#info = { ...this.#info, backend, note: reason };
    try {
      this.#onBackend?.({ backend, reason, ms });
    } catch (err) {
      console.error('onBackend failed:', err);
    }
  }

  #call(op, args = {}, transfer = [], onProgress = null) {
    return call(op, { ...args, sid: this.#member.sid }, { transfer, onProgress });
  }

  async #ready() {
    if (this.#disposed) throw fail('bad-argument', 'this LesionLab was disposed');
    // After a crash: calls made together share one restart.
    if (this.#generation !== currentGeneration()) {
      this.#reopening ??= this.#open().finally(() => { this.#reopening = null; });
      await this.#reopening;
    }
  }

  /** Where the next call runs: 'webgpu' or 'cpu' (with 'auto' it starts as 'cpu'). */
  get backend() { return this.#info.backend; }

  /** Why the backend is the one it is ('auto' without WebGPU, or after WebGPU was measured), or null. */
  get backendNote() { return this.#info.note; }

  /** 'unet', 'unetpp' or 'pspnet'. */
  get model() { return this.#options.model; }

  /** The side of the square the model sees; photos are resized to it and back. */
  get inputSize() { return this.#info.inputSize; }

  #mode(options) {
    const mode = parseMode(options);
    const info = this.#info.modes[mode];
    if (!info) throw fail('bad-argument', `unknown mode '${mode}': expected accurate, or fast with a level of 1 to 4`);
    return info;
  }

  /**
   * The layers `explain` can read in a mode (`options.mode`, `options.level` as in `segment`;
   * default: the deepest head, every layer). A U-Net++ fast mode below level 4 computes only
   * part of them.
   */
  layers(options = {}) { return this.#mode(options).layers.map((l) => l.name); }

  /** `layers(options)` with what each does: `[{ name, description }]`, input side first. */
  layerInfo(options = {}) { return this.#mode(options).layers.map((l) => ({ ...l })); }

  /** The layer `explain` reads for `method` ('gradcam' | 'cam' | 'activation') in a mode. */
  defaultLayer(method = 'gradcam', options = {}) {
    const layer = this.#mode(options).defaults[method];
    if (!layer) throw fail('bad-argument', `unknown method '${method}': expected gradcam, cam or activation`);
    return layer;
  }

  /**
   * Segments a photo (Blob | File | ImageBitmap | ImageData | HTMLImageElement). The photo is
   * decoded once per Blob or ImageData object: `explain` of the same object reuses it (and CAM
   * and the mean activation reuse the segmenting pass), so give a new ImageData for new pixels.
   * `options.threshold` (default 0.5); `options.mode` (U-Net++ only): none for its deepest
   * head alone (`DEFAULT_MODE` of rules.js, 'fast4': it scores best, see the model card),
   * 'accurate' for the report's mean of its four heads, 'fast' with `options.level` 1-4
   * (default 2) for head L and only the nodes it needs; `options.tta`: average the model over the photo's eight
   * flips and quarter turns (test-time augmentation: eight times the model time, a steadier
   * mask; default false). Resolves to `{ width, height, mask, probability, ms }`
   * at the photo's own size: `mask` is 0 or 255 per pixel, `probability` in [0, 1]; `decoded`
   * whether this call decoded the photo, `passes` the forward passes run on it so far. `check`
   * says whether the photo looks like dermoscopy: `{ looksLikeDermoscopy, warning, reasons,
   * saturation, detail, offSkin }`; on anything else the mask means nothing. `backend` says
   * where it ran. `options.heads` (U-Net++ only): also run each of its four deep-supervision
   * heads alone and add `heads: [{ level, ms, mask, probability }]`, shallowest first; head L is
   * the fast mode of level L (`ms` its model time), and the accurate mode averages the four.
   * `options.lesions`: 'one' (default) keeps the one lesion the photo was taken of (the region
   * with the most probability near the centre) and fills its holes, 'all' every region the
   * model marks; `options.refine` (default true): a second pass on a crop around that lesion,
   * pasted back; `options.box`: `{ x, y, width, height }` in the photo's pixels (after EXIF
   * orientation): the model looks inside the box only. The result's `lesion` is the kept
   * lesion's bounding box and `refined` the crop the second pass saw (both `{ x, y, width,
   * height }` in the photo's pixels, or null).
   */
  async segment(source, options = {}) {
    const threshold = options.threshold ?? THRESHOLD;
    if (!(threshold >= 0 && threshold <= 1)) throw fail('bad-argument', `threshold must be between 0 and 1, got ${threshold}`);
    await this.#needs(options.heads ? null : parseMode(options));
    await this.#ready();
    const { source: s, transfer } = await transferable(source);
    const weights = this.#weights;
    const result = await this.#call('segment', {
      source: s, key: photoKey(source), name: sourceName(source), threshold, mode: parseMode(options), tta: Boolean(options.tta),
      heads: Boolean(options.heads), lesions: options.lesions, refine: options.refine, box: options.box,
    }, transfer);
    this.#worked = weights;
    return result;
  }

  /**
   * A heatmap explaining the segmentation. `options.method`: 'gradcam' (default) | 'cam' |
   * 'activation'; `options.layer`: one of `layers()` (default: the report's layer for the
   * method and mode, see `defaultLayer`); `options.target`: 'lesion' (default) | 'center' |
   * 'pixel:Y,X'; `options.mode`/`level` as in `segment`. Resolves to `{ width, height, heatmap,
   * layer, method, meanLogit, blankNote, decoded, passes }`, `heatmap` in [0, 1] at the photo's size, `meanLogit`
   * the model's mean output over the photo (the report's CAM is blank when it is negative) and
   * `blankNote` why the map is blank, or null, `backend` where it ran.
   */
  async explain(source, options = {}) {
    const method = options.method ?? 'gradcam';
    await this.#needs(parseMode(options));
    await this.#ready();
    const { source: s, transfer } = await transferable(source);
    const weights = this.#weights;
    const result = await this.#call('explain', {
      source: s, key: photoKey(source), name: sourceName(source), method, layer: options.layer, target: options.target ?? 'lesion',
      mode: parseMode(options),
    }, transfer);
    this.#worked = weights;
    return result;
  }

  /**
   * The layer explorer: a layer's feature maps for a photo (any `segment` source), the most
   * active channels first. `options.layer`: one of `layers()` (default: the mean activation's
   * default layer, see `defaultLayer`); `options.count` (default `FEATURE_MAPS`, 16, at most the layer's
   * channels); `mode`/`level` as in `segment`, whose last pass in the same mode is reused.
   * Resolves to `{ layer, description, shape: [C, H, W], channels: [{ index, mean, max, map }],
   * width, height, backend }`: `description` says in one line what that stage does, each `map`
   * (Float32Array, H×W, the layer's own resolution) is the channel's activation, `mean` and
   * `max` over it.
   */
  async featureMaps(source, options = {}) {
    const count = options.count ?? FEATURE_MAPS;
    if (!Number.isInteger(count) || count < 1) throw fail('bad-argument', `count must be a whole number from 1, got ${count}`);
    await this.#needs(parseMode(options));
    await this.#ready();
    const { source: s, transfer } = await transferable(source);
    const weights = this.#weights;
    const result = await this.#call('feature-maps', {
      source: s, key: photoKey(source), name: sourceName(source), layer: options.layer, count, mode: parseMode(options),
    }, transfer);
    this.#worked = weights;
    return result;
  }

  /**
   * How sure the model is about a photo (any `segment` source). `options.method`: 'tta' (the
   * default: this model on the photo's eight flips and quarter turns) or 'models' (U-Net, U-Net++
   * and PSPNet, each with its shipped weights but this one, which keeps its own); `mode`/`level`
   * as in `segment`. Resolves to `{ width, height, spread, meanSpread, disagreement, maps, method,
   * backend }`: `spread` (Float32Array, the photo's size) is per pixel the standard deviation of
   * the maps' lesion probabilities, in [0, 0.5]; `meanSpread` its mean; `disagreement` the share
   * of the photo where some maps say lesion and others not (at the 0.5 threshold).
   */
  async uncertainty(source, options = {}) {
    const method = options.method ?? 'tta';
    if (method === 'tta') {
      await this.#needs(parseMode(options));
      await this.#ready();
      const { source: s, transfer } = await transferable(source);
      return this.#call('uncertainty', { source: s, key: photoKey(source), name: sourceName(source), mode: parseMode(options) }, transfer);
    }
    if (method !== 'models') throw fail('bad-argument', `unknown method '${method}': expected tta or models`);
    const maps = [];
    let size = null;
    for (const model of MODELS) {
      // The other models open in the same worker (their weights fetched once per page).
      const lab = model === this.model ? this : await LesionLab.create({ model, backend: this.backend });
      try {
        const r = await lab.segment(source);
        maps.push(r.probability);
        size = { width: r.width, height: r.height };
      } finally {
        if (lab !== this) lab.dispose();
      }
    }
    return this.#call('compare-maps', { maps, ...size }, maps.map((m) => m.buffer));
  }

  /**
   * The mask and the ABCD rule: teaching figures, not a diagnosis. `mask`: a `segment` result,
   * or `{ mask, width, height }` with one 0-255 value per pixel; `photo`: the photo it belongs to
   * (any `segment` source, of the mask's size); `options.mmPerPixel` adds the diameter in
   * millimetres. Resolves to `{ areaPx, areaShare, asymmetry: [major, minor], compactness,
   * roughness, perimeterPx, colours: [{ name, share, present }], diameterPx, diameterMm }`:
   * the asymmetry is the share of the lesion its mirror image about each principal axis misses,
   * compactness 4πA/P² (1 for a disc), roughness the outline's length over its convex hull's,
   * the colours the six of dermoscopy (white, red, light brown, dark brown, blue-grey, black),
   * present from 5% of the lesion.
   */
  async describe(mask, photo, options = {}) {
    const { mask: values, width, height } = mask ?? {};
    if (!(values instanceof Uint8Array) || !(width > 0) || !(height > 0)) {
      throw fail('bad-argument', 'describe needs a mask: a segment result, or { mask: Uint8Array, width, height }');
    }
    await this.#ready();
    const { source, transfer } = await transferable(photo);
    return this.#call('describe', {
      mask: values, width, height, source, name: sourceName(photo), mmPerPixel: options.mmPerPixel ?? null,
    }, transfer);
  }

  /**
   * Fine-tunes this model on the user's own pairs, in the worker, with nothing uploaded.
   * `files`: File[] of images, masks, folders' files and/or zips (official ISIC layout or one zip
   * holding both), paired by ISIC id. Options (defaults): epochs (1), batchSize (4), lr (1e-3),
   * size (256), valFraction (0.2), augment (true), seed (0), onProgress(p), signal (AbortSignal).
   * `p.kind` is 'paired' | 'loading' | 'step' | 'paused' | 'validating' | 'epoch' | 'saved' | 'warning'; steps (and
   * 'paused', sent once the run has stopped after the step it names) carry
   * { epoch, step, steps, loss }, epochs add { trainLoss, valLoss, valIoU, valDice }.
   * A checkpoint is stored in IndexedDB after every epoch (see `LesionLab.savedRun`).
   * Resolves to { paired, skipped: [{ file, reason }], history: [{ epoch, trainLoss, valLoss,
   * valIoU, valDice }], before, outcome: 'finished' | 'cancelled', train, val }; when finished,
   * `segment` uses the fine-tuned weights.
   */
  async finetune(files, options = {}) {
    const list = [...(files ?? [])];
    if (!list.length) throw fail('bad-argument', 'finetune needs files: images and masks, or zips of them');
    await this.#needs(null);
    await this.#ready();
    const { onProgress, signal, ...settings } = options;
    return this.#training('finetune', { files: list, options: settings }, onProgress, signal);
  }

  /**
   * What `finetune` would find in `files`, by name only (zips opened, nothing decoded):
   * { files, pairs, skipped: [{ file, reason }] } with `files` counting zip entries.
   */
  async pairFiles(files) {
    return LesionLab.pairFiles(files);
  }

  /** `pairFiles` without a model: only the (shared) CPU module is loaded for it. */
  static async pairFiles(files) {
    return call('pair-files', { files: [...(files ?? [])] });
  }

  /** Resumes the fine-tuning run saved in IndexedDB (after a reload); options as `finetune`. */
  async resumeFinetune(options = {}) {
    await this.#needs(null);
    await this.#ready();
    return this.#training('resume-finetune', {}, options.onProgress, options.signal);
  }

  async #training(op, args, onProgress, signal) {
    const cancel = () => this.cancelTraining();
    signal?.addEventListener('abort', cancel);
    try {
      const run = await this.#call(op, args, [], onProgress);
      if (run.outcome === 'finished') {
        // A restarted worker (after a crash) must come back with the fine-tuned weights.
        this.#weights = { bytes: await this.exportWeights(), source: 'the fine-tuned weights' };
      }
      return run;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** Pauses fine-tuning after the current step. */
  pauseTraining() { post('control', { action: 'pause' }); }

  /** Goes on after `pauseTraining`. */
  resumeTraining() { post('control', { action: 'resume' }); }

  /** Stops fine-tuning after the current step; the last epoch's checkpoint stays saved. */
  cancelTraining() { post('control', { action: 'cancel' }); }

  /**
   * What the page's LesionLab worker holds (all its models together): `{ wasmBytes,
   * workerHeapBytes, modules }`, the WebAssembly memory (it grows to the largest photo and model
   * run so far and never shrinks, so a worker that held a photo of 16 megapixels or more is
   * replaced once idle for 4 s; `modules` per module) and the worker's JS heap (null in browsers
   * that do not say).
   */
  async memory() {
    await this.#ready();
    return this.#call('memory', {});
  }

  /** The current weights (fine-tuned after `finetune`) as a safetensors ArrayBuffer. */
  async exportWeights() {
    await this.#needs(null);
    await this.#ready();
    return this.#call('export-weights', {});
  }

  /**
   * Replaces the weights with a safetensors file (ArrayBuffer, Blob or URL), checked first:
   * another model's weights or wrong shapes are refused and the current weights stay.
   */
  async loadWeights(weights) {
    const loaded = await weightsBytes(weights, this.#options.model);
    await this.#needs(null);
    await this.#ready();
    await this.#call('load-weights', { weights: loaded.bytes.slice(0), source: loaded.source });
    this.#weights = loaded;
  }

  /**
   * Up to `n` validation pairs of the last fine-tuning run with the masks of the starting and
   * the fine-tuned weights: [{ id, size, rgba, truth, before, after }] at the training size.
   */
  async finetunePreview(n = 4) {
    await this.#needs(null);
    await this.#ready();
    return this.#call('preview', { n });
  }

  /**
   * The fine-tuning run saved in this browser, without its data: { model, settings, paired,
   * history, before, status: 'running' | 'finished' | 'cancelled', hasCheckpoint, savedAt },
   * or null. 'running' means it stopped unexpectedly (a reload, a crash) and can be resumed.
   */
  static async savedRun() {
    const run = await loadRun();
    if (!run) return null;
    const { dataset, checkpoint, ...rest } = run;
    return { ...rest, hasCheckpoint: !!checkpoint };
  }

  /** Forgets the saved fine-tuning run. */
  static async discardSavedRun() {
    await clearRun();
  }

  /** Frees the model; the worker stops with the page's last LesionLab. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#member.leave(fail('cancelled', 'this LesionLab was disposed'));
  }

  /** For the browser tests: makes the wasm module panic. */
  async _panicForTest() {
    await this.#ready();
    return this.#call('panic', {});
  }
}
