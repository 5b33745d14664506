// Mask corrections (www/page/mask-edits.js): strokes paint and erase over the model's mask,
// undo and redo replay them, reset drops them all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MaskEdits } from '../../www/page/mask-edits.js';

const count = (mask) => mask.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);

test('a brush stroke paints a band of its radius along its path; the eraser removes lesion', () => {
  const edits = new MaskEdits(20, 10);
  edits.begin(false, 1);
  edits.to(2, 5);
  edits.to(17, 5);
  const painted = edits.apply(new Uint8Array(200));
  // A band three pixels high (rows 4-6) from x = 1 to 18, never outside it.
  for (let y = 0; y < 10; y++) {
    for (let x = 0; x < 20; x++) {
      const inBand = Math.abs(y - 5) <= 1 && x >= 1 && x <= 18 && Math.hypot(Math.max(0, 2 - x, x - 17), y - 5) <= 1;
      assert.equal(painted[y * 20 + x] === 255, inBand, `pixel ${x},${y}`);
    }
  }
  assert.equal(edits.edited, true);
  edits.begin(true, 2);
  edits.to(10, 5);
  const erased = edits.apply(new Uint8Array(200).fill(255));
  assert.equal(erased[5 * 20 + 10], 0, 'the eraser removes lesion the model found');
  assert.equal(erased[5 * 20 + 3], 255, 'painted pixels away from the eraser stay');
  assert.equal(edits.layer[5 * 20 + 10], -1);
});

test('the edits are a layer: the model mask underneath changes, the edits stay', () => {
  const edits = new MaskEdits(4, 4);
  edits.begin(false, 0.5);
  edits.to(0, 0);
  const model = new Uint8Array(16).fill(255);
  model[0] = 0;
  assert.equal(edits.apply(model)[0], 255);
  const painted = edits.layer.filter((v) => v === 1).length;
  assert.ok(painted >= 1);
  assert.equal(count(edits.apply(new Uint8Array(16))), painted);
  assert.notEqual(edits.apply(model), model, 'a new array, the model mask untouched');
  assert.equal(model[0], 0);
});

test('undo, redo and reset replay the strokes', () => {
  const edits = new MaskEdits(10, 10);
  assert.equal(edits.canUndo, false);
  edits.begin(false, 1);
  edits.to(2, 2);
  const first = count(edits.apply(new Uint8Array(100)));
  edits.begin(false, 1);
  edits.to(7, 7);
  const both = count(edits.apply(new Uint8Array(100)));
  assert.ok(both > first);
  edits.undo();
  assert.equal(count(edits.apply(new Uint8Array(100))), first);
  assert.equal(edits.canRedo, true);
  edits.redo();
  assert.equal(count(edits.apply(new Uint8Array(100))), both);
  edits.reset();
  assert.equal(count(edits.apply(new Uint8Array(100))), 0);
  assert.equal(edits.edited, false);
  edits.redo();
  assert.equal(count(edits.apply(new Uint8Array(100))), first, 'redo after reset brings strokes back one by one');
  edits.begin(false, 1);
  assert.equal(edits.canRedo, false, 'a new stroke drops what was undone');
});
