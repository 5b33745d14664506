// How many threads of the visitor's CPU the CPU module computes on, and so which module it is:
// the page (engine.js, which starts the module's download) and the worker (which loads it) ask
// the same question and must get the same answer.

/**
 * Beyond eight, a 256x256 model's layers are too small to split further with gain, and each
 * thread is a Web Worker holding its own stack and JS instance.
 */
export const MAX_THREADS = 8;

/** @typedef {'auto' | number} ThreadsChoice `create`'s `threads` option. */

/**
 * The threads a CPU session gets for `choice`: 1 where the page is not cross-origin isolated
 * (no shared memory, so no threaded module), else `choice` ('auto': every core the browser
 * reports, up to MAX_THREADS) within [1, MAX_THREADS].
 * @param {ThreadsChoice | undefined} choice
 * @returns {number}
 */
export function threadsFor(choice) {
  if (!globalThis.crossOriginIsolated || typeof SharedArrayBuffer === 'undefined') return 1;
  const wanted = choice === undefined || choice === 'auto' ? (navigator.hardwareConcurrency ?? 1) : choice;
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(wanted)));
}

/**
 * The CPU module that runs `threads` threads: the threaded one, or the single-threaded one.
 * @param {number} threads
 * @returns {'threads' | 'cpu'}
 */
export function cpuModule(threads) {
  return threads > 1 ? 'threads' : 'cpu';
}
