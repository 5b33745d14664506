// The camera: a live mask over the camera's picture (`lab.live`), the frames per second, and
// "Freeze", which keeps the frame and hands it to the page as a photo (the whole model, refine,
// explanations and ABCD, as for a dropped photo).

import { overlay, show } from './render.js';

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);

/** What the page asks the camera for: a phone dermatoscope or webcam's usual picture. */
const CAMERA = { video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'environment' }, audio: false };

/**
 * Wires the camera. `labFor()` gives the page's LesionLab of the chosen model; `frozen(blob,
 * name)` opens a frozen frame as the page's photo; `failed(err)` shows an error.
 * @param {{
 *   labFor: () => Promise<import('../api/lesionlab.js').LesionLab>,
 *   frozen: (blob: Blob, name: string) => void,
 *   failed: (err: unknown) => void,
 * }} hooks
 */
export function setupCamera({ labFor, frozen, failed }) {
  /** @type {MediaStream | null} */
  let stream = null;
  /** @type {import('../api/live.js').Live | null} */
  let live = null;
  /** @type {ImageBitmap | null} */
  let last = null; // the frame on screen, kept for Freeze

  const keep = (/** @type {ImageBitmap | null} */ frame) => {
    last?.close();
    last = frame;
  };

  const stop = async () => {
    const running = live;
    live = null;
    await running?.stop();
    // The stream is the page's own: its tracks stop here, which turns the camera's light off.
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = null;
    $('camera').hidden = true;
    $('camera-start').disabled = false;
  };

  // Every frame's pixels pass through one canvas, made again only when the frame size changes.
  /** @type {OffscreenCanvasRenderingContext2D | null} */
  let scratch = null;
  const draw = (/** @type {import('../api/lesionlab.js').LiveResult} */ r) => {
    const canvas = $('camera-view');
    const { width, height } = r.frame;
    if (scratch?.canvas.width !== width || scratch.canvas.height !== height) {
      scratch = /** @type {OffscreenCanvasRenderingContext2D} */ (
        new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })
      );
    }
    const ctx = scratch;
    ctx.drawImage(r.frame, 0, 0);
    show(canvas, overlay(ctx.getImageData(0, 0, width, height), r.mask, { opacity: 0.25 }));
    keep(r.frame);
    $('camera-fps').textContent = `${r.fps.toFixed(1)} frames per second, ${where(r)}`;
    canvas.dataset.frames = String(r.index);
  };

  const start = async () => {
    $('camera-start').disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia(CAMERA);
      $('camera').hidden = false;
      $('camera-fps').textContent = 'Starting…';
      const lab = await labFor();
      if (!stream) return; // stopped meanwhile
      live = await lab.live(stream, {
        threshold: Number($('threshold').value),
        onResult: draw,
        onError: (err) => {
          failed(err);
          stop();
        },
      });
      $('camera-freeze').focus();
    } catch (err) {
      failed(err);
      await stop();
    }
  };

  const freeze = async () => {
    if (!last) return;
    const frame = last;
    last = null;
    await stop();
    const canvas = new OffscreenCanvas(frame.width, frame.height);
    /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d')).drawImage(frame, 0, 0);
    frame.close();
    const time = new Date().toISOString().slice(11, 19).replaceAll(':', '-');
    frozen(await canvas.convertToBlob({ type: 'image/png' }), `camera-${time}.png`);
  };

  $('camera-start').addEventListener('click', start);
  $('camera-stop').addEventListener('click', stop);
  $('camera-freeze').addEventListener('click', freeze);
}

/** Where the live masks are computed. */
function where(/** @type {{ backend: string, threads: number }} */ { backend, threads }) {
  return backend === 'webgpu' ? 'WebGPU' : `CPU, ${threads} thread${threads > 1 ? 's' : ''}`;
}
