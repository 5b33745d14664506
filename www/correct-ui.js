// The page's mask correction: a brush and an eraser on the overlay, undo and redo, the corrected
// mask kept in "my corrections" for fine-tuning (the page's "Download mask" downloads the mask on
// screen, corrections included). The edits belong to the photo (`photo.edits`, a MaskEdits), so
// another threshold or model keeps them.

import { keepCorrection } from './corrections.js';
import { MaskEdits } from './mask-edits.js';
import { maskImage, photoPoint, pngBlob } from './render.js';
import { OVERLAY } from './rules.js';

const $ = (id) => document.getElementById(id);

/** A fingertip's radius on screen, in CSS pixels: the smallest brush on a touch screen. */
const FINGERTIP_PX = 22;

/**
 * Wires the correction tools. `current()` gives `{ photo, result }`, the photo on screen and its
 * result (with `mask`, the edits applied, as `draw` made it), or null; `edited()` runs after each
 * finished stroke, undo or redo, and must draw the overlay at once (the mask it leaves is what is
 * kept).
 */
export function setupCorrections({ current, edited }) {
  const canvas = $('overlay');
  let stroking = null; // the pointer drawing the stroke: a second finger neither draws nor ends it
  const editing = () => document.body.classList.contains('editing');
  const say = (text) => { $('correct-status').textContent = text; };

  const refresh = () => {
    const edits = current()?.photo.edits;
    $('edit-undo').disabled = !edits?.canUndo;
    $('edit-redo').disabled = !edits?.canRedo;
    $('edit-reset').disabled = !edits?.canUndo;
  };
  const changed = () => {
    refresh();
    edited();
  };

  const setEditing = (on) => {
    document.body.classList.toggle('editing', on);
    $('edit-toggle').setAttribute('aria-pressed', String(on));
    $('edit-toggle').textContent = on ? 'Stop editing' : 'Edit the mask';
    canvas.setAttribute('aria-description', on
      ? 'Drag on the photo to paint or erase the mask; or move the brush with the arrow keys and paint with Space' : '');
    // Focusable while editing, for the keyboard's brush.
    if (on) canvas.tabIndex = 0;
    else canvas.removeAttribute('tabindex');
    // The photo in view, the tools pinned below it (style.css).
    if (on) canvas.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    else ring.hidden = true;
  };

  // The brush's radius in photo pixels: the slider's share of the photo, and on a touch screen at
  // least a fingertip (22 screen pixels), so the stroke shows around the finger.
  const brushRadius = (e, width, height) => {
    const radius = (Number($('brush-size').value) / 100) * Math.min(width, height);
    if (e.pointerType !== 'touch') return radius;
    const box = canvas.getBoundingClientRect();
    const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
    return Math.max(radius, FINGERTIP_PX / scale);
  };

  // The brush's size under the pointer, as a ring over the photo.
  const ring = $('brush-ring');
  const showRing = (e) => {
    const photo = current()?.photo;
    if (!editing() || !photo) {
      ring.hidden = true;
      return;
    }
    const box = canvas.getBoundingClientRect();
    const parent = ring.parentElement.getBoundingClientRect();
    const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
    const { width, height } = photo.pixels;
    const diameter = 2 * brushRadius(e, width, height) * scale;
    Object.assign(ring.style, {
      left: `${e.clientX - parent.left}px`, top: `${e.clientY - parent.top}px`, width: `${diameter}px`, height: `${diameter}px`,
    });
    ring.hidden = false;
  };
  canvas.addEventListener('pointermove', showRing);
  canvas.addEventListener('pointerleave', () => { ring.hidden = true; });

  const pixel = (e) => photoPoint(canvas, e);

  // While a stroke goes on only its dabs are drawn (the full overlay of a 12-megapixel photo takes
  // longer than a frame); the whole mask is drawn again when it ends.
  let preview = null; // { ctx, erase, radius, last, photo: the photo alone, for the eraser }
  const dab = (to) => {
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
    if (erase) {
      ctx.clip();
      ctx.drawImage(preview.photo, 0, 0);
    } else {
      ctx.fillStyle = `rgb(${OVERLAY.fill.join(' ')} / 0.45)`;
      ctx.fill();
    }
    ctx.restore();
    preview.last = to;
  };

  canvas.addEventListener('pointerdown', (e) => {
    const now = current();
    if (!editing() || !now || e.button !== 0 || stroking !== null) return;
    const { photo } = now;
    const { width, height } = photo.pixels;
    photo.edits ??= new MaskEdits(width, height);
    const radius = brushRadius(e, width, height);
    const erase = $('tool-eraser').checked;
    const at = pixel(e);
    photo.edits.begin(erase, radius);
    photo.edits.to(...at);
    let alone = null;
    if (erase) {
      alone = new OffscreenCanvas(width, height);
      alone.getContext('2d').putImageData(photo.pixels, 0, 0);
    }
    preview = { ctx: canvas.getContext('2d'), erase, radius, last: at, photo: alone };
    dab(at);
    stroking = e.pointerId;
    canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (e.pointerId !== stroking) return;
    const at = pixel(e);
    current()?.photo.edits?.to(...at);
    dab(at);
  });
  const end = (e) => {
    if (e.pointerId !== stroking) return;
    stroking = null;
    preview = null;
    changed();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  // The keyboard's brush: with the photo focused while editing, the arrow keys move the brush
  // (Shift: ten times as far) and Space or Enter paints (or erases) where it is.
  let cursor = null; // [x, y] in photo pixels
  const placeRing = () => {
    const photo = current()?.photo;
    if (!photo || !cursor) return;
    const box = canvas.getBoundingClientRect();
    const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
    const left = box.left + (box.width - canvas.width * scale) / 2 + cursor[0] * scale;
    const top = box.top + (box.height - canvas.height * scale) / 2 + cursor[1] * scale;
    showRing({ clientX: left, clientY: top, pointerType: 'keyboard' });
  };
  canvas.addEventListener('keydown', (e) => {
    const photo = current()?.photo;
    if (!editing() || !photo) return;
    const { width, height } = photo.pixels;
    cursor ??= [width / 2, height / 2];
    const step = (e.shiftKey ? 10 : 1) * Math.max(1, Math.min(width, height) / 100);
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      cursor = [Math.min(width - 1, Math.max(0, cursor[0] + dx)), Math.min(height - 1, Math.max(0, cursor[1] + dy))];
      placeRing();
      e.preventDefault();
    } else if (e.key === ' ' || e.key === 'Enter') {
      photo.edits ??= new MaskEdits(width, height);
      photo.edits.begin($('tool-eraser').checked, brushRadius(e, width, height));
      photo.edits.to(...cursor);
      changed();
      placeRing();
      e.preventDefault();
    }
  });
  $('edit-toggle').addEventListener('click', () => setEditing(!editing()));
  $('brush-size').addEventListener('input', (e) => { $('brush-size-value').textContent = `${e.target.value}%`; });
  const step = (what) => {
    const edits = current()?.photo.edits;
    if (!edits) return;
    edits[what]();
    changed();
  };
  $('edit-undo').addEventListener('click', () => step('undo'));
  $('edit-redo').addEventListener('click', () => step('redo'));
  $('edit-reset').addEventListener('click', () => step('reset'));
  document.addEventListener('keydown', (e) => {
    // Not in a text field, whose own undo this would take away (the tool's radio buttons are fine).
    const typing = e.target.matches?.('textarea, input:not([type]), input[type="text"], input[type="number"]');
    if (!editing() || !(e.ctrlKey || e.metaKey) || typing) return;
    const key = e.key.toLowerCase();
    if (key === 'z' || key === 'y') {
      e.preventDefault();
      step(key === 'y' || e.shiftKey ? 'redo' : 'undo');
    }
  });

  $('correction-keep').addEventListener('click', async () => {
    const now = current();
    if (!now) return;
    const { photo, result } = now;
    try {
      const png = await pngBlob(maskImage(result.mask, result.width, result.height));
      const { count, replaced } = await keepCorrection(photo.name, photo.blob, png);
      say(`Kept in this browser${replaced ? `, in place of the earlier correction of ${replaced}` : ''}: ${count} corrected `
        + 'photo(s) in "my corrections". Fine-tune on them below.');
      document.dispatchEvent(new CustomEvent('lesionlab:corrections'));
    } catch (err) {
      say(`Not kept: ${err.message}`);
    }
  });

  return {
    /** A new result or photo on screen: the tools follow it (editing stays on or off). */
    update() {
      $('correct').disabled = !current();
      refresh();
      say('');
    },
  };
}
