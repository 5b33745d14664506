// The page's pure drawing helpers (www/page/render.js) on arrays: thresholding, area, Dice, the
// overlay's colours (the crate's OVERLAY), heatmaps in Turbo, ISIC names. `ImageData` is the
// browser's: a minimal stand-in here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OVERLAY, THRESHOLD, TURBO } from '../../www/api/rules.js';

globalThis.ImageData ??= class ImageData {
  constructor(data, width, height) {
    if (typeof data === 'number') [data, width, height] = [new Uint8ClampedArray(data * width * 4), data, width];
    Object.assign(this, { data, width, height });
  }
};
const { area, dice, downloadNames, heatmapOverlay, isicId, maskImage, maskOf, overlay, PAINTED, threshold } =
  await import('../../www/page/render.js');

const rgb = (image, x, y) => [...image.data.slice((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)];
const grey = (w, h, v = 100) => new ImageData(new Uint8ClampedArray(w * h * 4).fill(v), w, h);

test('threshold: lesion strictly above it, 0.5 by default', () => {
  assert.equal(THRESHOLD, 0.5);
  assert.deepEqual([...threshold(new Float32Array([0.2, 0.5, 0.51, 1]))], [0, 0, 255, 255]);
  assert.deepEqual([...threshold(new Float32Array([0.2, 0.5, 0.51, 1]), 0.1)], [255, 255, 255, 255]);
});

test('area and Dice of 0/255 masks', () => {
  assert.equal(area(new Uint8Array([255, 0, 0, 255])), 0.5);
  assert.equal(area(new Uint8Array(0)), 0);
  assert.equal(dice(new Uint8Array([255, 255, 0, 0]), new Uint8Array([255, 0, 255, 0])), 0.5);
  assert.equal(dice(new Uint8Array(4), new Uint8Array(4)), 1, 'two empty masks agree');
});

test('overlay: the outline in the two tones of OVERLAY, the inside tinted with its fill', () => {
  const size = 40;
  const mask = new Uint8Array(size * size);
  for (let y = 10; y < 30; y++) for (let x = 10; x < 30; x++) mask[y * size + x] = 255;
  const out = overlay(grey(size, size), mask, { opacity: 1 });
  assert.deepEqual(rgb(out, 10, 20), OVERLAY.outlineDark, 'the outermost band is dark');
  assert.deepEqual(rgb(out, 11, 20), OVERLAY.outlineLight, 'the next band is light');
  assert.deepEqual(rgb(out, 20, 20), OVERLAY.fill, 'the inside at opacity 1 is the fill colour');
  assert.deepEqual(rgb(out, 5, 5), [100, 100, 100], 'outside the mask the photo is untouched');
  const outline = overlay(grey(size, size), mask, { outlineOnly: true });
  assert.deepEqual(rgb(outline, 20, 20), [100, 100, 100], 'outline only leaves the inside as it is');
});

test("overlay: the expert's outline dashes in OVERLAY.truth just outside its mask; painted pixels striped", () => {
  const size = 40;
  const truth = new Uint8Array(size * size);
  for (let y = 10; y < 30; y++) for (let x = 10; x < 30; x++) truth[y * size + x] = 255;
  const out = overlay(grey(size, size), new Uint8Array(size * size), { truth });
  const colours = new Set();
  for (let x = 10; x < 30; x++) colours.add(JSON.stringify(rgb(out, x, 9)));
  assert.deepEqual(colours, new Set(OVERLAY.truth.map((c) => JSON.stringify(c))), 'both tones of the dashes');
  assert.deepEqual(rgb(out, 20, 20), [100, 100, 100], 'inside the expert mask nothing is drawn');
  const mask = new Uint8Array(size * size).fill(255);
  const painted = new Int8Array(size * size).fill(1);
  const striped = overlay(grey(size, size), mask, { painted, opacity: 0 });
  const inside = [];
  for (let x = 10; x < 18; x++) inside.push(JSON.stringify(rgb(striped, x, 20)));
  assert.ok(
    inside.includes(JSON.stringify([100, 100, 100])) && inside.some((c) => c !== JSON.stringify([100, 100, 100])),
  );
  assert.equal(PAINTED.length, 3);
});

test('heatmapOverlay blends the Turbo colour of each value; maskImage and maskOf round-trip', () => {
  const out = heatmapOverlay(grey(2, 1, 0), new Float32Array([0, 1]), 1);
  assert.deepEqual(rgb(out, 0, 0), TURBO[0]);
  assert.deepEqual(rgb(out, 1, 0), TURBO[255]);
  const mask = new Uint8Array([0, 255, 255, 0]);
  assert.deepEqual([...maskOf(maskImage(mask, 2, 2))], [...mask]);
});

test('ISIC ids and download names', () => {
  assert.equal(isicId('photos/isic_0012345.JPG'), 'ISIC_0012345');
  assert.equal(isicId('holiday.jpg'), null);
  assert.deepEqual(downloadNames('ISIC_0012345.jpg'), {
    mask: 'ISIC_0012345_segmentation.png',
    overlay: 'ISIC_0012345_overlay.png',
  });
  assert.deepEqual(downloadNames('mole.png'), { mask: 'mole_mask.png', overlay: 'mole_overlay.png' });
});
