/** An Error with the crate's `kind`: `weights`, `unreadable-image`, `device`, ... */
export declare class LesionLabError extends Error {
    kind: string;
    /**
     * @param {string} kind
     * @param {string} message
     */
    constructor(kind: string, message: string);
}
/** A LesionLabError of `kind`. */
/**
 * @param {string} kind
 * @param {string} message
 */
export declare function fail(kind: string, message: string): LesionLabError;
/** An error as a message can carry it between the worker and the page. */
/** @param {any} err */
export declare function serialise(err: any): {
    message: string;
    kind: any;
};
/** An error's message, whatever was thrown. */
/** @param {unknown} err */
export declare function messageOf(err: unknown): string;
/** The error `serialise` described; errors from outside the crate keep no kind ('internal'). */
/** @param {import('./protocol.js').WireError} error */
export declare function deserialise({ message, kind }: import('./protocol.js').WireError): LesionLabError;
