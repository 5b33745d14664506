// Clicks on the lesion: in click mode a click on the photo says "this is the lesion" and an
// Alt+click or a long press "this is not" (`lab.segment(photo, { points })`); Undo takes back
// the last click. The rule that turns clicks into a mask is the crate's (README, "Clicks on the
// lesion").

import { photoPoint } from './render.js';

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);

/** A press held this long is a negative click (touch screens have no Alt key). */
const LONG_PRESS_MS = 500;
/** A press that moves further than this (CSS pixels) is a drag, not a click. */
const CLICK_SLOP = 8;

/**
 * Wires the click tool. `current()` gives the photo on screen (`{ pixels, points }`) or null;
 * `clicked(points)` runs with the photo's new list of clicks.
 * @param {{ current: () => any, clicked: (points: { x: number, y: number, label: 0 | 1 }[]) => void }} hooks
 */
export function setupPoints({ current, clicked }) {
  const canvas = $('overlay');
  /** @type {{ pointerId: number, at: number, x: number, y: number, alt: boolean } | null} */
  let press = null;
  const pointing = () => document.body.classList.contains('pointing');

  const setPointing = (/** @type {boolean} */ on) => {
    document.body.classList.toggle('pointing', on);
    $('points-toggle').setAttribute('aria-pressed', String(on));
    $('points-toggle').textContent = on ? 'Stop clicking' : 'Click on the lesion';
    canvas.setAttribute(
      'aria-description',
      on ? 'Click on the lesion; Alt+click or a long press on what is not the lesion' : '',
    );
    // One tool on the photo at a time.
    if (on && document.body.classList.contains('editing')) $('edit-toggle').click();
    if (on && document.body.classList.contains('boxing')) $('box-toggle').click();
    if (on) canvas.scrollIntoView({ block: 'nearest' });
  };

  const add = (/** @type {number} */ x, /** @type {number} */ y, /** @type {0 | 1} */ label) => {
    const photo = current();
    if (!photo) return;
    const { width, height } = photo.pixels;
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    clicked([...(photo.points ?? []), { x, y, label }]);
  };

  canvas.addEventListener('pointerdown', (/** @type {PointerEvent} */ e) => {
    if (!pointing() || !current() || e.button !== 0 || press) return;
    press = { pointerId: e.pointerId, at: performance.now(), x: e.clientX, y: e.clientY, alt: e.altKey };
    e.preventDefault();
  });
  canvas.addEventListener('pointerup', (/** @type {PointerEvent} */ e) => {
    if (press?.pointerId !== e.pointerId) return;
    const { at, x, y, alt } = press;
    press = null;
    if (Math.hypot(e.clientX - x, e.clientY - y) > CLICK_SLOP) return;
    const negative = alt || e.altKey || performance.now() - at >= LONG_PRESS_MS;
    const [px, py] = photoPoint(canvas, e);
    add(px, py, negative ? 0 : 1);
  });
  canvas.addEventListener('pointercancel', () => {
    press = null;
  });
  // A long press on a touch screen would open the context menu.
  canvas.addEventListener('contextmenu', (/** @type {Event} */ e) => {
    if (pointing()) e.preventDefault();
  });

  $('points-toggle').addEventListener('click', () => setPointing(!pointing()));
  $('box-toggle').addEventListener('click', () => {
    if (document.body.classList.contains('boxing') && pointing()) setPointing(false);
  });
  $('edit-toggle').addEventListener('click', () => {
    if (document.body.classList.contains('editing') && pointing()) setPointing(false);
  });
  $('points-undo').addEventListener('click', () => {
    const photo = current();
    if (photo?.points?.length) clicked(photo.points.slice(0, -1));
  });
  $('points-clear').addEventListener('click', () => clicked([]));

  return {
    /** A new result or photo on screen: the tools follow it. */
    update() {
      const photo = current();
      const n = photo?.points?.length ?? 0;
      $('points-undo').disabled = $('points-clear').disabled = !n;
      $('points-count').textContent = n
        ? `${photo.points.filter((/** @type {any} */ p) => p.label).length} on the lesion, ${
            photo.points.filter((/** @type {any} */ p) => !p.label).length
          } not`
        : '';
      if (!photo && pointing()) setPointing(false);
    },
  };
}
