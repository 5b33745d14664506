// Drawing what is inside a model: a layer's feature maps as a grid, U-Net++'s four heads side
// by side. Pure drawing: the page (app.js) asks the model and passes the answers here.

import { dice, overlay, show } from './render.js';
import { TURBO } from '../api/rules.js';

/** One feature map at its own resolution, coloured from 0 to its channel's maximum. */
function mapImage(map, width, height, max) {
  const image = new ImageData(width, height);
  const scale = max > 0 ? 255 / max : 0;
  for (let i = 0; i < map.length; i++) {
    const c = TURBO[Math.min(255, Math.max(0, Math.round(map[i] * scale)))];
    image.data.set([c[0], c[1], c[2], 255], i * 4);
  }
  return image;
}

/** Fills `container` with one figure per channel of a `featureMaps` answer. */
export function drawFeatureMaps(container, maps) {
  const [, height, width] = maps.shape;
  container.replaceChildren(
    ...maps.channels.map((c) => {
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      show(canvas, mapImage(c.map, width, height, c.max));
      canvas.setAttribute('role', 'img');
      canvas.setAttribute(
        'aria-label',
        `Channel ${c.index} of layer ${maps.layer}: mean ${c.mean.toFixed(2)}, max ${c.max.toFixed(2)}`,
      );
      canvas.dataset.channel = c.index;
      const caption = document.createElement('figcaption');
      caption.textContent = `#${c.index} · mean ${c.mean.toFixed(2)}`;
      figure.append(canvas, caption);
      return figure;
    }),
  );
}

/** The line under the grid: the layer's shape in words. */
export function shapeText(maps) {
  const [channels, height, width] = maps.shape;
  const shown = maps.channels.length;
  return (
    `Layer ${maps.layer}: ${channels} feature maps of ${width}×${height} pixels; the ${shown} most active shown, ` +
    'each coloured from 0 (dark blue) to its own maximum (dark red).'
  );
}

/**
 * A figure of one mask over the photo (`look`: the overlay's `opacity` and `outlineOnly`), named
 * `label` for screen readers, with `text` as its caption; when the photo has an expert mask
 * (`truth`), the caption ends with the mask's Dice and, with `showTruth`, the overlay draws the
 * expert's outline.
 */
export function maskFigure(pixels, mask, { label, text, truth = null, showTruth = true, look = {} }) {
  const figure = document.createElement('figure');
  const canvas = document.createElement('canvas');
  const hasTruth = truth && truth.length === mask.length;
  show(canvas, overlay(pixels, mask, { ...look, truth: hasTruth && showTruth ? truth : null }));
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const caption = document.createElement('figcaption');
  caption.textContent = `${text}${hasTruth ? `, Dice ${dice(mask, truth).toFixed(3)}` : ''}`;
  figure.append(canvas, caption);
  return figure;
}

/** Fills `container` with each head of a `segment(..., { heads: true })` answer: mask and time. */
export function drawHeads(container, pixels, heads, options = {}) {
  container.replaceChildren(
    ...heads.map((h) => {
      const figure = maskFigure(pixels, h.mask, {
        ...options,
        label: `Head L${h.level} mask`,
        text: `Head L${h.level} (node x0_${h.level}): ${Math.round(h.ms)} ms`,
      });
      figure.dataset.level = h.level;
      return figure;
    }),
  );
}
