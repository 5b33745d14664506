/** A running live segmentation. */
export declare class Live {
    #private;
    /**
     * @param {{ running: boolean, wake: () => void }} state
     * @param {Promise<void>} done
     */
    constructor(state: {
        running: boolean;
        wake: () => void;
    }, done: Promise<void>);
    /** Whether frames are still being segmented. */
    get running(): boolean;
    /**
     * Ends it; resolves when the frame in progress is done. The page's stream and video element
     * are left as they were.
     * @returns {Promise<void>}
     */
    stop(): Promise<void>;
}
/**
 * Starts segmenting `source`'s frames with `segmentFrame` (one at a time) and hands each result to
 * `onResult` with the frame, its index and the frames per second.
 * @param {MediaStream | HTMLVideoElement} source
 * @param {(frame: ImageBitmap) => Promise<any>} segmentFrame
 * @param {{ onResult: (r: any) => void, onError?: (err: Error) => void, onEnd?: () => void }} callbacks
 *   `onEnd` runs once it has stopped, or failed to start.
 * @returns {Promise<Live>}
 */
export declare function startLive(source: MediaStream | HTMLVideoElement, segmentFrame: (frame: ImageBitmap) => Promise<any>, { onResult, onError, onEnd }: {
    onResult: (r: any) => void;
    onError?: (err: Error) => void;
    onEnd?: () => void;
}): Promise<Live>;
