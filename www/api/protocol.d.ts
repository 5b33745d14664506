/** The operations, by their name in code. */
export declare const OP: Readonly<{
    prepare: "prepare";
    open: "open";
    close: "close";
    segment: "segment";
    explain: "explain";
    describe: "describe";
    uncertainty: "uncertainty";
    featureMaps: "feature-maps";
    compareMaps: "compare-maps";
    finetune: "finetune";
    resumeFinetune: "resume-finetune";
    pairFiles: "pair-files";
    evaluate: "evaluate";
    exportWeights: "export-weights";
    keepCompiledCode: "keep-compiled-code";
    memory: "memory";
    loadWeights: "load-weights";
    preview: "preview";
    clearRun: "clear-run";
    panic: "panic";
    control: "control";
    module: "module";
    panicChannel: "panic-channel";
}>;
/** The `type` of a message from the worker that answers no request by itself. */
export declare const EVENT: Readonly<{
    progress: "progress";
    backend: "backend";
    panic: "panic";
}>;
/** What `OP.control` asks of the fine-tuning run in progress. */
export declare const CONTROL: Readonly<{
    pause: "pause";
    resume: "resume";
    cancel: "cancel";
}>;
/** Operations that run in the worker's training lane, beside the model calls. */
export declare const TRAINING_OPS: readonly ("finetune" | "resume-finetune")[];
/** Operations that run the model on a photo: the first of them lets WebGPU's warm-up start. */
export declare const MODEL_OPS: readonly ("explain" | "feature-maps" | "segment" | "uncertainty")[];
export type Op = typeof OP[keyof typeof OP];
export type ControlAction = typeof CONTROL[keyof typeof CONTROL];
export type Backend = 'cpu' | 'webgpu';
export type ModuleKind = 'cpu' | 'threads' | 'webgpu';
export type Request = {
    /**
     * Answered by the message with the same id.
     */
    id: number;
    op: Op;
    /**
     * The operation's arguments; `sid` names the LesionLab.
     */
    args: Record<string, any>;
};
export type WireError = {
    message: string;
    /**
     * One of the crate's error kinds, or null for errors from outside it.
     */
    kind: string | null;
};
export type Answer = {
    id: number;
    ok: true;
    result: any;
} | {
    id: number;
    ok: false;
    error: WireError;
};
export type ProgressMessage = {
    type: 'progress';
    /**
     * The request it belongs to.
     */
    id: number;
    progress: Record<string, any>;
};
export type BackendMessage = {
    type: 'backend';
    sid: number;
    /**
     * Where its next calls run.
     */
    backend: Backend;
    /**
     * The CPU threads its next calls run on (1 on WebGPU).
     */
    threads: number;
    /**
     * Why, in a sentence.
     */
    reason: string;
    /**
     * The forward's milliseconds on each, when measured.
     */
    ms: {
        cpu?: number;
        webgpu?: number;
    };
};
export type PanicMessage = {
    type: 'panic';
    message: string;
};
export type FromWorker = Answer | ProgressMessage | BackendMessage | PanicMessage;
export type Notice = {
    op: 'control';
    args: {
        action: ControlAction;
    };
} | {
    op: 'module';
    args: {
        kind: ModuleKind;
        body: ReadableStream<Uint8Array>;
        total: string | null;
    };
} | {
    op: 'panic-channel';
    args: {
        name: string;
    };
};
export type ToWorker = Request | Notice;
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
