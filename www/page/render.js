// Drawing results: mask overlays, outlines, heatmaps, PNG export and the Dice score. Pure
// functions over ImageData and typed arrays, shared by the page and the <lesion-lab> element.
// Colours, the threshold and the naming rules are the crate's (rules.js).

import { ISIC_ID, MASK_SUFFIXES, OVERLAY, THRESHOLD, TURBO } from '../api/rules.js';

/** The photo's pixels at its own size, upright per EXIF, as the worker sees them. */
/**
 * @param {Blob} blob
 * @returns {Promise<ImageData>}
 */
export async function photoPixels(blob) {
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', colorSpaceConversion: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

/** A 0/255 mask from a mask image's pixels (white lesion on black), as the crate binarises. */
/**
 * @param {ImageData} image
 * @returns {Uint8Array}
 */
export function maskOf(image) {
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) mask[i] = image.data[i * 4] > 128 ? 255 : 0;
  return mask;
}

/** 0/255 mask from probabilities: lesion where p > threshold, as in the crate. */
/**
 * @param {ArrayLike<number>} probability
 * @param {number} [t]
 * @returns {Uint8Array}
 */
export function threshold(probability, t = THRESHOLD) {
  const mask = new Uint8Array(probability.length);
  for (let i = 0; i < probability.length; i++) mask[i] = probability[i] > t ? 255 : 0;
  return mask;
}

/** Share of lesion pixels, in [0, 1]. */
/** @param {ArrayLike<number>} mask */
export function area(mask) {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return mask.length ? n / mask.length : 0;
}

/** Dice of two 0/255 masks of the same size (1 when both are empty). */
/**
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 */
export function dice(a, b) {
  let inter = 0,
    sa = 0,
    sb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 127,
      y = b[i] > 127;
    if (x) sa++;
    if (y) sb++;
    if (x && y) inter++;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

// For every pixel with mask[i] == inside, its distance to the nearest pixel that is not,
// along its row or column, capped at cap + 1 (two linear passes each way). With
// `borderCounts` the image border counts as a pixel that is not.
/**
 * @param {ArrayLike<number>} mask
 * @param {number} width
 * @param {number} height
 * @param {number} cap
 * @returns {Uint16Array}
 */
function depthMap(mask, width, height, cap, inside = true, borderCounts = true) {
  const depth = new Uint16Array(mask.length).fill(cap + 1);
  const start0 = borderCounts ? 0 : cap + 1;
  const run = (/** @type {number} */ start, /** @type {number} */ step, /** @type {number} */ count) => {
    for (const dir of [1, -1]) {
      let d = start0;
      for (let k = 0, i = dir > 0 ? start : start + step * (count - 1); k < count; k++, i += dir * step) {
        if (!mask[i] === inside) {
          d = 0;
          continue;
        }
        d = Math.min(d + 1, cap + 1);
        if (d < depth[i]) depth[i] = d;
      }
    }
  };
  for (let y = 0; y < height; y++) run(y * width, 1, width);
  for (let x = 0; x < width; x++) run(x, width, height);
  return depth;
}

/**
 * @param {Uint8ClampedArray} d
 * @param {number} j
 * @param {ArrayLike<number>} color
 * @param {number} a
 */
function paint(d, j, color, a) {
  d[j] += (color[0] - d[j]) * a;
  d[j + 1] += (color[1] - d[j + 1]) * a;
  d[j + 2] += (color[2] - d[j + 2]) * a;
}

/**
 * The photo with the lesion outlined in two tones (bands of max(1, longest side / 300) pixels):
 * dark outside and yellow inside it, so one of the two stands out at least 3.8:1 (WCAG
 * contrast) on any photo; the inside tinted cyan at `opacity` (a hue no skin or lesion has);
 * with `outlineOnly` the inside is left as it is. `truth` (a 0/255 mask of the same size) adds
 * the expert's outline in white and black dashes, just outside the expert's mask. As the
 * crate's `segment::overlay`, with its colours.
 */
/**
 * @typedef {object} OverlayLook
 * @property {number} [opacity]
 * @property {boolean} [outlineOnly]
 * @property {ArrayLike<number> | null} [truth]
 * @property {ArrayLike<number> | null} [painted]
 */
/**
 * @param {ImageData} photo
 * @param {ArrayLike<number>} mask
 * @param {OverlayLook} [look]
 * @returns {ImageData}
 */
export function overlay(photo, mask, { opacity = 0.4, outlineOnly = false, truth = null, painted = null } = {}) {
  const { width, height } = photo;
  const out = new ImageData(new Uint8ClampedArray(photo.data), width, height);
  const band = Math.max(1, Math.floor(Math.max(width, height) / OVERLAY.bandDivisor));
  const depth = depthMap(mask, width, height, 2 * band);
  const d = out.data;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const k = depth[i];
    if (k <= band) paint(d, i * 4, OVERLAY.outlineDark, 1);
    else if (k <= 2 * band) paint(d, i * 4, OVERLAY.outlineLight, 1);
    else if (painted?.[i] === 1) {
      // Painted by hand: magenta stripes, so the user's part never passes for the model's.
      const x = i % width,
        y = (i / width) | 0;
      if (((x + y) >> 2) & 1) paint(d, i * 4, PAINTED, 0.6);
    } else if (!outlineOnly && opacity > 0) paint(d, i * 4, OVERLAY.fill, opacity);
  }
  if (truth) {
    const outside = depthMap(truth, width, height, band, false, false);
    for (let i = 0; i < truth.length; i++) {
      if (truth[i] || outside[i] > band) continue;
      const x = i % width,
        y = (i / width) | 0;
      paint(d, i * 4, OVERLAY.truth[Math.floor((x + y) / (4 * band)) % 2], 1);
    }
  }
  return out;
}

/** The stripes of pixels painted by hand ([`overlay`]'s `painted`). */
export const PAINTED = [230, 40, 200];

/** Draws the Turbo scale from 0 (left) to 1 (right) across a canvas. */
/** @param {HTMLCanvasElement} canvas */
export function drawColorbar(canvas) {
  const { width, height } = canvas;
  const image = new ImageData(width, height);
  for (let x = 0; x < width; x++) {
    const c = TURBO[Math.round((x / Math.max(1, width - 1)) * 255)];
    for (let y = 0; y < height; y++) image.data.set([c[0], c[1], c[2], 255], (y * width + x) * 4);
  }
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')).putImageData(image, 0, 0);
}

/** A heatmap in [0, 1] blended over the photo at `opacity`. */
/**
 * @param {ImageData} photo
 * @param {ArrayLike<number>} heatmap
 * @returns {ImageData}
 */
export function heatmapOverlay(photo, heatmap, opacity = 0.5) {
  const out = new ImageData(new Uint8ClampedArray(photo.data), photo.width, photo.height);
  const d = out.data;
  for (let i = 0; i < heatmap.length; i++) {
    const c = TURBO[Math.round(Math.min(1, Math.max(0, heatmap[i])) * 255) | 0];
    const j = i * 4;
    d[j] = d[j] * (1 - opacity) + c[0] * opacity;
    d[j + 1] = d[j + 1] * (1 - opacity) + c[1] * opacity;
    d[j + 2] = d[j + 2] * (1 - opacity) + c[2] * opacity;
  }
  return out;
}

/** A 0/255 mask as opaque gray ImageData. */
/**
 * @param {ArrayLike<number>} mask
 * @param {number} width
 * @param {number} height
 * @returns {ImageData}
 */
export function maskImage(mask, width, height) {
  const out = new ImageData(width, height);
  for (let i = 0; i < mask.length; i++) {
    const j = i * 4;
    out.data[j] = out.data[j + 1] = out.data[j + 2] = mask[i];
    out.data[j + 3] = 255;
  }
  return out;
}

/**
 * The photo pixel `[x, y]` under a pointer event on a canvas that shows the photo scaled to fit
 * its box, centred (`object-fit: contain`).
 */
/**
 * @param {HTMLCanvasElement} canvas
 * @param {{ clientX: number, clientY: number }} e
 * @returns {[number, number]}
 */
export function photoPoint(canvas, e) {
  const box = canvas.getBoundingClientRect();
  const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
  const x = (e.clientX - box.left - (box.width - canvas.width * scale) / 2) / scale;
  const y = (e.clientY - box.top - (box.height - canvas.height * scale) / 2) / scale;
  return [x, y];
}

/** Draws a box (`{ x, y, width, height }` in the canvas's pixels) as a two-tone dashed frame. */
/**
 * @param {HTMLCanvasElement} canvas
 * @param {{ x: number, y: number, width: number, height: number }} box
 */
export function strokeBox(canvas, box) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const line = Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 300));
  ctx.save();
  ctx.lineWidth = line;
  ctx.setLineDash([4 * line, 3 * line]);
  /** @type {[string, number][]} */
  const tones = [
    ['#000', 0],
    ['#fff', 3.5 * line],
  ];
  for (const [colour, offset] of tones) {
    ctx.strokeStyle = colour;
    ctx.lineDashOffset = offset;
    ctx.strokeRect(box.x, box.y, box.width, box.height);
  }
  ctx.restore();
}

/** Puts ImageData on a canvas, resizing the canvas to it. */
/**
 * @param {HTMLCanvasElement} canvas
 * @param {ImageData} image
 */
export function show(canvas, image) {
  canvas.width = image.width;
  canvas.height = image.height;
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')).putImageData(image, 0, 0);
}

/** ImageData as a PNG Blob. */
/**
 * @param {ImageData} image
 * @returns {Promise<Blob>}
 */
export async function pngBlob(image) {
  const canvas = new OffscreenCanvas(image.width, image.height);
  /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d')).putImageData(image, 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** The ISIC id (`ISIC_0012345`) of a file name (folders and extension aside), or null. */
/**
 * @param {string | null | undefined} name
 * @returns {string | null}
 */
export function isicId(name) {
  const stem = ((name || '').split(/[/\\]/).pop() ?? '').replace(/\.[^.]*$/, '');
  const m = new RegExp(ISIC_ID, 'i').exec(stem);
  return m ? `ISIC_${m[1]}` : null;
}

/** File names for downloads: the ISIC challenge's name for masks when the input had an id. */
/**
 * @param {string | null | undefined} inputName
 * @returns {{ mask: string, overlay: string }}
 */
export function downloadNames(inputName) {
  const id = isicId(inputName);
  const base = id ?? ((inputName || 'photo').replace(/\.[^.]*$/, '') || 'photo');
  const [isicSuffix, plainSuffix] = MASK_SUFFIXES;
  return { mask: id ? `${id}${isicSuffix}.png` : `${base}${plainSuffix}.png`, overlay: `${base}_overlay.png` };
}

/** Starts a download of a Blob under `name`, without leaving the page. */
/**
 * @param {Blob} blob
 * @param {string} name
 */
export function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/**
 * Draws the user's clicks (photo pixels): a filled dot with a plus for "lesion", a ring with a
 * cross for "not lesion", each two-toned so it reads on any skin.
 * @param {HTMLCanvasElement} canvas
 * @param {{ x: number, y: number, label: number }[]} points
 */
export function drawPoints(canvas, points) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const r = Math.max(6, Math.round(Math.max(canvas.width, canvas.height) / 90));
  ctx.save();
  for (const p of points) {
    ctx.beginPath();
    ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
    ctx.fillStyle = p.label ? '#0a8f3c' : '#c8102e';
    ctx.fill();
    ctx.lineWidth = Math.max(2, r / 4);
    ctx.strokeStyle = '#fff';
    ctx.stroke();
    ctx.beginPath();
    const a = r * 0.55;
    if (p.label) {
      ctx.moveTo(p.x - a, p.y);
      ctx.lineTo(p.x + a, p.y);
      ctx.moveTo(p.x, p.y - a);
      ctx.lineTo(p.x, p.y + a);
    } else {
      ctx.moveTo(p.x - a, p.y - a);
      ctx.lineTo(p.x + a, p.y + a);
      ctx.moveTo(p.x + a, p.y - a);
      ctx.lineTo(p.x - a, p.y + a);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * Lists files that were not used, and why, in the `<details>` whose ids start with `prefix`
 * (`PREFIX-skipped-box`, `-summary` and the list `PREFIX-skipped`); hidden when there are none.
 * @param {string} prefix
 * @param {{ file: string, reason: string }[]} skipped
 */
export function showSkipped(prefix, skipped) {
  const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  byId(`${prefix}-skipped-box`).hidden = !skipped.length;
  byId(`${prefix}-skipped-summary`).textContent = `${skipped.length} file(s) skipped`;
  byId(`${prefix}-skipped`).replaceChildren(
    ...skipped.slice(0, 500).map((s) => {
      const li = document.createElement('li');
      li.textContent = `${s.file}: ${s.reason}`;
      return li;
    }),
  );
}
