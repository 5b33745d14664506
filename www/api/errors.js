// Errors of the JS API. Each carries a `kind` (and a `name` such as `WeightsError`) so that the
// page, the worker and scripts decide by kind, never by message text. The kinds are the crate's
// (`src/error.rs`, `ErrorKind`; the wasm module's `errorKinds()` lists them, and a Rust test
// checks that this folder uses no other).

/** An Error with the crate's `kind`: `weights`, `unreadable-image`, `device`, ... */
export class LesionLabError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
    this.name = `${kind
      .split('-')
      .map((/** @type {string} */ w) => w[0].toUpperCase() + w.slice(1))
      .join('')}Error`;
  }
}

/** A LesionLabError of `kind`. */
/**
 * @param {string} kind
 * @param {string} message
 */
export function fail(kind, message) {
  return new LesionLabError(kind, message);
}

/** An error as a message can carry it between the worker and the page. */
/** @param {any} err */
export function serialise(err) {
  if (err instanceof Error) return { message: err.message, kind: /** @type {any} */ (err).kind ?? null };
  if (err && typeof err === 'object' && 'message' in err)
    return { message: String(err.message), kind: err.kind ?? null };
  return { message: String(err), kind: null };
}

/** An error's message, whatever was thrown. */
/** @param {unknown} err */
export function messageOf(err) {
  return serialise(err).message;
}

/** The error `serialise` described; errors from outside the crate keep no kind ('internal'). */
/** @param {import('./protocol.js').WireError} error */
export function deserialise({ message, kind }) {
  return new LesionLabError(kind ?? 'internal', message);
}
