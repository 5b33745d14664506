// LesionLab's JavaScript API: skin-lesion segmentation, CAM and Grad-CAM in the browser, on
// WebGPU or the CPU, with nothing uploaded. A plain ES module: import it from any static page.
//
//   import { LesionLab } from './www/api/lesionlab.js'; // or './www/lesionlab.js', its old path
//   const lab = await LesionLab.create({ model: 'unetpp', backend: 'auto' });
//   const r = await lab.segment(file, { threshold: 0.5 });
//   const h = await lab.explain(file, { method: 'gradcam' });
//   lab.dispose();
//
// The models run in the page's one Web Worker (`../worker/worker.js`, through `engine.js`, with
// the messages of `protocol.js`), which every LesionLab of the page shares; every call is
// answered by a promise that resolves or rejects with an Error whose message says what went
// wrong, a crash included, and whose `kind` ('weights', 'unreadable-image', 'device', ...; see
// errors.js) says what kind of thing it was. Types: `lesionlab.d.ts` beside this file.

import { call, currentGeneration, fetchWeights, join, post, prepare } from './engine.js';
import { fail } from './errors.js';
import { headLevel, modeChoices, modeId } from './modes.js';
import { CONTROL, OP } from './protocol.js';
import { FEATURE_MAPS, METHODS, MODELS as MODEL_RULES, THRESHOLD } from './rules.js';
import { startLive } from './live.js';
import { clearRun, loadRun } from './store.js';

export { LesionLabError } from './errors.js';

/** @typedef {import('./modes.js').ModeId} ModeId */
/** @typedef {'unet' | 'unetpp' | 'pspnet'} ModelId */
/** @typedef {'auto' | 'webgpu' | 'cpu'} BackendChoice Where a LesionLab runs: `auto` is the CPU first, WebGPU when ready. */
/** @typedef {'webgpu' | 'cpu'} Backend Where a call ran, or runs next. */
/** @typedef {import('./threads.js').ThreadsChoice} ThreadsChoice */
/** @typedef {'faster' | 'ready'} Takeover When WebGPU takes over with `backend: 'auto'`. */
/** @typedef {'activation' | 'cam' | 'gradcam'} Method A heatmap's method: the mean activation, CAM, Grad-CAM. */
/** @typedef {Blob | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | VideoFrame} PhotoSource */
/** @typedef {ArrayBuffer | ArrayBufferView | Blob | URL | string} WeightsSource A safetensors file. */

/**
 * A download's progress, in bytes; each ends with `done === total`.
 * @typedef {object} LoadProgress
 * @property {'module' | 'weights' | 'quick-start'} what
 * @property {number} done
 * @property {number | null} total Null while a host that sends no length is still sending.
 */

/**
 * @typedef {object} BackendEvent
 * @property {Backend} backend Where the next calls run.
 * @property {number} threads The CPU threads the next calls run on (1 on WebGPU).
 * @property {string} reason Why, in a sentence.
 * @property {{ cpu?: number, webgpu?: number }} ms A forward's milliseconds on each, when measured.
 */

/**
 * @typedef {object} CreateOptions
 * @property {ModelId} [model] Default 'unetpp'.
 * @property {BackendChoice} [backend] Default 'auto'.
 * @property {ThreadsChoice} [threads] CPU threads, where the page is cross-origin isolated: 'auto'
 *   (default: every core, up to 8) or a count; 1 where it is not. The page's first LesionLab decides.
 * @property {Takeover} [takeover] Default 'faster'.
 * @property {WeightsSource | null} [weights] Default: the shipped weights.
 * @property {number} [size] The model's input size; default: the one the weights record.
 * @property {boolean} [quickStart] Resolve once U-Net++'s quick-start file is in (default false).
 * @property {(p: LoadProgress) => void} [onProgress]
 * @property {(e: BackendEvent) => void} [onBackend]
 */

/**
 * Which of U-Net++'s outputs a call runs (other models have one, which every mode runs): none
 * for `DEFAULT_MODE` (the deepest head alone); `{ mode: 'head', level }` head 1-4 alone (default
 * 4), `{ mode: 'mean' }` the mean of the four heads; an id of `MODES` (`head1`..`head4`, `mean`).
 * The spellings of earlier releases still work: `{ mode: 'fast', level }` (default level 2) is
 * `head`, `{ mode: 'accurate' }` is `mean`, and `fast1`..`fast4` (`MODE_ALIASES`).
 * @typedef {object} ModeOptions
 * @property {string} [mode]
 * @property {number} [level]
 */

/**
 * A rectangle in the photo's pixels (after EXIF orientation).
 * @typedef {{ x: number, y: number, width: number, height: number }} Box
 */

/**
 * @typedef {ModeOptions & {
 *   threshold?: number, tta?: boolean, heads?: boolean, lesions?: 'one' | 'all', refine?: boolean, box?: Box,
 *   points?: Point[],
 * }} SegmentOptions
 */

/**
 * A click on the photo, in its pixels: `label` 1 says "this is the lesion", 0 "this is not".
 * @typedef {{ x: number, y: number, label: 0 | 1 }} Point
 */

/**
 * Whether a photo looks like dermoscopy; on anything else the mask means nothing.
 * @typedef {object} PhotoCheck
 * @property {boolean} looksLikeDermoscopy
 * @property {string | null} warning
 * @property {string[]} reasons
 * @property {number} saturation
 * @property {number} detail
 * @property {number} offSkin
 * @property {boolean} [grey]
 */

/**
 * One of U-Net++'s heads alone (`segment` with `heads: true`).
 * @typedef {{ level: number, ms: number, mask: Uint8Array, probability: Float32Array }} Head
 */

/**
 * @typedef {object} SegmentResult
 * @property {number} width
 * @property {number} height
 * @property {Uint8Array} mask 0 or 255 per pixel, at the photo's size.
 * @property {Float32Array} probability In [0, 1] per pixel.
 * @property {PhotoCheck} check
 * @property {Box | null} lesion The kept lesion's bounding box.
 * @property {Box | null} refined The crop the second pass saw.
 * @property {{ preprocess: number, model: number, postprocess: number }} ms
 * @property {boolean} decoded Whether this call decoded the photo.
 * @property {number} passes The forward passes run on the photo so far.
 * @property {Backend} backend
 * @property {number} threads The CPU threads that ran it (1 on WebGPU).
 * @property {Head[]} [heads]
 */

/**
 * @typedef {ModeOptions & { method?: Method, layer?: string, target?: string }} ExplainOptions
 */

/**
 * @typedef {object} ExplainResult
 * @property {number} width
 * @property {number} height
 * @property {Float32Array} heatmap In [0, 1], at the photo's size.
 * @property {string} layer
 * @property {Method} method
 * @property {number} meanLogit The model's mean output over the photo.
 * @property {string | null} blankNote Why the map is blank, or null.
 * @property {boolean} decoded
 * @property {number} passes
 * @property {Backend} backend
 * @property {number} threads The CPU threads that ran it (1 on WebGPU).
 */

/** @typedef {ModeOptions & { layer?: string, count?: number }} FeatureMapsOptions */

/**
 * @typedef {object} FeatureMapsResult
 * @property {string} layer
 * @property {string} description What the stage does, in one line.
 * @property {[number, number, number]} shape [C, H, W].
 * @property {{ index: number, mean: number, max: number, map: Float32Array }[]} channels
 * @property {number} width
 * @property {number} height
 * @property {boolean} decoded
 * @property {Backend} backend
 * @property {number} threads The CPU threads that ran it (1 on WebGPU).
 */

/** @typedef {ModeOptions & { method?: 'tta' | 'models', threshold?: number }} UncertaintyOptions */

/**
 * @typedef {object} UncertaintyResult
 * @property {number} width
 * @property {number} height
 * @property {Float32Array} spread Per pixel the standard deviation of the maps' probabilities.
 * @property {number} meanSpread
 * @property {number} disagreement The share of the photo some maps call lesion and others not.
 * @property {'tta' | 'models'} method
 * @property {Backend} [backend]
 * @property {number} threads The CPU threads that ran it (1 on WebGPU).
 */

/** @typedef {{ mask: Uint8Array, width: number, height: number }} MaskInput */

/**
 * @typedef {object} Description
 * @property {number} areaPx
 * @property {number} areaShare
 * @property {[number, number]} asymmetry
 * @property {number} compactness
 * @property {number} roughness
 * @property {number} perimeterPx
 * @property {{ name: string, share: number, present: boolean }[]} colours
 * @property {number} diameterPx
 * @property {number | null} diameterMm
 */

/**
 * @typedef {object} FineTuneSettings
 * @property {number} [epochs]
 * @property {number} [batchSize]
 * @property {number} [lr]
 * @property {number} [size]
 * @property {number} [valFraction]
 * @property {boolean} [augment]
 * @property {number} [seed]
 */

/** @typedef {{ kind: string, [field: string]: any }} FineTuneProgress */

/**
 * @typedef {{ onProgress?: (p: FineTuneProgress) => void, signal?: AbortSignal }} TrainingOptions
 */

/** @typedef {{ file: string, reason: string }} Skipped */

/**
 * @typedef {object} EpochRecord
 * @property {number} epoch
 * @property {number} trainLoss
 * @property {number | null} valLoss
 * @property {number | null} valIoU
 * @property {number | null} valDice
 */

/**
 * @typedef {object} FineTuneResult
 * @property {number} paired
 * @property {Skipped[]} skipped
 * @property {EpochRecord[]} history
 * @property {Partial<EpochRecord> | null} before
 * @property {'finished' | 'cancelled'} outcome
 * @property {number} train
 * @property {number} val
 * @property {Backend} backend
 * @property {number} threads The CPU threads that ran it (1 on WebGPU).
 */

/** @typedef {{ files: number, pairs: number, skipped: Skipped[] }} PairFilesResult */
/** @typedef {import('./live.js').Live} Live */
/**
 * @typedef {SegmentOptions & {
 *   onResult: (r: LiveResult) => void, onError?: (err: Error) => void,
 * }} LiveOptions
 */
/** @typedef {SegmentResult & { frame: ImageBitmap, index: number, fps: number }} LiveResult */

/**
 * The ISIC scores of one photo, or their mean, median or pooled value over a folder.
 * @typedef {object} Scores
 * @property {number} jaccard
 * @property {number} dice
 * @property {number} thresholdedJaccard Jaccard, or 0 where it is below 0.65 (ISIC 2018's score).
 * @property {number} sensitivity
 * @property {number} specificity
 * @property {number} accuracy
 */

/**
 * @typedef {ModeOptions & {
 *   threshold?: number, tta?: boolean, lesions?: 'one' | 'all', refine?: boolean, worst?: number,
 *   onProgress?: (p: { done: number, total: number, name: string }) => void,
 * }} EvaluateOptions
 */

/**
 * One scored photo: its ISIC id, its two files and its scores; `ms` the wall time of reading,
 * segmenting and scoring it.
 * @typedef {Scores & { name: string, image: string, mask: string, ms: number }} EvaluatedImage
 */

/**
 * One of the worst photos, for its overlay: the mask the model gave (0 or 255 per pixel at the
 * photo's size) and the two files.
 * @typedef {{ name: string, jaccard: number, width: number, height: number, prediction: Uint8Array, photo: Blob, truth: Blob }} WorstImage
 */

/**
 * @typedef {object} EvaluateResult
 * @property {EvaluatedImage[]} images In the order of the pairing (ISIC ids).
 * @property {number} count
 * @property {Scores} mean The per-image mean (the challenge's score).
 * @property {Scores} median The per-image median.
 * @property {Scores} pooled All photos' pixels as one image.
 * @property {Skipped[]} skipped Files that were not scored, and why.
 * @property {WorstImage[]} worst The lowest Jaccard first.
 * @property {Backend} backend
 * @property {number} threads
 */

/**
 * @typedef {object} SavedRun
 * @property {ModelId} model
 * @property {Required<FineTuneSettings>} settings
 * @property {number} paired
 * @property {EpochRecord[]} history
 * @property {Partial<EpochRecord> | null} before
 * @property {'running' | 'finished' | 'cancelled'} status
 * @property {boolean} hasCheckpoint
 * @property {number} savedAt
 */

/**
 * @typedef {object} PreviewItem
 * @property {string} id
 * @property {number} size
 * @property {Uint8Array} rgba
 * @property {Uint8Array} truth
 * @property {Uint8Array} before
 * @property {Uint8Array} after
 */

/**
 * @typedef {object} MemoryInfo
 * @property {number} wasmBytes
 * @property {number | null} workerHeapBytes
 * @property {Record<string, number>} modules
 */

/** @typedef {{ name: string, description: string }} LayerInfo */

/**
 * @typedef {object} OpenInfo What the worker says of a LesionLab's model session.
 * @property {Backend} backend
 * @property {number} threads The CPU threads its calls run on (1 on WebGPU).
 * @property {Record<string, { layers: LayerInfo[], defaults: Record<string, string> }>} modes Keyed by mode id.
 * @property {number} inputSize
 * @property {string | null} note
 * @property {number | null} quickStartLevel
 */

/** @typedef {{ bytes: ArrayBuffer, source: string }} LoadedWeights */

const MODELS = MODEL_RULES.map((m) => m.id);
const BACKENDS = ['auto', 'webgpu', 'cpu'];
const TAKEOVERS = ['faster', 'ready'];

/**
 * URL of a shipped default weights file.
 * @param {string} model
 */
export function defaultWeightsUrl(model) {
  return new URL(`../../weights/${model}.safetensors`, import.meta.url);
}

/** `value` if it is one of `allowed`, else a bad-argument error naming `what`. */
function oneOf(/** @type {string} */ what, /** @type {string} */ value, /** @type {string[]} */ allowed) {
  if (!allowed.includes(value))
    throw fail('bad-argument', `unknown ${what} '${value}': expected ${allowed.join(', ')}`);
  return value;
}

/** `create`'s options checked, with their defaults. */
function createOptions(/** @type {CreateOptions} */ options) {
  return {
    model: /** @type {ModelId} */ (oneOf('model', options.model ?? 'unetpp', MODELS)),
    backend: /** @type {BackendChoice} */ (oneOf('backend', options.backend ?? 'auto', BACKENDS)),
    takeover: /** @type {Takeover} */ (oneOf('takeover', options.takeover ?? 'faster', TAKEOVERS)),
    threads: checkedThreads(options.threads),
    size: options.size,
  };
}

/** `create`'s `threads`: 'auto' or a whole number of at least 1. */
function checkedThreads(/** @type {ThreadsChoice | undefined} */ threads) {
  const t = threads ?? 'auto';
  if (t !== 'auto' && !(Number.isInteger(t) && t >= 1))
    throw fail('bad-argument', `threads must be 'auto' or a whole number of at least 1, got ${JSON.stringify(t)}`);
  return t;
}

/** A user's callback that cannot break LesionLab: what it throws is logged. */
function guarded(/** @type {string} */ name, /** @type {((arg: any) => void) | null | undefined} */ callback) {
  if (!callback) return () => {};
  return (/** @type {any} */ arg) => {
    try {
      callback(typeof arg === 'object' && arg ? { ...arg } : arg);
    } catch (err) {
      console.error(`${name} failed:`, err);
    }
  };
}

/** A threshold in [0, 1] (`THRESHOLD` when none is given). */
function checkedThreshold(/** @type {number | undefined} */ threshold) {
  const t = threshold ?? THRESHOLD;
  if (!(t >= 0 && t <= 1)) throw fail('bad-argument', `threshold must be between 0 and 1, got ${t}`);
  return t;
}

/** The mode options name, as an id of `MODES`; a bad-argument error for an unknown one. */
export function modeOf(/** @type {ModeOptions} */ options = {}) {
  const id = modeId(options.mode, options.level);
  if (id) return id;
  const spelled = ['fast', 'head'].includes(String(options.mode)) ? `${options.mode}${options.level}` : options.mode;
  throw fail('bad-argument', `unknown mode '${spelled}': expected ${modeChoices()}`);
}

/**
 * A weights file's bytes and where they came from.
 * @param {WeightsSource | null | undefined} weights
 * @param {string} model
 * @param {(p: LoadProgress) => void} [report]
 * @returns {Promise<LoadedWeights>}
 */
async function weightsBytes(weights, model, report = () => {}) {
  const got = (/** @type {ArrayBuffer} */ bytes, /** @type {string} */ source) => {
    report({ what: 'weights', done: bytes.byteLength, total: bytes.byteLength });
    return { bytes, source };
  };
  const file = weights ?? defaultWeightsUrl(model);
  if (file instanceof ArrayBuffer) return got(file.slice(0), 'the weights file');
  if (ArrayBuffer.isView(file)) {
    const copy = new Uint8Array(file.buffer, file.byteOffset, file.byteLength).slice();
    return got(copy.buffer, 'the weights file');
  }
  if (typeof Blob !== 'undefined' && file instanceof Blob) {
    return got(await file.arrayBuffer(), ('name' in file && String(file.name)) || 'the weights file');
  }
  if (file instanceof URL || typeof file === 'string') {
    const url = new URL(file, globalThis.document?.baseURI ?? globalThis.location.href).href;
    return { bytes: await fetchWeights(url, /** @type {(p: any) => void} */ (report)), source: url };
  }
  throw fail('bad-argument', 'weights must be an ArrayBuffer, a typed array, a Blob, a URL or a URL string');
}

// The worker keeps the last photo it was given, decoded and resized, under a key: the same
// Blob (never changed) or ImageData object given again is not decoded again, so that
// segment, CAM and Grad-CAM of one photo decode it once. Other sources get a new key each time.
/** @type {WeakMap<object, string>} */
const photoKeys = new WeakMap();
let lastKey = 0;
function photoKey(/** @type {PhotoSource} */ source) {
  const keyed = source instanceof Blob || (typeof ImageData !== 'undefined' && source instanceof ImageData);
  if (!keyed) return `photo-${++lastKey}`;
  if (!photoKeys.has(source)) photoKeys.set(source, `photo-${++lastKey}`);
  return /** @type {string} */ (photoKeys.get(source));
}

function sourceName(/** @type {any} */ source) {
  return (source && typeof source.name === 'string' && source.name) || 'image';
}

/**
 * What the worker can receive: Blobs, ImageBitmaps and ImageData as they are; anything
 * drawable (an <img>, a canvas, a video frame) as a fresh ImageBitmap.
 * @param {PhotoSource} source
 * @returns {Promise<{ source: Blob | ImageData | ImageBitmap, transfer: Transferable[] }>}
 */
async function transferable(source) {
  if (source instanceof Blob || source instanceof ImageData) return { source, transfer: [] };
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete) await source.decode();
    if (!source.naturalWidth) {
      throw fail('unreadable-image', `${source.src || 'image'}: the image element has no loaded picture`);
    }
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

/** A photo as a call's arguments: the pixels or file, its key in the worker and its name. */
async function photoArgs(/** @type {PhotoSource} */ source) {
  const { source: s, transfer } = await transferable(source);
  return { args: { source: s, key: photoKey(source), name: sourceName(source) }, transfer };
}

/** A saved fine-tuning run as `savedRun` gives it: without its data. */
function runSummary(/** @type {Record<string, any> | undefined} */ run) {
  if (!run) return null;
  const { dataset, checkpoint, ...rest } = run;
  return /** @type {SavedRun} */ ({ ...rest, hasCheckpoint: !!checkpoint });
}

/** What a LesionLab's pending calls fail with after a crash, saying what the restart loads. */
function crashError(/** @type {string} */ message, /** @type {string} */ restart) {
  return fail('internal', `LesionLab stopped on an internal error: ${message}. ${restart}`);
}

export class LesionLab {
  /** @type {{ sid: number, leave(error: Error): void }} this LesionLab in the shared worker */
  #member = { sid: 0, leave() {} };
  #generation = -1; // the worker its model was opened in
  /** @type {Promise<void> | null} */
  #reopening = null;
  /** @type {(e: BackendEvent) => void} */
  #onBackend = () => {};
  /** @type {ReturnType<typeof createOptions>} */
  #options;
  /** @type {LoadedWeights} */
  #weights = { bytes: new ArrayBuffer(0), source: '' };
  #shipped = false; // whether the weights are the shipped ones (live frames may then use the quick-start file)
  // The last weights a model call (segment, explain) succeeded with: a worker restarted after
  // a panic comes back with these rather than with weights that never worked.
  /** @type {LoadedWeights | null} */
  #worked = null;
  /** @type {OpenInfo} */
  #info = { backend: 'cpu', threads: 1, modes: {}, inputSize: 0, note: null, quickStartLevel: null };
  /** @type {Promise<void>} */
  #whole = Promise.resolve();
  /** @type {(p: LoadProgress) => void} */
  #wholeReport = () => {};
  #disposed = false;

  /** @param {symbol} token Use `LesionLab.create`. */
  constructor(token) {
    if (token !== LesionLab.#token) throw fail('bad-argument', 'use `await LesionLab.create(options)`');
    this.#options = createOptions({});
  }

  static #token = Symbol('LesionLab');

  /**
   * Loads a model. `options.model`: 'unet' | 'unetpp' | 'pspnet' (default 'unetpp');
   * `options.backend`: 'auto' | 'webgpu' | 'cpu' (default 'auto'); `options.weights`: an
   * ArrayBuffer, Blob or URL of a safetensors file (default: the shipped weights);
   * `options.size`: the model's input size (default: the one the weights record);
   * `options.onProgress(p)`: the downloads as they arrive, `{ what: 'module' | 'weights' |
   * 'quick-start', done, total }` in bytes, each ending with `done === total` (a module or weights
   * file another LesionLab of the page already loaded gives one event at 100%).
   *
   * `options.quickStart` (default false; with the shipped weights of U-Net++, the one model
   * that has a quick-start file, see `MODELS` in rules.js): resolve as soon as the quick-start
   * file is loaded (U-Net++'s head 2 alone: 6% of the weights' bytes, reported as `what:
   * 'quick-start'`), so the first mask comes sooner; the whole weights then download after the
   * module (not competing with it) and load in the background. Until they are in,
   * `lab.quickStartLevel` is that head: `segment`, `explain`, `featureMaps` and `uncertainty` of a
   * head up to it run at once, every other call waits for the whole weights; `lab.whole` resolves
   * when they are in (and rejects, as those calls do, if they cannot be loaded).
   *
   * `backend: 'auto'` is CPU first, WebGPU when ready: the first results come from the CPU
   * module (the smaller download); meanwhile the WebGPU module loads in the background, compiles
   * its shaders on one warm-up forward, and takes over the calls after that when it is faster
   * than the CPU on the same input (`options.takeover`: 'faster', the default, or 'ready': as
   * soon as it is warm). `options.onBackend({ backend, reason, ms })` is called when that is
   * settled; every result says the `backend` it ran on, and `lab.backend` where the next runs.
   *
   * `options.threads` ('auto', the default, or a count): on a cross-origin isolated page the CPU
   * runs the threaded module on that many threads ('auto': every core the browser reports, up to
   * 8); elsewhere, and with 1, the single-threaded module. The worker is shared, so the page's
   * first LesionLab decides for all. Every result says how many `threads` ran it, `lab.threads`
   * how many the next call gets (1 on WebGPU).
   * @param {CreateOptions} [options]
   * @returns {Promise<LesionLab>}
   */
  static async create(options = {}) {
    const settings = createOptions(options);
    const lab = new LesionLab(LesionLab.#token);
    lab.#options = settings;
    lab.#onBackend = guarded('onBackend', options.onBackend);
    lab.#member = join({
      crashed: (/** @type {string} */ message) => lab.#crashed(message),
      backend: (/** @type {BackendEvent} */ event) => lab.#backendChanged(event),
    });
    const report = guarded('onProgress', options.onProgress);
    const shipped = options.weights === undefined || options.weights === null;
    const quick = options.quickStart && shipped ? MODEL_RULES.find((m) => m.id === settings.model)?.quickStart : null;
    try {
      // The module downloads (and compiles) in the worker while the weights download here.
      const [weights] = await Promise.all([
        quick
          ? weightsBytes(new URL(`../../weights/${quick.file}`, import.meta.url), settings.model, (p) =>
              report({ ...p, what: 'quick-start' }),
            )
          : weightsBytes(options.weights, settings.model, report),
        prepare({ backend: settings.backend, threads: settings.threads }, { onProgress: report }),
      ]);
      lab.#weights = weights;
      lab.#shipped = shipped;
      await lab.#open();
      if (quick) lab.#startWhole(report);
    } catch (err) {
      lab.dispose();
      throw err;
    }
    return lab;
  }

  /** After a quick start: fetches the whole weights (the module is in by now) and loads them. */
  #startWhole(/** @type {(p: LoadProgress) => void} */ report) {
    this.#whole = this.#loadWhole(report);
    // A failure is reported by the calls that wait for it, and the next of them tries again.
    this.#whole.catch(() => {});
    this.#wholeReport = report;
  }

  async #loadWhole(/** @type {(p: LoadProgress) => void} */ report) {
    const whole = await weightsBytes(undefined, this.#options.model, report);
    if (this.#disposed) return;
    // From now on a restart after a crash reopens with the shipped whole weights, never with the
    // quick-start ones (which cannot run most calls).
    this.#weights = whole;
    this.#worked = whole;
    await this.#ready();
    if (this.#info.quickStartLevel) {
      const { inputSize } = await this.#call(OP.loadWeights, { weights: whole.bytes.slice(0), source: whole.source });
      this.#info = { ...this.#info, inputSize };
    }
    this.#info = { ...this.#info, quickStartLevel: null };
  }

  /**
   * Whether a call in a mode (`options.mode`, `options.level` as in `segment`) runs on the
   * weights loaded now: false while only the quick-start weights are in and the mode needs more
   * of the network (the call then waits for the whole weights).
   * @param {ModeOptions} [options]
   */
  runsNow(options = {}) {
    return this.#loaded(modeOf(options));
  }

  /** Whether the weights loaded now run `mode` (null: anything, as training needs). */
  #loaded(/** @type {ModeId | null} */ mode) {
    const level = this.#info.quickStartLevel;
    const head = mode ? headLevel(mode) : null;
    return !level || (head !== null && head <= level);
  }

  /** Waits for the whole weights unless the quick-start ones can run `mode` (null: anything). */
  async #needs(/** @type {ModeId | null} */ mode) {
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
   * With `quickStart`, U-Net++'s head (1-4) the quick-start weights run alone until the whole
   * weights are in; otherwise null.
   * @returns {number | null}
   */
  get quickStartLevel() {
    return this.#info.quickStartLevel ?? null;
  }

  /**
   * `quickStartLevel`'s name in earlier releases (U-Net++'s head L alone was its "fast mode").
   * @deprecated Use `quickStartLevel`.
   * @returns {number | null}
   */
  get fastOnly() {
    return this.quickStartLevel;
  }

  /**
   * Resolves once the whole weights are loaded (at once without `quickStart`, or when the
   * LesionLab is disposed first); rejects if they could not be (the next call that needs them
   * tries again, and `whole` is then that new attempt).
   * @returns {Promise<void>}
   */
  get whole() {
    return this.#whole;
  }

  /** The model session in the worker, from the weights in use. */
  async #open() {
    const { bytes, source } = this.#weights;
    const { model, backend, size, takeover, threads } = this.#options;
    this.#info = await this.#call(OP.open, {
      model,
      backend,
      size,
      takeover,
      threads,
      weights: bytes.slice(0),
      source,
    });
    this.#generation = currentGeneration();
  }

  // The worker cannot be trusted after a panic: the next call opens this model in a fresh one
  // with the last weights that worked (weights loaded since and never used successfully are
  // set aside). Returns the error this LesionLab's pending calls fail with.
  #crashed(/** @type {string} */ message) {
    let restart = 'The next call restarts it.';
    if (this.#worked && this.#weights !== this.#worked) {
      restart =
        `The next call restarts it with the last weights that worked (${this.#worked.source}), ` +
        `not ${this.#weights.source}.`;
      this.#weights = this.#worked;
    }
    return crashError(message, restart);
  }

  #backendChanged(/** @type {BackendEvent} */ { backend, threads, reason, ms }) {
    this.#info = { ...this.#info, backend, threads, note: reason };
    this.#onBackend({ backend, threads, reason, ms });
  }

  /**
   * @param {import('./protocol.js').Op} op
   * @param {Record<string, any>} [args]
   * @param {Transferable[]} [transfer]
   * @param {((p: any) => void) | null} [onProgress]
   * @returns {Promise<any>}
   */
  #call(op, args = {}, transfer = [], onProgress = null) {
    return call(op, { ...args, sid: this.#member.sid }, { transfer, onProgress });
  }

  async #ready() {
    if (this.#disposed) throw fail('bad-argument', 'this LesionLab was disposed');
    // After a crash: calls made together share one restart.
    if (this.#generation !== currentGeneration()) {
      this.#reopening ??= this.#open().finally(() => {
        this.#reopening = null;
      });
      await this.#reopening;
    }
  }

  /**
   * A model call on a photo in a mode (`null`: whatever the weights, as for every head at once):
   * once the weights it needs are in, with the photo's arguments; the weights it succeeded with
   * are the ones a restart after a crash comes back with.
   * @param {import('./protocol.js').Op} op
   * @param {PhotoSource} source
   * @param {ModeId | null} mode
   * @param {Record<string, any>} args
   */
  async #photoCall(op, source, mode, args) {
    await this.#needs(mode);
    await this.#ready();
    const photo = await photoArgs(source);
    const weights = this.#weights;
    const result = await this.#call(op, { ...photo.args, ...args }, photo.transfer);
    this.#worked = weights;
    return result;
  }

  /**
   * Where the next call runs: 'webgpu' or 'cpu' (with 'auto' it starts as 'cpu').
   * @returns {Backend}
   */
  get backend() {
    return this.#info.backend;
  }

  /**
   * The CPU threads the next call runs on: more than 1 only where the page is cross-origin
   * isolated (the threaded module); 1 on WebGPU, where the GPU computes.
   * @returns {number}
   */
  get threads() {
    return this.#info.threads;
  }

  /**
   * Why the backend is the one it is ('auto' without WebGPU, or after WebGPU was measured), or null.
   * @returns {string | null}
   */
  get backendNote() {
    return this.#info.note;
  }

  /**
   * 'unet', 'unetpp' or 'pspnet'.
   * @returns {ModelId}
   */
  get model() {
    return this.#options.model;
  }

  /**
   * The side of the square the model sees; photos are resized to it and back.
   * @returns {number}
   */
  get inputSize() {
    return this.#info.inputSize;
  }

  /** The worker's table of a mode (keyed by mode id, whatever the spelling). */
  #mode(/** @type {ModeOptions} */ options) {
    const mode = modeOf(options);
    const info = this.#info.modes[mode];
    if (!info) throw fail('bad-argument', `unknown mode '${mode}': expected ${modeChoices()}`);
    return info;
  }

  /**
   * The layers `explain` can read in a mode (`options.mode`, `options.level` as in `segment`;
   * default: the deepest head, every layer). A U-Net++ head below 4 computes only part of them.
   * @param {ModeOptions} [options]
   * @returns {string[]}
   */
  layers(options = {}) {
    return this.#mode(options).layers.map((l) => l.name);
  }

  /**
   * `layers(options)` with what each does: `[{ name, description }]`, input side first.
   * @param {ModeOptions} [options]
   * @returns {LayerInfo[]}
   */
  layerInfo(options = {}) {
    return this.#mode(options).layers.map((l) => ({ ...l }));
  }

  /**
   * The layer `explain` reads for `method` ('gradcam' | 'cam' | 'activation') in a mode.
   * @param {Method} [method]
   * @param {ModeOptions} [options]
   * @returns {string}
   */
  defaultLayer(method = 'gradcam', options = {}) {
    const layer = this.#mode(options).defaults[method];
    if (!layer) throw fail('bad-argument', `unknown method '${method}': expected ${METHODS.join(', ')}`);
    return layer;
  }

  /**
   * Segments a photo (Blob | File | ImageBitmap | ImageData | HTMLImageElement). The photo is
   * decoded once per Blob or ImageData object: `explain` of the same object reuses it (and CAM
   * and the mean activation reuse the segmenting pass), so give a new ImageData for new pixels.
   * `options.threshold` (default 0.5); `options.mode` (U-Net++ only, see `ModeOptions`): none for
   * its deepest head alone (`DEFAULT_MODE` of rules.js, 'head4': it scores best, see the model
   * card), 'mean' for the report's mean of its four heads, 'head' with `options.level` 1-4 for
   * head L alone and only the nodes it needs (the earlier 'accurate' and 'fast' still work);
   * `options.tta`: average the model over the photo's eight flips and quarter turns (test-time
   * augmentation: eight times the model time, a steadier mask; default false). Resolves to
   * `{ width, height, mask, probability, ms }` at the photo's own size: `mask` is 0 or 255 per
   * pixel, `probability` in [0, 1]; `decoded` whether this call decoded the photo, `passes` the
   * forward passes run on it so far. `check` says whether the photo looks like dermoscopy:
   * `{ looksLikeDermoscopy, warning, reasons, saturation, detail, offSkin }`; on anything else
   * the mask means nothing. `backend` says where it ran. `options.heads` (U-Net++ only): also run
   * each of its four deep-supervision heads alone and add `heads: [{ level, ms, mask,
   * probability }]`, shallowest first; head L is mode `{ mode: 'head', level: L }` (`ms` its
   * model time), and 'mean' averages the four. `options.lesions`: 'one' (default) keeps the one
   * lesion the photo was taken of (the region with the most probability near the centre) and
   * fills its holes, 'all' every region the model marks; `options.refine` (default true): a
   * second pass on a crop around that lesion, pasted back; `options.box`: `{ x, y, width, height
   * }` in the photo's pixels (after EXIF orientation): the model looks inside the box only. The
   * result's `lesion` is the kept lesion's bounding box and `refined` the crop the second pass
   * saw (both `{ x, y, width, height }` in the photo's pixels, or null).
   * @param {PhotoSource} source
   * @param {SegmentOptions} [options]
   * @returns {Promise<SegmentResult>}
   */
  async segment(source, options = {}) {
    const threshold = checkedThreshold(options.threshold);
    const mode = modeOf(options);
    return this.#photoCall(OP.segment, source, options.heads ? null : mode, {
      threshold,
      mode,
      tta: Boolean(options.tta),
      heads: Boolean(options.heads),
      lesions: options.lesions,
      refine: options.refine,
      box: options.box,
      points: options.points,
    });
  }

  /**
   * Scores this LesionLab's model on a folder of photos and expert masks, in the page, by the
   * code of `lesionlab eval`: `files` (Files, folders' files or the official zips) are paired by
   * ISIC id with the crate's rules, each photo is segmented with `options` (as in `segment`:
   * `mode`, `level`, `threshold`, `tta`, `lesions`, `refine`) and scored at its mask's
   * resolution. `options.onProgress({ done, total, name })` after each pair; `options.worst`
   * (default 5) photos with the lowest Jaccard come back with their masks and files. Files that
   * cannot be read or paired are listed in `skipped`, and the others are still scored.
   * @param {Iterable<File | Blob>} files
   * @param {EvaluateOptions} [options]
   * @returns {Promise<EvaluateResult>}
   */
  async evaluate(files, options = {}) {
    const threshold = checkedThreshold(options.threshold);
    const mode = modeOf(options);
    const worst = options.worst ?? 5;
    if (!(Number.isInteger(worst) && worst >= 0))
      throw fail('bad-argument', `worst must be a whole number, got ${worst}`);
    await this.#needs(mode);
    await this.#ready();
    const list = [...(files ?? [])];
    const segment = { mode, threshold, tta: Boolean(options.tta), lesions: options.lesions, refine: options.refine };
    return this.#call(OP.evaluate, { files: list, options: segment, worst }, [], options.onProgress ?? null);
  }

  /**
   * Segments live video: `source` a MediaStream (a camera's) or an HTMLVideoElement, as fast as
   * the model allows, always the newest frame (never a queue). `options.onResult(r)` gets each
   * frame's `segment` result with `frame` (an ImageBitmap of the frame it belongs to, yours to
   * draw and close), `index` (frames segmented so far) and `fps` (frames per second over the last
   * few). `options.mode`/`level` as in `segment`; by default every model runs one pass (`refine:
   * false`), and U-Net++ with the shipped weights its quick-start file (head 2 alone, at the
   * 128x128 input it was exported at, in a LesionLab of its own), which keeps up with a camera;
   * the other segment options apply as given. `options.onError(err)` on a failure, which stops it.
   * Resolves once the first frame is ready; `live.stop()` ends it and resolves when the frame in
   * progress is done. It stops nothing the page owns: a stream's tracks and a video element stay
   * as they were.
   * @param {MediaStream | HTMLVideoElement} source
   * @param {LiveOptions} options
   * @returns {Promise<Live>}
   */
  async live(source, options) {
    const { onResult, onError, ...rest } = options ?? {};
    if (typeof onResult !== 'function') throw fail('bad-argument', 'live needs options.onResult(result)');
    const quick = MODEL_RULES.find((m) => m.id === this.model)?.quickStart;
    const quickMode = options.mode == null && quick ? { mode: 'head', level: quick.level } : {};
    const segment = { refine: false, ...quickMode, ...rest };
    modeOf(segment);
    checkedThreshold(segment.threshold);
    // The quick-start file runs at the smaller input it was exported at: about half the work per
    // frame of the same head in the whole weights (README, "Live camera").
    const own =
      quick && options.mode == null && this.#shipped
        ? await LesionLab.create({
            model: this.model,
            backend: this.#options.backend,
            threads: this.#options.threads,
            weights: new URL(`../../weights/${quick.file}`, import.meta.url),
          })
        : null;
    const lab = own ?? this;
    return startLive(source, (frame) => lab.segment(frame, segment), {
      onResult,
      onError,
      onEnd: () => own?.dispose(),
    });
  }

  /**
   * A heatmap explaining the segmentation. `options.method`: 'gradcam' (default) | 'cam' |
   * 'activation'; `options.layer`: one of `layers()` (default: the report's layer for the
   * method and mode, see `defaultLayer`); `options.target`: 'lesion' (default) | 'center' |
   * 'pixel:Y,X'; `options.mode`/`level` as in `segment`. Resolves to `{ width, height, heatmap,
   * layer, method, meanLogit, blankNote, decoded, passes }`, `heatmap` in [0, 1] at the photo's
   * size, `meanLogit` the model's mean output over the photo (the report's CAM is blank when it
   * is negative) and `blankNote` why the map is blank, or null, `backend` where it ran.
   * @param {PhotoSource} source
   * @param {ExplainOptions} [options]
   * @returns {Promise<ExplainResult>}
   */
  async explain(source, options = {}) {
    const mode = modeOf(options);
    return this.#photoCall(OP.explain, source, mode, {
      method: options.method ?? 'gradcam',
      layer: options.layer,
      target: options.target ?? 'lesion',
      mode,
    });
  }

  /**
   * The layer explorer: a layer's feature maps for a photo (any `segment` source), the most
   * active channels first. `options.layer`: one of `layers()` (default: the mean activation's
   * default layer, see `defaultLayer`); `options.count` (default `FEATURE_MAPS`, 16, at most the
   * layer's channels); `mode`/`level` as in `segment`, whose last pass in the same mode is
   * reused. Resolves to `{ layer, description, shape: [C, H, W], channels: [{ index, mean, max,
   * map }], width, height, backend }`: `description` says in one line what that stage does, each
   * `map` (Float32Array, H×W, the layer's own resolution) is the channel's activation, `mean` and
   * `max` over it.
   * @param {PhotoSource} source
   * @param {FeatureMapsOptions} [options]
   * @returns {Promise<FeatureMapsResult>}
   */
  async featureMaps(source, options = {}) {
    const count = options.count ?? FEATURE_MAPS;
    if (!Number.isInteger(count) || count < 1) {
      throw fail('bad-argument', `count must be a whole number from 1, got ${count}`);
    }
    const mode = modeOf(options);
    return this.#photoCall(OP.featureMaps, source, mode, { layer: options.layer, count, mode });
  }

  /**
   * How sure the model is about a photo (any `segment` source). `options.method`: 'tta' (the
   * default: this model on the photo's eight flips and quarter turns) or 'models' (U-Net, U-Net++
   * and PSPNet, each with its shipped weights but this one, which keeps its own); `mode`/`level`
   * as in `segment`; `options.threshold` (default 0.5) where a map says lesion. Resolves to
   * `{ width, height, spread, meanSpread, disagreement, maps, method, backend }`: `spread`
   * (Float32Array, the photo's size) is per pixel the standard deviation of the maps' lesion
   * probabilities, in [0, 0.5]; `meanSpread` its mean; `disagreement` the share of the photo
   * where some maps say lesion and others not (at the threshold).
   * @param {PhotoSource} source
   * @param {UncertaintyOptions} [options]
   * @returns {Promise<UncertaintyResult>}
   */
  async uncertainty(source, options = {}) {
    const method = options.method ?? 'tta';
    const threshold = checkedThreshold(options.threshold);
    if (method === 'tta') {
      const mode = modeOf(options);
      return this.#photoCall(OP.uncertainty, source, mode, { mode, threshold });
    }
    if (method !== 'models') throw fail('bad-argument', `unknown method '${method}': expected tta or models`);
    const { maps, size } = await this.#everyModel(source);
    return this.#call(
      OP.compareMaps,
      { maps, ...size, threshold },
      maps.map((m) => m.buffer),
    );
  }

  /** Each model's probability map of a photo: this one's, and the others' with their shipped weights. */
  async #everyModel(/** @type {PhotoSource} */ source) {
    const maps = [];
    let size = { width: 0, height: 0 };
    for (const model of MODELS) {
      // The other models open in the same worker (their weights fetched once per page).
      const lab =
        model === this.model
          ? this
          : await LesionLab.create({ model: /** @type {ModelId} */ (model), backend: this.backend });
      try {
        const r = await lab.segment(source);
        maps.push(r.probability);
        size = { width: r.width, height: r.height };
      } finally {
        if (lab !== this) lab.dispose();
      }
    }
    return { maps, size };
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
   * @param {MaskInput} mask
   * @param {PhotoSource} photo
   * @param {{ mmPerPixel?: number }} [options]
   * @returns {Promise<Description>}
   */
  async describe(mask, photo, options = {}) {
    const { mask: values, width, height } = mask ?? {};
    if (!(values instanceof Uint8Array) || !(width > 0) || !(height > 0)) {
      throw fail('bad-argument', 'describe needs a mask: a segment result, or { mask: Uint8Array, width, height }');
    }
    await this.#ready();
    const { source, transfer } = await transferable(photo);
    const args = {
      mask: values,
      width,
      height,
      source,
      name: sourceName(photo),
      mmPerPixel: options.mmPerPixel ?? null,
    };
    return this.#call(OP.describe, args, transfer);
  }

  /**
   * Fine-tunes this model on the user's own pairs, in the worker, with nothing uploaded.
   * `files`: File[] of images, masks, folders' files and/or zips (official ISIC layout or one zip
   * holding both), paired by ISIC id. Options (defaults): epochs (1), batchSize (4), lr (1e-3),
   * size (256), valFraction (0.2), augment (true), seed (0), onProgress(p), signal (AbortSignal).
   * `p.kind` is 'paired' | 'loading' | 'step' | 'paused' | 'validating' | 'epoch' | 'saved' |
   * 'warning'; steps (and 'paused', sent once the run has stopped after the step it names) carry
   * { epoch, step, steps, loss }, epochs add { trainLoss, valLoss, valIoU, valDice }.
   * A checkpoint is stored in IndexedDB after every epoch (see `LesionLab.savedRun`).
   * Resolves to { paired, skipped: [{ file, reason }], history: [{ epoch, trainLoss, valLoss,
   * valIoU, valDice }], before, outcome: 'finished' | 'cancelled', train, val }; when finished,
   * `segment` uses the fine-tuned weights.
   * @param {Iterable<File>} files
   * @param {FineTuneSettings & TrainingOptions} [options]
   * @returns {Promise<FineTuneResult>}
   */
  async finetune(files, options = {}) {
    const list = [...(files ?? [])];
    if (!list.length) throw fail('bad-argument', 'finetune needs files: images and masks, or zips of them');
    await this.#needs(null);
    await this.#ready();
    const { onProgress, signal, ...settings } = options;
    return this.#training(OP.finetune, { files: list, options: settings }, onProgress, signal);
  }

  /**
   * What `finetune` would find in `files`, by name only (zips opened, nothing decoded):
   * { files, pairs, skipped: [{ file, reason }] } with `files` counting zip entries.
   * @param {Iterable<File>} files
   * @returns {Promise<PairFilesResult>}
   */
  async pairFiles(files) {
    return LesionLab.pairFiles(files);
  }

  /**
   * `pairFiles` without a model: only the (shared) CPU module is loaded for it.
   * @param {Iterable<File>} files
   * @returns {Promise<PairFilesResult>}
   */
  static async pairFiles(files) {
    return call(OP.pairFiles, { files: [...(files ?? [])] });
  }

  /**
   * Resumes the fine-tuning run saved in IndexedDB (after a reload); options as `finetune`.
   * @param {TrainingOptions} [options]
   * @returns {Promise<FineTuneResult>}
   */
  async resumeFinetune(options = {}) {
    await this.#needs(null);
    await this.#ready();
    return this.#training(OP.resumeFinetune, {}, options.onProgress, options.signal);
  }

  /**
   * @param {import('./protocol.js').Op} op
   * @param {Record<string, any>} args
   * @param {((p: FineTuneProgress) => void) | undefined} onProgress
   * @param {AbortSignal | undefined} signal
   * @returns {Promise<FineTuneResult>}
   */
  async #training(op, args, onProgress, signal) {
    const cancel = () => this.cancelTraining();
    signal?.addEventListener('abort', cancel);
    try {
      const run = await this.#call(op, args, [], onProgress);
      if (run.outcome === 'finished') {
        // A restarted worker (after a crash) must come back with the fine-tuned weights.
        this.#weights = { bytes: await this.exportWeights(), source: 'the fine-tuned weights' };
        this.#shipped = false;
      }
      return run;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** Pauses fine-tuning after the current step. */
  pauseTraining() {
    post(OP.control, { action: CONTROL.pause });
  }

  /** Goes on after `pauseTraining`. */
  resumeTraining() {
    post(OP.control, { action: CONTROL.resume });
  }

  /** Stops fine-tuning after the current step; the last epoch's checkpoint stays saved. */
  cancelTraining() {
    post(OP.control, { action: CONTROL.cancel });
  }

  /**
   * What the page's LesionLab worker holds (all its models together): `{ wasmBytes,
   * workerHeapBytes, modules }`, the WebAssembly memory (it grows to the largest photo and model
   * run so far and never shrinks, so a worker that held a photo of 16 megapixels or more is
   * replaced once idle for 4 s; `modules` per module) and the worker's JS heap (null in browsers
   * that do not say).
   * @returns {Promise<MemoryInfo>}
   */
  async memory() {
    await this.#ready();
    return this.#call(OP.memory, {});
  }

  /**
   * The current weights (fine-tuned after `finetune`) as a safetensors ArrayBuffer.
   * @returns {Promise<ArrayBuffer>}
   */
  async exportWeights() {
    await this.#needs(null);
    await this.#ready();
    return this.#call(OP.exportWeights, {});
  }

  /**
   * Replaces the weights with a safetensors file (ArrayBuffer, Blob or URL), checked first:
   * another model's weights or wrong shapes are refused and the current weights stay.
   * @param {WeightsSource} weights
   * @returns {Promise<void>}
   */
  async loadWeights(weights) {
    const loaded = await weightsBytes(weights, this.#options.model);
    await this.#needs(null);
    await this.#ready();
    await this.#call(OP.loadWeights, { weights: loaded.bytes.slice(0), source: loaded.source });
    this.#weights = loaded;
    this.#shipped = false;
  }

  /**
   * Up to `n` validation pairs of the last fine-tuning run with the masks of the starting and
   * the fine-tuned weights: [{ id, size, rgba, truth, before, after }] at the training size.
   * @param {number} [n]
   * @returns {Promise<PreviewItem[]>}
   */
  async finetunePreview(n = 4) {
    await this.#needs(null);
    await this.#ready();
    return this.#call(OP.preview, { n });
  }

  /**
   * The fine-tuning run saved in this browser, without its data: { model, settings, paired,
   * history, before, status: 'running' | 'finished' | 'cancelled', hasCheckpoint, savedAt },
   * or null. 'running' means it stopped unexpectedly (a reload, a crash) and can be resumed.
   * @returns {Promise<SavedRun | null>}
   */
  static async savedRun() {
    return runSummary(await loadRun());
  }

  /**
   * Forgets the saved fine-tuning run.
   * @returns {Promise<void>}
   */
  static async discardSavedRun() {
    await clearRun();
  }

  /** Frees the model; the worker stops with the page's last LesionLab. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#member.leave(fail('cancelled', 'this LesionLab was disposed'));
  }

  /**
   * For the browser tests: makes the wasm module panic (`onPool`: on a thread of the threaded
   * module's pool).
   * @param {boolean} [onPool]
   * @returns {Promise<null>}
   */
  async _panicForTest(onPool = false) {
    await this.#ready();
    return this.#call(OP.panic, { onPool });
  }
}
