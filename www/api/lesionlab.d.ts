export { LesionLabError } from './errors.js';
export type ModeId = import('./modes.js').ModeId;
export type ModelId = 'unet' | 'unetpp' | 'pspnet';
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export type Backend = 'webgpu' | 'cpu';
export type ThreadsChoice = import('./threads.js').ThreadsChoice;
export type Takeover = 'faster' | 'ready';
export type Method = 'activation' | 'cam' | 'gradcam';
export type PhotoSource = Blob | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | VideoFrame;
export type WeightsSource = ArrayBuffer | ArrayBufferView | Blob | URL | string;
export type LoadProgress = {
    what: 'module' | 'weights' | 'quick-start';
    done: number;
    /**
     * Null while a host that sends no length is still sending.
     */
    total: number | null;
};
export type BackendEvent = {
    /**
     * Where the next calls run.
     */
    backend: Backend;
    /**
     * The CPU threads the next calls run on (1 on WebGPU).
     */
    threads: number;
    /**
     * Why, in a sentence.
     */
    reason: string;
    /**
     * A forward's milliseconds on each, when measured.
     */
    ms: {
        cpu?: number;
        webgpu?: number;
    };
};
export type CreateOptions = {
    /**
     * Default 'unetpp'.
     */
    model?: ModelId;
    /**
     * Default 'auto'.
     */
    backend?: BackendChoice;
    /**
     * CPU threads, where the page is cross-origin isolated: 'auto'
     * (default: every core, up to 8) or a count; 1 where it is not. The page's first LesionLab decides.
     */
    threads?: ThreadsChoice;
    /**
     * Default 'faster'.
     */
    takeover?: Takeover;
    /**
     * Default: the shipped weights.
     */
    weights?: WeightsSource | null;
    /**
     * The model's input size; default: the one the weights record.
     */
    size?: number;
    /**
     * Resolve once U-Net++'s quick-start file is in (default false).
     */
    quickStart?: boolean;
    onProgress?: (p: LoadProgress) => void;
    onBackend?: (e: BackendEvent) => void;
};
export type ModeOptions = {
    mode?: string;
    level?: number;
};
export type Box = {
    x: number;
    y: number;
    width: number;
    height: number;
};
export type SegmentOptions = ModeOptions & {
    threshold?: number;
    tta?: boolean;
    heads?: boolean;
    lesions?: 'one' | 'all';
    refine?: boolean;
    box?: Box;
    points?: Point[];
};
export type Point = {
    x: number;
    y: number;
    label: 0 | 1;
};
export type PhotoCheck = {
    looksLikeDermoscopy: boolean;
    warning: string | null;
    reasons: string[];
    saturation: number;
    detail: number;
    offSkin: number;
    grey?: boolean;
};
export type Head = {
    level: number;
    ms: number;
    mask: Uint8Array;
    probability: Float32Array;
};
export type SegmentResult = {
    width: number;
    height: number;
    /**
     * 0 or 255 per pixel, at the photo's size.
     */
    mask: Uint8Array;
    /**
     * In [0, 1] per pixel.
     */
    probability: Float32Array;
    check: PhotoCheck;
    /**
     * The kept lesion's bounding box.
     */
    lesion: Box | null;
    /**
     * The crop the second pass saw.
     */
    refined: Box | null;
    ms: {
        preprocess: number;
        model: number;
        postprocess: number;
    };
    /**
     * Whether this call decoded the photo.
     */
    decoded: boolean;
    /**
     * The forward passes run on the photo so far.
     */
    passes: number;
    backend: Backend;
    /**
     * The CPU threads that ran it (1 on WebGPU).
     */
    threads: number;
    heads?: Head[];
};
export type ExplainOptions = ModeOptions & {
    method?: Method;
    layer?: string;
    target?: string;
};
export type ExplainResult = {
    width: number;
    height: number;
    /**
     * In [0, 1], at the photo's size.
     */
    heatmap: Float32Array;
    layer: string;
    method: Method;
    /**
     * The model's mean output over the photo.
     */
    meanLogit: number;
    /**
     * Why the map is blank, or null.
     */
    blankNote: string | null;
    decoded: boolean;
    passes: number;
    backend: Backend;
    /**
     * The CPU threads that ran it (1 on WebGPU).
     */
    threads: number;
};
export type FeatureMapsOptions = ModeOptions & {
    layer?: string;
    count?: number;
};
export type FeatureMapsResult = {
    layer: string;
    /**
     * What the stage does, in one line.
     */
    description: string;
    /**
     * [C, H, W].
     */
    shape: [number, number, number];
    channels: {
        index: number;
        mean: number;
        max: number;
        map: Float32Array;
    }[];
    width: number;
    height: number;
    decoded: boolean;
    backend: Backend;
    /**
     * The CPU threads that ran it (1 on WebGPU).
     */
    threads: number;
};
export type UncertaintyOptions = ModeOptions & {
    method?: 'tta' | 'models';
    threshold?: number;
};
export type UncertaintyResult = {
    width: number;
    height: number;
    /**
     * Per pixel the standard deviation of the maps' probabilities.
     */
    spread: Float32Array;
    meanSpread: number;
    /**
     * The share of the photo some maps call lesion and others not.
     */
    disagreement: number;
    method: 'tta' | 'models';
    backend?: Backend;
    /**
     * The CPU threads that ran it (1 on WebGPU).
     */
    threads: number;
};
export type MaskInput = {
    mask: Uint8Array;
    width: number;
    height: number;
};
export type Description = {
    areaPx: number;
    areaShare: number;
    asymmetry: [number, number];
    compactness: number;
    roughness: number;
    perimeterPx: number;
    colours: {
        name: string;
        share: number;
        present: boolean;
    }[];
    diameterPx: number;
    diameterMm: number | null;
};
export type FineTuneSettings = {
    epochs?: number;
    batchSize?: number;
    lr?: number;
    size?: number;
    valFraction?: number;
    augment?: boolean;
    seed?: number;
};
export type FineTuneProgress = {
    kind: string;
    [field: string]: any;
};
export type TrainingOptions = {
    onProgress?: (p: FineTuneProgress) => void;
    signal?: AbortSignal;
};
export type Skipped = {
    file: string;
    reason: string;
};
export type EpochRecord = {
    epoch: number;
    trainLoss: number;
    valLoss: number | null;
    valIoU: number | null;
    valDice: number | null;
};
export type FineTuneResult = {
    paired: number;
    skipped: Skipped[];
    history: EpochRecord[];
    before: Partial<EpochRecord> | null;
    outcome: 'finished' | 'cancelled';
    train: number;
    val: number;
    backend: Backend;
    /**
     * The CPU threads that ran it (1 on WebGPU).
     */
    threads: number;
};
export type PairFilesResult = {
    files: number;
    pairs: number;
    skipped: Skipped[];
};
export type Live = import('./live.js').Live;
export type LiveOptions = SegmentOptions & {
    onResult: (r: LiveResult) => void;
    onError?: (err: Error) => void;
};
export type LiveResult = SegmentResult & {
    frame: ImageBitmap;
    index: number;
    fps: number;
};
export type Scores = {
    jaccard: number;
    dice: number;
    /**
     * Jaccard, or 0 where it is below 0.65 (ISIC 2018's score).
     */
    thresholdedJaccard: number;
    sensitivity: number;
    specificity: number;
    accuracy: number;
};
export type EvaluateOptions = ModeOptions & {
    threshold?: number;
    tta?: boolean;
    lesions?: 'one' | 'all';
    refine?: boolean;
    worst?: number;
    onProgress?: (p: {
        done: number;
        total: number;
        name: string;
    }) => void;
};
export type EvaluatedImage = Scores & {
    name: string;
    image: string;
    mask: string;
    ms: number;
};
export type WorstImage = {
    name: string;
    jaccard: number;
    width: number;
    height: number;
    prediction: Uint8Array;
    photo: Blob;
    truth: Blob;
};
export type EvaluateResult = {
    /**
     * In the order of the pairing (ISIC ids).
     */
    images: EvaluatedImage[];
    count: number;
    /**
     * The per-image mean (the challenge's score).
     */
    mean: Scores;
    /**
     * The per-image median.
     */
    median: Scores;
    /**
     * All photos' pixels as one image.
     */
    pooled: Scores;
    /**
     * Files that were not scored, and why.
     */
    skipped: Skipped[];
    /**
     * The lowest Jaccard first.
     */
    worst: WorstImage[];
    backend: Backend;
    threads: number;
};
export type SavedRun = {
    model: ModelId;
    settings: Required<FineTuneSettings>;
    paired: number;
    history: EpochRecord[];
    before: Partial<EpochRecord> | null;
    status: 'running' | 'finished' | 'cancelled';
    hasCheckpoint: boolean;
    savedAt: number;
};
export type PreviewItem = {
    id: string;
    size: number;
    rgba: Uint8Array;
    truth: Uint8Array;
    before: Uint8Array;
    after: Uint8Array;
};
export type MemoryInfo = {
    wasmBytes: number;
    workerHeapBytes: number | null;
    modules: Record<string, number>;
};
export type LayerInfo = {
    name: string;
    description: string;
};
export type OpenInfo = {
    backend: Backend;
    /**
     * The CPU threads its calls run on (1 on WebGPU).
     */
    threads: number;
    /**
     * Keyed by mode id.
     */
    modes: Record<string, {
        layers: LayerInfo[];
        defaults: Record<string, string>;
    }>;
    inputSize: number;
    note: string | null;
    quickStartLevel: number | null;
};
export type LoadedWeights = {
    bytes: ArrayBuffer;
    source: string;
};
/**
 * URL of a shipped default weights file.
 * @param {string} model
 */
export declare function defaultWeightsUrl(model: string): URL;
/** The mode options name, as an id of `MODES`; a bad-argument error for an unknown one. */
export declare function modeOf(/** @type {ModeOptions} */ options?: ModeOptions): import("./modes.js").ModeId;
export declare class LesionLab {
    #private;
    /** @param {symbol} token Use `LesionLab.create`. */
    constructor(token: symbol);
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
    static create(options?: CreateOptions): Promise<LesionLab>;
    /**
     * Whether a call in a mode (`options.mode`, `options.level` as in `segment`) runs on the
     * weights loaded now: false while only the quick-start weights are in and the mode needs more
     * of the network (the call then waits for the whole weights).
     * @param {ModeOptions} [options]
     */
    runsNow(options?: ModeOptions): boolean;
    /**
     * With `quickStart`, U-Net++'s head (1-4) the quick-start weights run alone until the whole
     * weights are in; otherwise null.
     * @returns {number | null}
     */
    get quickStartLevel(): number | null;
    /**
     * `quickStartLevel`'s name in earlier releases (U-Net++'s head L alone was its "fast mode").
     * @deprecated Use `quickStartLevel`.
     * @returns {number | null}
     */
    get fastOnly(): number | null;
    /**
     * Resolves once the whole weights are loaded (at once without `quickStart`, or when the
     * LesionLab is disposed first); rejects if they could not be (the next call that needs them
     * tries again, and `whole` is then that new attempt).
     * @returns {Promise<void>}
     */
    get whole(): Promise<void>;
    /**
     * Where the next call runs: 'webgpu' or 'cpu' (with 'auto' it starts as 'cpu').
     * @returns {Backend}
     */
    get backend(): Backend;
    /**
     * The CPU threads the next call runs on: more than 1 only where the page is cross-origin
     * isolated (the threaded module); 1 on WebGPU, where the GPU computes.
     * @returns {number}
     */
    get threads(): number;
    /**
     * Why the backend is the one it is ('auto' without WebGPU, or after WebGPU was measured), or null.
     * @returns {string | null}
     */
    get backendNote(): string | null;
    /**
     * 'unet', 'unetpp' or 'pspnet'.
     * @returns {ModelId}
     */
    get model(): ModelId;
    /**
     * The side of the square the model sees; photos are resized to it and back.
     * @returns {number}
     */
    get inputSize(): number;
    /**
     * The layers `explain` can read in a mode (`options.mode`, `options.level` as in `segment`;
     * default: the deepest head, every layer). A U-Net++ head below 4 computes only part of them.
     * @param {ModeOptions} [options]
     * @returns {string[]}
     */
    layers(options?: ModeOptions): string[];
    /**
     * `layers(options)` with what each does: `[{ name, description }]`, input side first.
     * @param {ModeOptions} [options]
     * @returns {LayerInfo[]}
     */
    layerInfo(options?: ModeOptions): LayerInfo[];
    /**
     * The layer `explain` reads for `method` ('gradcam' | 'cam' | 'activation') in a mode.
     * @param {Method} [method]
     * @param {ModeOptions} [options]
     * @returns {string}
     */
    defaultLayer(method?: Method, options?: ModeOptions): string;
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
    segment(source: PhotoSource, options?: SegmentOptions): Promise<SegmentResult>;
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
    evaluate(files: Iterable<File | Blob>, options?: EvaluateOptions): Promise<EvaluateResult>;
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
    live(source: MediaStream | HTMLVideoElement, options: LiveOptions): Promise<Live>;
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
    explain(source: PhotoSource, options?: ExplainOptions): Promise<ExplainResult>;
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
    featureMaps(source: PhotoSource, options?: FeatureMapsOptions): Promise<FeatureMapsResult>;
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
    uncertainty(source: PhotoSource, options?: UncertaintyOptions): Promise<UncertaintyResult>;
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
    describe(mask: MaskInput, photo: PhotoSource, options?: {
        mmPerPixel?: number;
    }): Promise<Description>;
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
    finetune(files: Iterable<File>, options?: FineTuneSettings & TrainingOptions): Promise<FineTuneResult>;
    /**
     * What `finetune` would find in `files`, by name only (zips opened, nothing decoded):
     * { files, pairs, skipped: [{ file, reason }] } with `files` counting zip entries.
     * @param {Iterable<File>} files
     * @returns {Promise<PairFilesResult>}
     */
    pairFiles(files: Iterable<File>): Promise<PairFilesResult>;
    /**
     * `pairFiles` without a model: only the (shared) CPU module is loaded for it.
     * @param {Iterable<File>} files
     * @returns {Promise<PairFilesResult>}
     */
    static pairFiles(files: Iterable<File>): Promise<PairFilesResult>;
    /**
     * Resumes the fine-tuning run saved in IndexedDB (after a reload); options as `finetune`.
     * @param {TrainingOptions} [options]
     * @returns {Promise<FineTuneResult>}
     */
    resumeFinetune(options?: TrainingOptions): Promise<FineTuneResult>;
    /** Pauses fine-tuning after the current step. */
    pauseTraining(): void;
    /** Goes on after `pauseTraining`. */
    resumeTraining(): void;
    /** Stops fine-tuning after the current step; the last epoch's checkpoint stays saved. */
    cancelTraining(): void;
    /**
     * What the page's LesionLab worker holds (all its models together): `{ wasmBytes,
     * workerHeapBytes, modules }`, the WebAssembly memory (it grows to the largest photo and model
     * run so far and never shrinks, so a worker that held a photo of 16 megapixels or more is
     * replaced once idle for 4 s; `modules` per module) and the worker's JS heap (null in browsers
     * that do not say).
     * @returns {Promise<MemoryInfo>}
     */
    memory(): Promise<MemoryInfo>;
    /**
     * The current weights (fine-tuned after `finetune`) as a safetensors ArrayBuffer.
     * @returns {Promise<ArrayBuffer>}
     */
    exportWeights(): Promise<ArrayBuffer>;
    /**
     * Replaces the weights with a safetensors file (ArrayBuffer, Blob or URL), checked first:
     * another model's weights or wrong shapes are refused and the current weights stay.
     * @param {WeightsSource} weights
     * @returns {Promise<void>}
     */
    loadWeights(weights: WeightsSource): Promise<void>;
    /**
     * Up to `n` validation pairs of the last fine-tuning run with the masks of the starting and
     * the fine-tuned weights: [{ id, size, rgba, truth, before, after }] at the training size.
     * @param {number} [n]
     * @returns {Promise<PreviewItem[]>}
     */
    finetunePreview(n?: number): Promise<PreviewItem[]>;
    /**
     * The fine-tuning run saved in this browser, without its data: { model, settings, paired,
     * history, before, status: 'running' | 'finished' | 'cancelled', hasCheckpoint, savedAt },
     * or null. 'running' means it stopped unexpectedly (a reload, a crash) and can be resumed.
     * @returns {Promise<SavedRun | null>}
     */
    static savedRun(): Promise<SavedRun | null>;
    /**
     * Forgets the saved fine-tuning run.
     * @returns {Promise<void>}
     */
    static discardSavedRun(): Promise<void>;
    /** Frees the model; the worker stops with the page's last LesionLab. */
    dispose(): void;
    /**
     * For the browser tests: makes the wasm module panic (`onPool`: on a thread of the threaded
     * module's pool).
     * @param {boolean} [onPool]
     * @returns {Promise<null>}
     */
    _panicForTest(onPool?: boolean): Promise<null>;
}
