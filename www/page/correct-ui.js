// The page's mask correction: a brush and an eraser on the overlay, undo and redo, the corrected
// mask kept in "my corrections" for fine-tuning (the page's "Download mask" downloads the mask on
// screen, corrections included). The edits belong to the photo (`photo.edits`, a MaskEdits), so
// another threshold or model keeps them.

import { keepCorrection } from './corrections.js';
import { MaskEdits } from './mask-edits.js';
import { maskImage, photoPoint, pngBlob } from './render.js';
import { OVERLAY } from '../api/rules.js';

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);

/** A fingertip's radius on screen, in CSS pixels: the smallest brush on a touch screen. */
const FINGERTIP_PX = 22;

/**
 * The correction tools' state.
 * @typedef {object} Tools
 * @property {HTMLCanvasElement} canvas The overlay the user paints on.
 * @property {HTMLElement} ring The brush's outline under the pointer.
 * @property {() => { photo: any, result: any } | null} current The photo on screen and its result.
 * @property {() => void} edited Draws the overlay again after an edit.
 * @property {number | null} stroking The pointer drawing the stroke: a second finger neither draws nor ends it.
 * @property {Preview | null} preview The stroke in progress.
 * @property {[number, number] | null} cursor The keyboard's brush, in photo pixels.
 */

/**
 * While a stroke goes on only its dabs are drawn (the full overlay of a 12-megapixel photo takes
 * longer than a frame); the whole mask is drawn again when it ends.
 * @typedef {object} Preview
 * @property {CanvasRenderingContext2D} ctx
 * @property {boolean} erase
 * @property {number} radius
 * @property {[number, number]} last
 * @property {OffscreenCanvas | null} photo The photo alone, for the eraser.
 */

const editing = () => document.body.classList.contains('editing');
const say = (/** @type {string} */ text) => {
  $('correct-status').textContent = text;
};

/** The undo, redo and reset buttons, as the edits of the photo on screen allow. */
function refresh(/** @type {Tools} */ tools) {
  const edits = tools.current()?.photo.edits;
  $('edit-undo').disabled = !edits?.canUndo;
  $('edit-redo').disabled = !edits?.canRedo;
  $('edit-reset').disabled = !edits?.canUndo;
}

/** After an edit: the buttons follow and the overlay is drawn again. */
function changed(/** @type {Tools} */ tools) {
  refresh(tools);
  tools.edited();
}

/** Turns editing on or off. */
function setEditing(/** @type {Tools} */ tools, /** @type {boolean} */ on) {
  const { canvas } = tools;
  document.body.classList.toggle('editing', on);
  $('edit-toggle').setAttribute('aria-pressed', String(on));
  $('edit-toggle').textContent = on ? 'Stop editing' : 'Edit the mask';
  const how =
    'Drag on the photo to paint or erase the mask; or move the brush with the arrow keys and paint with Space';
  canvas.setAttribute('aria-description', on ? how : '');
  // Focusable while editing, for the keyboard's brush.
  if (on) canvas.tabIndex = 0;
  else canvas.removeAttribute('tabindex');
  // The photo in view, the tools pinned below it (style.css).
  if (on) canvas.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  else tools.ring.hidden = true;
}

/** How many screen pixels a photo pixel of the canvas takes. */
function screenScale(/** @type {HTMLCanvasElement} */ canvas) {
  const box = canvas.getBoundingClientRect();
  return Math.min(box.width / canvas.width, box.height / canvas.height);
}

/**
 * The brush's radius in photo pixels: the slider's share of the photo, and on a touch screen at
 * least a fingertip (22 screen pixels), so the stroke shows around the finger.
 */
function brushRadius(
  /** @type {Tools} */ tools,
  /** @type {{ pointerType?: string }} */ e,
  /** @type {number} */ width,
  /** @type {number} */ height,
) {
  const radius = (Number($('brush-size').value) / 100) * Math.min(width, height);
  if (e.pointerType !== 'touch') return radius;
  return Math.max(radius, FINGERTIP_PX / screenScale(tools.canvas));
}

/** The brush's size under the pointer, as a ring over the photo. */
function showRing(
  /** @type {Tools} */ tools,
  /** @type {{ clientX: number, clientY: number, pointerType?: string }} */ e,
) {
  const { ring, canvas } = tools;
  const photo = tools.current()?.photo;
  if (!editing() || !photo) {
    ring.hidden = true;
    return;
  }
  const parent = /** @type {HTMLElement} */ (ring.parentElement).getBoundingClientRect();
  const { width, height } = photo.pixels;
  const diameter = 2 * brushRadius(tools, e, width, height) * screenScale(canvas);
  Object.assign(ring.style, {
    left: `${e.clientX - parent.left}px`,
    top: `${e.clientY - parent.top}px`,
    width: `${diameter}px`,
    height: `${diameter}px`,
  });
  ring.hidden = false;
}

/** Draws the stroke in progress from its last point to `to` (photo pixels). */
function dab(/** @type {Preview} */ preview, /** @type {[number, number]} */ to) {
  const { ctx, erase, radius, last } = preview;
  const [ax, ay] = last;
  const [bx, by] = to;
  const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / Math.max(0.5, radius / 2)));
  ctx.save();
  ctx.beginPath();
  for (let s = 0; s <= steps; s++) {
    const [x, y] = [ax + ((bx - ax) * s) / steps, ay + ((by - ay) * s) / steps];
    ctx.moveTo(x + radius, y);
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
  }
  if (erase && preview.photo) {
    ctx.clip();
    ctx.drawImage(preview.photo, 0, 0);
  } else {
    ctx.fillStyle = `rgb(${OVERLAY.fill.join(' ')} / 0.45)`;
    ctx.fill();
  }
  ctx.restore();
  preview.last = to;
}

/** A pointer pressed on the photo while editing: a stroke starts. */
function startStroke(/** @type {Tools} */ tools, /** @type {PointerEvent} */ e) {
  const now = tools.current();
  if (!editing() || !now || e.button !== 0 || tools.stroking !== null) return;
  const { canvas } = tools;
  const { photo } = now;
  const { width, height } = photo.pixels;
  photo.edits ??= new MaskEdits(width, height);
  const radius = brushRadius(tools, e, width, height);
  const erase = $('tool-eraser').checked;
  const at = /** @type {[number, number]} */ (photoPoint(canvas, e));
  photo.edits.begin(erase, radius);
  photo.edits.to(...at);
  let alone = null;
  if (erase) {
    alone = new OffscreenCanvas(width, height);
    /** @type {OffscreenCanvasRenderingContext2D} */ (alone.getContext('2d')).putImageData(photo.pixels, 0, 0);
  }
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  tools.preview = { ctx, erase, radius, last: at, photo: alone };
  dab(tools.preview, at);
  tools.stroking = e.pointerId;
  canvas.setPointerCapture(e.pointerId);
  e.preventDefault();
}

/** The stroke follows the pointer. */
function moveStroke(/** @type {Tools} */ tools, /** @type {PointerEvent} */ e) {
  if (e.pointerId !== tools.stroking || !tools.preview) return;
  const at = /** @type {[number, number]} */ (photoPoint(tools.canvas, e));
  tools.current()?.photo.edits?.to(...at);
  dab(tools.preview, at);
}

/** The pointer lifted (or lost): the stroke is done and the whole mask drawn. */
function endStroke(/** @type {Tools} */ tools, /** @type {PointerEvent} */ e) {
  if (e.pointerId !== tools.stroking) return;
  tools.stroking = null;
  tools.preview = null;
  changed(tools);
}

/** The ring where the keyboard's brush is. */
function placeRing(/** @type {Tools} */ tools) {
  const { canvas, cursor } = tools;
  if (!tools.current()?.photo || !cursor) return;
  const box = canvas.getBoundingClientRect();
  const scale = screenScale(canvas);
  const left = box.left + (box.width - canvas.width * scale) / 2 + cursor[0] * scale;
  const top = box.top + (box.height - canvas.height * scale) / 2 + cursor[1] * scale;
  showRing(tools, { clientX: left, clientY: top, pointerType: 'keyboard' });
}

/**
 * The keyboard's brush: with the photo focused while editing, the arrow keys move the brush
 * (Shift: ten times as far) and Space or Enter paints (or erases) where it is.
 */
function brushKey(/** @type {Tools} */ tools, /** @type {KeyboardEvent} */ e) {
  const photo = tools.current()?.photo;
  if (!editing() || !photo) return;
  const { width, height } = photo.pixels;
  const cursor = (tools.cursor ??= [width / 2, height / 2]);
  const step = (e.shiftKey ? 10 : 1) * Math.max(1, Math.min(width, height) / 100);
  /** @type {Record<string, [number, number]>} */
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  if (moves[e.key]) {
    const [dx, dy] = moves[e.key];
    tools.cursor = [
      Math.min(width - 1, Math.max(0, cursor[0] + dx)),
      Math.min(height - 1, Math.max(0, cursor[1] + dy)),
    ];
    placeRing(tools);
    e.preventDefault();
  } else if (e.key === ' ' || e.key === 'Enter') {
    photo.edits ??= new MaskEdits(width, height);
    photo.edits.begin($('tool-eraser').checked, brushRadius(tools, {}, width, height));
    photo.edits.to(...cursor);
    changed(tools);
    placeRing(tools);
    e.preventDefault();
  }
}

/** Undo, redo or reset the edits of the photo on screen. */
function stepEdits(/** @type {Tools} */ tools, /** @type {'undo' | 'redo' | 'reset'} */ what) {
  const edits = tools.current()?.photo.edits;
  if (!edits) return;
  edits[what]();
  changed(tools);
}

/** Ctrl+Z and Ctrl+Y (or Ctrl+Shift+Z) while editing. */
function undoKey(/** @type {Tools} */ tools, /** @type {KeyboardEvent} */ e) {
  // Not in a text field, whose own undo this would take away (the tool's radio buttons are fine).
  const fields = 'textarea, input:not([type]), input[type="text"], input[type="number"]';
  const typing = /** @type {Element} */ (e.target).matches?.(fields);
  if (!editing() || !(e.ctrlKey || e.metaKey) || typing) return;
  const key = e.key.toLowerCase();
  if (key === 'z' || key === 'y') {
    e.preventDefault();
    stepEdits(tools, key === 'y' || e.shiftKey ? 'redo' : 'undo');
  }
}

/** Keeps the mask on screen, corrections included, in "my corrections". */
async function keepShown(/** @type {Tools} */ tools) {
  const now = tools.current();
  if (!now) return;
  const { photo, result } = now;
  try {
    const png = await pngBlob(maskImage(result.mask, result.width, result.height));
    const { count, replaced } = await keepCorrection(photo.name, photo.blob, png);
    const instead = replaced ? `, in place of the earlier correction of ${replaced}` : '';
    say(`Kept in this browser${instead}: ${count} corrected photo(s) in "my corrections". Fine-tune on them below.`);
    document.dispatchEvent(new CustomEvent('lesionlab:corrections'));
  } catch (err) {
    say(`Not kept: ${/** @type {Error} */ (err).message}`);
  }
}

/** The pointer's brush: the ring, and strokes. */
function wirePointer(/** @type {Tools} */ tools) {
  const { canvas, ring } = tools;
  canvas.addEventListener('pointermove', (e) => showRing(tools, e));
  canvas.addEventListener('pointerleave', () => {
    ring.hidden = true;
  });
  canvas.addEventListener('pointerdown', (e) => startStroke(tools, e));
  canvas.addEventListener('pointermove', (e) => moveStroke(tools, e));
  canvas.addEventListener('pointerup', (e) => endStroke(tools, e));
  canvas.addEventListener('pointercancel', (e) => endStroke(tools, e));
}

/** The buttons, the slider and the keys. */
function wireControls(/** @type {Tools} */ tools) {
  tools.canvas.addEventListener('keydown', (e) => brushKey(tools, e));
  $('edit-toggle').addEventListener('click', () => setEditing(tools, !editing()));
  $('brush-size').addEventListener('input', (/** @type {any} */ e) => {
    $('brush-size-value').textContent = `${e.target.value}%`;
  });
  $('edit-undo').addEventListener('click', () => stepEdits(tools, 'undo'));
  $('edit-redo').addEventListener('click', () => stepEdits(tools, 'redo'));
  $('edit-reset').addEventListener('click', () => stepEdits(tools, 'reset'));
  document.addEventListener('keydown', (e) => undoKey(tools, e));
  $('correction-keep').addEventListener('click', () => keepShown(tools));
}

/**
 * Wires the correction tools. `current()` gives `{ photo, result }`, the photo on screen and its
 * result (with `mask`, the edits applied, as `draw` made it), or null; `edited()` runs after each
 * finished stroke, undo or redo, and must draw the overlay at once (the mask it leaves is what is
 * kept).
 * @param {{ current: Tools['current'], edited: () => void }} options
 */
export function setupCorrections({ current, edited }) {
  /** @type {Tools} */
  const tools = {
    canvas: $('overlay'),
    ring: $('brush-ring'),
    current,
    edited,
    stroking: null,
    preview: null,
    cursor: null,
  };
  wirePointer(tools);
  wireControls(tools);
  return {
    /** A new result or photo on screen: the tools follow it (editing stays on or off). */
    update() {
      $('correct').disabled = !current();
      refresh(tools);
      say('');
    },
  };
}
