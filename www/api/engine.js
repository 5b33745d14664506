// The page's one LesionLab worker (`worker.js`), shared by every LesionLab of the page: one
// download and one instance of each wasm module, each weights file fetched once. A crash (a Rust
// panic, the worker failing) fails what is pending and drops the worker; the next call starts a
// fresh one, and each LesionLab opens its model there again (`generation` tells them).

import { deserialise, fail, messageOf } from './errors.js';
import { isKept } from './kept.js';
import { readCounted } from './progress.js';
import { EVENT, OP } from './protocol.js';
import { cpuModule, threadsFor } from './threads.js';

/** @type {Worker | null} */
let worker = null;
/** @type {Promise<void> | null} */
let handing = null; // the CPU module handed to the current worker (prepare), once
let generation = 0;
let nextId = 1;
/**
 * @typedef {object} Pending A request waiting for its answer.
 * @property {(result: any) => void} resolve
 * @property {(error: Error) => void} reject
 * @property {((p: any) => void) | null} onProgress
 * @property {import('./protocol.js').Op} op
 * @property {number | undefined} sid
 */
/**
 * @typedef {object} Member A LesionLab of the page.
 * @property {(message: string) => Error} crashed The error its pending calls fail with after a crash.
 * @property {(event: import('./protocol.js').BackendMessage) => void} backend
 */
/** @type {Map<number, Pending>} */
const pending = new Map(); // id -> { resolve, reject, onProgress, op, sid }
/** @type {Map<number, Member>} */
const members = new Map(); // sid -> { crashed(message) -> Error, backend(event) }
let nextSid = 1;

// WebAssembly memory never shrinks: after one photo of many megapixels the worker would keep
// hundreds of megabytes for the rest of the visit (a phone may kill the tab). A worker that held
// such a photo is replaced once it has been idle a while; each LesionLab opens its model again at
// its next call, as after a crash, without an error.
const RECYCLE_PIXELS = 16e6;
const RECYCLE_IDLE_MS = 4000;
let heldBigPhoto = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let idleTimer;

/** Which worker is running: it changes when a crashed worker is replaced. */
export function currentGeneration() {
  return worker ? generation : -1;
}

function start() {
  generation++;
  handing = null;
  heldBigPhoto = false;
  worker = new Worker(new URL('../worker/worker.js', import.meta.url), { type: 'module', name: 'lesionlab' });
  listenForPoolPanics(worker);
  worker.onmessage = (event) => receive(event.data);
  worker.onerror = (event) => {
    event.preventDefault?.();
    crash(event.message || 'the worker failed to start (is the wasm file served?)');
  };
}

/**
 * A panic on a pool thread of the threaded module leaves the worker blocked, waiting for the
 * thread that died, so it cannot say so: the thread posts it on a BroadcastChannel named for
 * this worker alone, which the page hears as it would the worker's own panic message.
 * @param {Worker} to
 */
function listenForPoolPanics(to) {
  if (typeof BroadcastChannel === 'undefined') return;
  const name = `lesionlab-panic-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => {
    channel.close();
    if (worker === to) crash(String(event.data));
  };
  closeChannel = () => channel.close();
  to.postMessage({ op: OP.panicChannel, args: { name } });
}
let closeChannel = () => {};

/** Ends the worker (its pool threads with it) and its panic channel. */
function stop() {
  worker?.terminate();
  worker = null;
  closeChannel();
}

/** @param {import('./protocol.js').FromWorker} message */
function receive(message) {
  if ('type' in message && message.type === EVENT.panic) {
    crash(message.message);
    return;
  }
  if ('type' in message && message.type === EVENT.backend) {
    if (message.backend === 'webgpu') usedModule('webgpu');
    members.get(message.sid)?.backend(message);
    return;
  }
  if ('type' in message && message.type === EVENT.progress) {
    const onProgress = pending.get(message.id)?.onProgress;
    try {
      onProgress?.(message.progress);
    } catch (err) {
      console.error('onProgress failed:', err);
    }
    return;
  }
  if ('type' in message) return;
  const call = pending.get(message.id);
  if (!call) return;
  pending.delete(message.id);
  // Every LesionLab starts with `prepare`, which answers the module it loaded.
  if (message.ok && call.op === OP.prepare) usedModule(message.result.kind);
  if (message.ok) call.resolve(message.result);
  else call.reject(deserialise(/** @type {{ error: import("./protocol.js").WireError }} */ (message).error));
  const { width, height } = (message.ok && message.result) || {};
  if (width * height >= RECYCLE_PIXELS) heldBigPhoto = true;
  if (heldBigPhoto && pending.size === 0) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(recycle, RECYCLE_IDLE_MS);
  }
}

/** Replaces an idle worker that held a large photo (see RECYCLE_PIXELS). */
function recycle() {
  if (!worker || pending.size > 0) return;
  stop();
  heldBigPhoto = false;
}

// The wasm modules cannot be trusted after a panic: every LesionLab is told (and says what the
// restart will load), what is pending fails, and the worker goes.
/** @param {string} message */
function crash(message) {
  const errors = new Map([...members].map(([sid, m]) => [sid, m.crashed(message)]));
  const general = fail('internal', `LesionLab stopped on an internal error: ${message}. The next call restarts it.`);
  stop();
  for (const { reject, sid } of pending.values()) reject((sid !== undefined && errors.get(sid)) || general);
  pending.clear();
}

/** Sends `op` to the worker (started if needed), once `after` (if given) has settled;
 * resolves to its answer. */
/**
 * @param {import('./protocol.js').Op} op
 * @param {Record<string, any>} [args]
 * @param {{ transfer?: Transferable[], onProgress?: ((p: any) => void) | null, after?: Promise<void> | null }} [options]
 * @returns {Promise<any>}
 */
export function call(op, args = {}, { transfer = [], onProgress = null, after = null } = {}) {
  clearTimeout(idleTimer);
  if (!worker) {
    start();
    // A worker started by any other call loads the CPU module itself (a restart, pairFiles).
    handing = Promise.resolve();
  }
  const to = /** @type {Worker} */ (worker);
  return new Promise((resolve, reject) => {
    const id = nextId++;
    // Pending from now on: a crash meanwhile fails it, and the worker is not closed under it.
    pending.set(id, { resolve, reject, onProgress, op, sid: args.sid });
    const send = () => {
      if (worker === to && pending.has(id)) to.postMessage({ id, op, args }, transfer);
    };
    if (after) after.then(send);
    else send();
  });
}

/**
 * `prepare`, every LesionLab's first call: the worker (started if needed) loads the module
 * `args.backend` starts on; resolves to `{ kind }`. For the CPU module the page fetches it itself
 * and hands the worker its body as it streams, once per worker: the worker's own fetch would
 * start only once its scripts have loaded, a quarter of a second later on a cold visit (README).
 */
/**
 * @param {{ backend: string, threads?: import('./threads.js').ThreadsChoice }} args
 * @param {{ onProgress?: (p: any) => void }} options
 * @returns {Promise<{ kind: import('./protocol.js').ModuleKind }>}
 */
export function prepare(args, options) {
  if (!worker) start();
  if (args.backend === 'webgpu') return call(OP.prepare, args, options);
  // The worker picks the same CPU module by the same rule (threads.js).
  const kind = cpuModule(threadsFor(args.threads));
  handing ??= handModule(/** @type {Worker} */ (worker), kind).catch(() => {}); // then the worker fetches it
  return call(OP.prepare, args, { ...options, after: handing });
}

const streamsTransfer = (() => {
  try {
    const stream = new ReadableStream();
    new MessageChannel().port1.postMessage(stream, [stream]);
    return true;
  } catch {
    return false;
  }
})();

/** Fetches module `kind` and posts its body to `to` (`{ op: OP.module }`); where that cannot
 * help, posts nothing and the worker fetches it as before. */
/**
 * @param {Worker} to
 * @param {import('./protocol.js').ModuleKind} kind
 * @returns {Promise<void>}
 */
async function handModule(to, kind) {
  const url = new URL(`../../pkg/${kind}/lesionlab_core_bg.wasm`, import.meta.url);
  // The service worker's copy is the worker's to fetch: the browser reuses the module's
  // optimised code only for that response, not for bytes passed on from here.
  if (!streamsTransfer || (await isKept(url))) return;
  const response = await fetch(url).catch(() => null);
  // A failed download is the worker's to report (it tries again, with the file's name).
  if (!response?.ok) return response?.body?.cancel();
  const body = /** @type {ReadableStream<Uint8Array>} */ (response.body);
  if (to !== worker) return body.cancel(); // that worker is gone (a crash, or closed)
  const total = response.headers.get('Content-Length');
  to.postMessage({ op: OP.module, args: { kind, body, total } }, [body]);
}

/** Posts a message that has no answer (pause, resume, cancel). */
/**
 * @param {import('./protocol.js').Op} op
 * @param {Record<string, any>} args
 */
export function post(op, args) {
  worker?.postMessage({ op, args });
}

/** Asks the running worker, if any, to keep the module's compiled code with the service
 * worker's copy (worker.js `keepCompiledCode`); resolves to whether it ran. */
export async function keepCompiledCode() {
  if (!worker) return false;
  try {
    return await call(OP.keepCompiledCode);
  } finally {
    // The last LesionLab may have closed meanwhile, leaving the worker to this call.
    if (worker && !members.size && !pending.size) stop();
  }
}

/** A new member: its id for `args.sid`, and `leave()` for when it is disposed. */
/**
 * @param {Member} member
 * @returns {{ sid: number, leave(error: Error): void }}
 */
export function join(member) {
  const sid = nextSid++;
  members.set(sid, member);
  return {
    sid,
    leave(/** @type {Error} */ error) {
      members.delete(sid);
      for (const [id, p] of pending) {
        if (p.sid === sid) {
          pending.delete(id);
          p.reject(error);
        }
      }
      if (!worker) return;
      if (members.size || pending.size) {
        call(OP.close, { sid }).catch(() => {});
      } else {
        // The last one out frees the modules' memory; a later LesionLab starts a fresh worker.
        stop();
      }
    },
  };
}

// What this page loaded, for the service worker to keep (offline.js).
/** @type {Set<string>} */
const used = new Set();

/** URLs of the modules and weights files this page has loaded. */
export function usedFiles() {
  return [...used];
}

/** @param {string} kind */
function usedModule(kind) {
  for (const file of ['lesionlab_core.js', 'lesionlab_core_bg.wasm'])
    used.add(new URL(`../../pkg/${kind}/${file}`, import.meta.url).href);
}

// Weights files by URL, fetched once per page however many LesionLabs use them (compare all
// three models, fine-tune one of them): the bytes are small beside a second download.
/** @type {Map<string, Promise<ArrayBuffer>>} */
const fetched = new Map();

/** A weights file's bytes from `url`, reported as `{ what: 'weights', done, total }`. */
/**
 * @param {string} url
 * @param {(p: import('./progress.js').Progress) => void} report
 * @returns {Promise<ArrayBuffer>}
 */
export function fetchWeights(url, report) {
  if (!fetched.has(url)) {
    const got = (async () => {
      let response;
      try {
        response = await fetch(url);
      } catch (err) {
        throw fail('io', `could not load the weights from ${url}: ${messageOf(err)}`);
      }
      if (!response.ok) throw fail('io', `could not load the weights from ${url}: HTTP ${response.status}`);
      const bytes = await readCounted(response, 'weights', report);
      used.add(url);
      return bytes;
    })();
    fetched.set(url, got);
    got.catch(() => fetched.delete(url));
    return got;
  }
  return /** @type {Promise<ArrayBuffer>} */ (fetched.get(url)).then((bytes) => {
    report({ what: 'weights', done: bytes.byteLength, total: bytes.byteLength });
    return bytes;
  });
}
