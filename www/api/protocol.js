// The worker protocol, defined once: every message between the page's side of the API
// (`engine.js`, `lesionlab.js`) and LesionLab's worker (`../worker/worker.js`). Senders and
// receivers name an operation as `OP.segment`, never as a string of their own.
//
// The page sends a request `{ id, op, args }` (`args.sid` names the LesionLab in the worker);
// the worker answers `{ id, ok: true, result }` or `{ id, ok: false, error }`, and meanwhile may
// send `{ type: 'progress', id, progress }` (downloads, fine-tuning, evaluation). Without an id: the worker's
// `{ type: 'backend', ... }` when a LesionLab's backend is settled or changes and `{ type:
// 'panic', message }` when Rust panics; the page's `{ op: OP.control }` (pause, resume or cancel
// fine-tuning), `{ op: OP.module }` (a module's download the page started, handed over) and
// `{ op: OP.panicChannel }` (the BroadcastChannel on which the threaded module's pool threads
// report a panic to the page, which then replaces the worker: the worker itself is blocked).

/** The operations, by their name in code. */
export const OP = Object.freeze({
  prepare: 'prepare',
  open: 'open',
  close: 'close',
  segment: 'segment',
  explain: 'explain',
  describe: 'describe',
  uncertainty: 'uncertainty',
  featureMaps: 'feature-maps',
  compareMaps: 'compare-maps',
  finetune: 'finetune',
  resumeFinetune: 'resume-finetune',
  pairFiles: 'pair-files',
  evaluate: 'evaluate',
  exportWeights: 'export-weights',
  keepCompiledCode: 'keep-compiled-code',
  memory: 'memory',
  loadWeights: 'load-weights',
  preview: 'preview',
  clearRun: 'clear-run',
  panic: 'panic',
  control: 'control',
  module: 'module',
  panicChannel: 'panic-channel',
});

/** The `type` of a message from the worker that answers no request by itself. */
export const EVENT = Object.freeze({ progress: 'progress', backend: 'backend', panic: 'panic' });

/** What `OP.control` asks of the fine-tuning run in progress. */
export const CONTROL = Object.freeze({ pause: 'pause', resume: 'resume', cancel: 'cancel' });

/** Operations that run in the worker's training lane, beside the model calls. */
export const TRAINING_OPS = Object.freeze([OP.finetune, OP.resumeFinetune]);

/** Operations that run the model on a photo: the first of them lets WebGPU's warm-up start. */
export const MODEL_OPS = Object.freeze([OP.segment, OP.explain, OP.uncertainty, OP.featureMaps]);

/** @typedef {typeof OP[keyof typeof OP]} Op An operation's name on the wire. */
/** @typedef {typeof CONTROL[keyof typeof CONTROL]} ControlAction */
/** @typedef {'cpu' | 'webgpu'} Backend Where a session computes: the GPU, or the CPU (Flex). */
/**
 * @typedef {'cpu' | 'threads' | 'webgpu'} ModuleKind A wasm module: Flex only, Flex on a pool of
 * threads (cross-origin isolated pages), or WebGPU and Flex.
 */

/**
 * A request to the worker.
 * @typedef {object} Request
 * @property {number} id Answered by the message with the same id.
 * @property {Op} op
 * @property {Record<string, any>} args The operation's arguments; `sid` names the LesionLab.
 */

/**
 * An error as it crosses to the page (`errors.js` `serialise`).
 * @typedef {object} WireError
 * @property {string} message
 * @property {string | null} kind One of the crate's error kinds, or null for errors from outside it.
 */

/**
 * The worker's answer to a request.
 * @typedef {{ id: number, ok: true, result: any } | { id: number, ok: false, error: WireError }} Answer
 */

/**
 * Progress of a request: a download (`{ what, done, total }`) or fine-tuning (`{ kind, ... }`).
 * @typedef {object} ProgressMessage
 * @property {'progress'} type
 * @property {number} id The request it belongs to.
 * @property {Record<string, any>} progress
 */

/**
 * A LesionLab's backend settled or changed (`backend: 'auto'`).
 * @typedef {object} BackendMessage
 * @property {'backend'} type
 * @property {number} sid
 * @property {Backend} backend Where its next calls run.
 * @property {number} threads The CPU threads its next calls run on (1 on WebGPU).
 * @property {string} reason Why, in a sentence.
 * @property {{ cpu?: number, webgpu?: number }} ms The forward's milliseconds on each, when measured.
 */

/**
 * Rust panicked: the worker cannot be trusted any more.
 * @typedef {object} PanicMessage
 * @property {'panic'} type
 * @property {string} message
 */

/** @typedef {Answer | ProgressMessage | BackendMessage | PanicMessage} FromWorker */

/**
 * A message to the worker without an answer: pause, resume or cancel fine-tuning, or a module's
 * download the page started (its body streams on to the worker).
 * @typedef {{ op: 'control', args: { action: ControlAction } }
 *   | { op: 'module', args: { kind: ModuleKind, body: ReadableStream<Uint8Array>, total: string | null } }
 *   | { op: 'panic-channel', args: { name: string } }} Notice
 */

/** @typedef {Request | Notice} ToWorker */
