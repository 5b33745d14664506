// Live video segmented frame by frame (`lab.live`): one frame at a time, and always the newest
// one, so that a slow model drops frames instead of falling behind the camera.

import { fail } from './errors.js';

/** Results over which `fps` is measured. */
const FPS_WINDOW = 10;
/** How long a video may take to show its first picture. */
const FIRST_FRAME_MS = 15000;

/** A running live segmentation. */
export class Live {
  #state;
  #done;

  /**
   * @param {{ running: boolean, wake: () => void }} state
   * @param {Promise<void>} done
   */
  constructor(state, done) {
    this.#state = state;
    this.#done = done;
  }

  /** Whether frames are still being segmented. */
  get running() {
    return this.#state.running;
  }

  /**
   * Ends it; resolves when the frame in progress is done. The page's stream and video element
   * are left as they were.
   * @returns {Promise<void>}
   */
  stop() {
    this.#state.running = false;
    this.#state.wake();
    return this.#done;
  }
}

/**
 * The video to read frames from: the page's own element, or one made here for a stream (and
 * let go of at the end, without stopping the stream's tracks, which are the page's).
 * @param {MediaStream | HTMLVideoElement} source
 */
async function videoOf(source) {
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    return { video: source, owned: false };
  }
  if (typeof MediaStream !== 'undefined' && source instanceof MediaStream) {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = source;
    await video.play();
    return { video, owned: true };
  }
  throw fail('bad-argument', 'live needs a MediaStream (a camera) or an HTMLVideoElement');
}

/** Waits until `video` has a picture to read. */
async function firstFrame(/** @type {HTMLVideoElement} */ video) {
  const start = performance.now();
  while (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !video.videoWidth) {
    if (performance.now() - start > FIRST_FRAME_MS) {
      throw fail('bad-argument', `the video showed no picture in ${FIRST_FRAME_MS / 1000} s (is the camera on?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

/** Resolves at the video's next new frame, or when `state.wake` is called (stop). */
function nextFrame(/** @type {HTMLVideoElement} */ video, /** @type {{ wake: () => void }} */ state) {
  return new Promise((resolve) => {
    state.wake = () => resolve(undefined);
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve(undefined));
    else requestAnimationFrame(() => resolve(undefined));
  });
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
export async function startLive(source, segmentFrame, { onResult, onError, onEnd = () => {} }) {
  let video;
  let owned;
  try {
    ({ video, owned } = await videoOf(source));
    await firstFrame(video);
  } catch (err) {
    onEnd();
    throw err;
  }
  const state = { running: true, wake: () => {} };
  /** @type {number[]} */
  const times = [];
  let index = 0;
  const done = (async () => {
    try {
      while (state.running) {
        const frame = await createImageBitmap(video);
        const r = await segmentFrame(frame).catch((err) => {
          frame.close();
          throw err;
        });
        if (!state.running) {
          frame.close();
          break;
        }
        times.push(performance.now());
        if (times.length > FPS_WINDOW) times.shift();
        const fps = times.length > 1 ? (1000 * (times.length - 1)) / (times[times.length - 1] - times[0]) : 0;
        index += 1;
        onResult({ ...r, frame, index, fps });
        await nextFrame(video, state);
      }
    } catch (err) {
      state.running = false;
      if (onError) onError(/** @type {Error} */ (err));
      else console.error('LesionLab live stopped:', err);
    } finally {
      if (owned) {
        video.pause();
        video.srcObject = null;
      }
      onEnd();
    }
  })();
  return new Live(state, done);
}
