/**
 * Beyond eight, a 256x256 model's layers are too small to split further with gain, and each
 * thread is a Web Worker holding its own stack and JS instance.
 */
export declare const MAX_THREADS = 8;
export type ThreadsChoice = 'auto' | number;
/** @typedef {'auto' | number} ThreadsChoice `create`'s `threads` option. */
/**
 * The threads a CPU session gets for `choice`: 1 where the page is not cross-origin isolated
 * (no shared memory, so no threaded module), else `choice` ('auto': every core the browser
 * reports, up to MAX_THREADS) within [1, MAX_THREADS].
 * @param {ThreadsChoice | undefined} choice
 * @returns {number}
 */
export declare function threadsFor(choice: ThreadsChoice | undefined): number;
/**
 * The CPU module that runs `threads` threads: the threaded one, or the single-threaded one.
 * @param {number} threads
 * @returns {'threads' | 'cpu'}
 */
export declare function cpuModule(threads: number): 'threads' | 'cpu';
