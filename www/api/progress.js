// Download progress, the same for the wasm module (in the worker) and the weights (in the page):
// `{ what, done, total }` for every chunk and once at the end, where `total` is the
// Content-Length, or the bytes read when the server did not send one, so the last event is 100%.

/** `response`'s body as a stream that reports what has arrived. */
/**
 * @typedef {{ what: string, done: number, total: number | null }} Progress
 */

/**
 * @param {Response} response
 * @param {string} what
 * @param {(p: Progress) => void} report
 * @returns {ReadableStream<Uint8Array>}
 */
export function countedBody(response, what, report) {
  const total = Number(response.headers.get('Content-Length')) || null;
  let done = 0;
  return /** @type {ReadableStream<Uint8Array>} */ (response.body).pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        done += chunk.byteLength;
        if (done < (total ?? Infinity)) report({ what, done, total });
        controller.enqueue(chunk);
      },
      flush() {
        report({ what, done, total: done });
      },
    }),
  );
}

/** `response`'s body as an ArrayBuffer, reporting what has arrived. */
/**
 * @param {Response} response
 * @param {string} what
 * @param {(p: Progress) => void} report
 * @returns {Promise<ArrayBuffer>}
 */
export function readCounted(response, what, report) {
  return new Response(countedBody(response, what, report)).arrayBuffer();
}
