// The box prompt: drag a rectangle around the lesion on the photo and the model looks inside it
// only (`lab.segment(photo, { box })`): for a small lesion in a wide photo, or a mask that took a
// pen circle, the dermatoscope's rim or a wide patch for the lesion.

import { photoPoint } from './render.js';

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);

/** A drag shorter than this many photo pixels on either side is a click, not a box. */
const SMALLEST_BOX = 4;

/**
 * Wires the box tool. `current()` gives the photo on screen (`{ pixels, box }`) or null;
 * `boxed(box)` runs with the box drawn (photo pixels) or null when it is cleared.
 */
export function setupBox({ current, boxed }) {
  const canvas = $('overlay');
  const preview = $('box-preview');
  let drag = null; // { pointerId, from: photo pixel, start: client point }
  const boxing = () => document.body.classList.contains('boxing');

  const setBoxing = (on) => {
    document.body.classList.toggle('boxing', on);
    $('box-toggle').setAttribute('aria-pressed', String(on));
    $('box-toggle').textContent = on ? 'Stop drawing' : 'Draw a box';
    canvas.setAttribute('aria-description', on ? 'Drag on the photo to draw a box around the lesion' : '');
    // One tool on the photo at a time: the brush stops while boxing.
    if (on && document.body.classList.contains('editing')) $('edit-toggle').click();
    // The button sits below the photo: bring the photo to the pointer.
    if (on) canvas.scrollIntoView({ block: 'nearest' });
  };

  const place = (a, b) => {
    const parent = preview.parentElement.getBoundingClientRect();
    Object.assign(preview.style, {
      left: `${Math.min(a.x, b.x) - parent.left}px`,
      top: `${Math.min(a.y, b.y) - parent.top}px`,
      width: `${Math.abs(a.x - b.x)}px`,
      height: `${Math.abs(a.y - b.y)}px`,
    });
  };

  canvas.addEventListener('pointerdown', (e) => {
    if (!boxing() || !current() || e.button !== 0 || drag) return;
    drag = { pointerId: e.pointerId, from: photoPoint(canvas, e), start: { x: e.clientX, y: e.clientY } };
    preview.hidden = false;
    place(drag.start, drag.start);
    canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (drag?.pointerId === e.pointerId) place(drag.start, { x: e.clientX, y: e.clientY });
  });
  const end = (e, cancelled) => {
    if (drag?.pointerId !== e.pointerId) return;
    const [x0, y0] = drag.from;
    const [x1, y1] = photoPoint(canvas, e);
    drag = null;
    preview.hidden = true;
    const photo = current();
    if (cancelled || !photo) return;
    const { width, height } = photo.pixels;
    const clamp = (v, top) => Math.min(top, Math.max(0, v));
    const box = {
      x: clamp(Math.min(x0, x1), width),
      y: clamp(Math.min(y0, y1), height),
      width: 0,
      height: 0,
    };
    box.width = clamp(Math.max(x0, x1), width) - box.x;
    box.height = clamp(Math.max(y0, y1), height) - box.y;
    if (box.width < SMALLEST_BOX || box.height < SMALLEST_BOX) return;
    setBoxing(false);
    boxed(box);
  };
  canvas.addEventListener('pointerup', (e) => end(e, false));
  canvas.addEventListener('pointercancel', (e) => end(e, true));

  $('box-toggle').addEventListener('click', () => setBoxing(!boxing()));
  $('edit-toggle').addEventListener('click', () => {
    if (document.body.classList.contains('editing') && boxing()) setBoxing(false);
  });
  $('box-clear').addEventListener('click', () => boxed(null));

  return {
    /** A new result or photo on screen: the tools follow it. */
    update() {
      const photo = current();
      $('box-tools').disabled = !photo;
      $('box-clear').disabled = !photo?.box;
      if (!photo && boxing()) setBoxing(false);
    },
  };
}
