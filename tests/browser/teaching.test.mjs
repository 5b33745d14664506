// The page's teaching features on the CPU path: the layer explorer, U-Net++'s four heads, the
// mask correction → "my corrections" → fine-tuning loop, and classroom mode at 1280x720 (with
// screenshots in tests/browser/output/).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, closePage, openPage } from './harness.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openPage('index.html'));
});

after(() => closePage({ server, browser }));

const state = (s, timeout = 120_000) => page.waitForSelector(`body[data-state="${s}"]`, { timeout });
const areaShare = async () => Number((await page.textContent('#area')).match(/^(\d+\.\d)%/)[1]);
// The overlay is redrawn at the next animation frame: wait for the area it shows.
const areaIs = (value) =>
  page.waitForFunction((v) => document.getElementById('area').textContent.startsWith(`${v.toFixed(1)}%`), value);

test("the layer explorer shows a layer's most active feature maps, its shape and what it does", async () => {
  await page.click('button[data-sample="ISIC_0001126"]');
  await state('done');
  await page.waitForSelector('#fm-grid figure');
  assert.equal(await page.getAttribute('#fm-grid', 'data-layer'), 'x0_4');
  assert.equal(await page.locator('#fm-grid figure').count(), 16);
  assert.match(
    await page.textContent('#fm-shape'),
    /^Layer x0_4: \d+ feature maps of 176×176 pixels; the 16 most active shown/,
  );
  assert.match(await page.textContent('#fm-layer-info'), /Top-row nested skip node, full resolution/);
  await page.selectOption('#fm-layer', 'x4_0');
  await page.waitForSelector('#fm-grid[data-layer="x4_0"]');
  assert.match(await page.textContent('#fm-shape'), /^Layer x4_0: \d+ feature maps of 11×11 pixels/);
  assert.match(await page.textContent('#fm-layer-info'), /Bottleneck, 1\/16 resolution/);
  const tile = await page.$eval('#fm-grid canvas', (c) => [c.width, c.height, c.getAttribute('aria-label')]);
  assert.deepEqual(tile.slice(0, 2), [11, 11], "each map at the layer's own resolution");
  assert.match(tile[2], /^Channel \d+ of layer x4_0: mean \d+\.\d\d, max \d+\.\d\d$/);
  await page.selectOption('#fm-count', '8');
  await page.waitForFunction(() => document.querySelectorAll('#fm-grid figure').length === 8);
  await page.locator('#explain').screenshot({ path: path.join(OUTPUT, 'layer-explorer.png') });
});

test("U-Net++'s four heads side by side, each with its time and its Dice against the expert", async () => {
  assert.equal(await page.isVisible('#heads'), true);
  await page.click('#heads-run');
  await page.waitForFunction(() => document.querySelectorAll('#heads-results figure').length === 4, null, {
    timeout: 120_000,
  });
  const captions = await page.$$eval('#heads-results figcaption', (els) => els.map((e) => e.textContent));
  for (const [i, c] of captions.entries()) {
    assert.match(c, new RegExp(`^Head L${i + 1} \\(node x0_${i + 1}\\): \\d+ ms, Dice 0\\.\\d{3}$`));
  }
  await page.locator('#heads').screenshot({ path: path.join(OUTPUT, 'heads.png') });
  // For the README: how sure the model is, on the same photo.
  await page.click('#sure-run');
  await page.waitForFunction(
    () => /disagree about the mask/.test(document.getElementById('sure-summary').textContent),
    null,
    { timeout: 120_000 },
  );
  assert.equal(await page.isVisible('#sure-colorbar'), true, 'the map has its colour scale');
  await page.locator('#sure').screenshot({ path: path.join(OUTPUT, 'uncertainty.png') });
  // Other models have one output: the section is not offered.
  await page.selectOption('#model', 'pspnet');
  await state('done');
  assert.equal(await page.isVisible('#heads'), false);
  await page.selectOption('#model', 'unetpp');
  await state('done');
});

test('a brush stroke adds lesion, undo and redo replay it, the eraser removes it; the corrected mask downloads', async () => {
  await page.click('#edit-toggle');
  assert.equal(await page.getAttribute('#edit-toggle', 'aria-pressed'), 'true');
  const before = await areaShare();
  // Page coordinates of a point of the photo given as fractions of its width and height (the
  // canvas is scaled to fit its box and centred in it), measured again for each stroke: a click
  // on a control may scroll the page.
  const stroke = async (from, to) => {
    await page.locator('#overlay').scrollIntoViewIfNeeded();
    const box = await page.locator('#overlay').boundingBox();
    const [cw, ch] = await page.$eval('#overlay', (c) => [c.width, c.height]);
    const scale = Math.min(box.width / cw, box.height / ch);
    const at = (fx, fy) => [
      box.x + (box.width - cw * scale) / 2 + fx * cw * scale,
      box.y + (box.height - ch * scale) / 2 + fy * ch * scale,
    ];
    await page.mouse.move(...at(...from));
    await page.mouse.down();
    await page.mouse.move(...at(...to), { steps: 8 });
    await page.mouse.up();
    // Two animation frames: the last point of the stroke is drawn.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  };
  // Along the top edge (skin in this photo and in the expert's mask): the brush paints lesion.
  await stroke([0.1, 0.06], [0.5, 0.06]);
  await page.waitForFunction(
    (b) => Number(document.getElementById('area').textContent.match(/^(\d+\.\d)/)[1]) > b + 1,
    before,
  );
  const painted = await areaShare();
  assert.match(await page.textContent('#caption'), /corrected by hand$/);
  await page.click('#edit-undo');
  await areaIs(before);
  await page.click('#edit-redo');
  await areaIs(painted);
  // The eraser through the middle of the lesion.
  await page.check('#tool-eraser');
  await stroke([0.3, 0.5], [0.7, 0.5]);
  await page.waitForFunction(
    (p) => Number(document.getElementById('area').textContent.match(/^(\d+\.\d)/)[1]) < p,
    painted,
  );
  // The ABCD panel follows the corrected mask.
  await page.waitForFunction(() =>
    document
      .getElementById('abcd-area')
      .textContent.includes(document.getElementById('area').textContent.split(' ')[0]),
  );
  // Keyboard: Ctrl+Z takes the eraser stroke back.
  await page.keyboard.press('Control+z');
  await areaIs(painted);
  await page.waitForFunction(
    (p) => document.getElementById('abcd-area').textContent.endsWith(`${p.toFixed(1)}% of the photo`),
    painted,
  );
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
  assert.equal(file.suggestedFilename(), 'ISIC_0001126_segmentation.png');
  // The painted band at the top is white in the downloaded mask.
  const top = await page.evaluate(
    async (bytes) => {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const c = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
      c.drawImage(bitmap, 0, 0);
      return [
        bitmap.width,
        c.getImageData(Math.round(bitmap.width * 0.3), Math.round(bitmap.height * 0.06), 1, 1).data[0],
      ];
    },
    [...fs.readFileSync(await file.path())],
  );
  assert.deepEqual(top, [256, 255]);
  await page.locator('#result').screenshot({ path: path.join(OUTPUT, 'correct.png') });
});

test('kept corrections survive a reload and fine-tune the model with one click', async () => {
  await page.click('#correction-keep');
  await page.waitForFunction(() =>
    /Kept in this browser: 1 corrected photo/.test(document.getElementById('correct-status').textContent),
  );
  await page.reload();
  await state('ready');
  await page.waitForSelector('#corrections:not([hidden])');
  assert.match(await page.textContent('#corrections-text'), /My corrections: 1 photo\(s\)/);
  await page.click('#corrections-train');
  await page.waitForSelector('body[data-tune="done"]', { timeout: 300_000 });
  assert.match(await page.textContent('#tune-found'), /^1 pair\(s\) used: 1 for training, 0 for validation\./);
  assert.match(await page.textContent('#tune-status'), /^Done: 3 epoch\(s\)/);
  await page.click('#corrections-clear');
  await page.waitForSelector('#corrections[hidden]', { state: 'attached' });
});

test('classroom mode reveals photo, expert, each model, disagreement and Grad-CAM, readable at 1280x720', async () => {
  const room = await browser.context.newPage();
  await room.setViewportSize({ width: 1280, height: 720 });
  await room.goto(`${server.base}index.html?present=1&sample=ISIC_0014640`);
  const ready = (step) =>
    room.waitForSelector(`#classroom[data-step="${step}"][data-ready="true"]`, { timeout: 180_000 });
  await ready('photo');
  assert.equal(await room.getAttribute('#classroom', 'data-sample'), 'ISIC_0014640');
  const steps = ['expert', 'unet', 'unetpp', 'pspnet', 'uncertainty', 'explanation'];
  const shots = [];
  for (const [i, step] of ['photo', ...steps].entries()) {
    if (i > 0) {
      await room.keyboard.press(i % 2 ? 'ArrowRight' : 'Space');
      await ready(step);
    }
    const fit = await room.evaluate(() => ({
      w: document.documentElement.scrollWidth,
      h: document.documentElement.scrollHeight,
      text: parseFloat(getComputedStyle(document.getElementById('cl-text')).fontSize),
      hidden: [...document.querySelectorAll('.cl-panel.cl-hidden')].map((f) => f.dataset.panel),
      captions: [...document.querySelectorAll('.cl-panel figcaption')].map((f) => f.textContent),
    }));
    assert.ok(fit.w <= 1280 && fit.h <= 720, `${step}: the page fits 1280x720 (${fit.w}x${fit.h})`);
    assert.ok(fit.text >= 24, `${step}: large type (${fit.text}px)`);
    const revealed = ['unet', 'unetpp', 'pspnet'].filter((_, k) => i >= 2 + k);
    assert.deepEqual(
      fit.hidden,
      ['unet', 'unetpp', 'pspnet'].filter((m) => !revealed.includes(m)),
      step,
    );
    for (const k of revealed.keys()) assert.match(fit.captions[1 + k], /: Dice 0\.\d\d$/);
    const file = path.join(OUTPUT, `classroom-${i + 1}-${step}.png`);
    await room.screenshot({ path: file });
    shots.push(file);
  }
  assert.match(await room.textContent('#cl-text'), /Grad-CAM/);
  // Back one step, then the next photo by key, and past the last step to the photo after.
  await room.keyboard.press('ArrowLeft');
  await ready('uncertainty');
  await room.keyboard.press('ArrowDown');
  await ready('photo');
  const next = await room.getAttribute('#classroom', 'data-sample');
  assert.notEqual(next, 'ISIC_0014640');
  await room.keyboard.press('1');
  await ready('photo');
  assert.equal(await room.getAttribute('#classroom', 'data-sample'), 'ISIC_0001126');
  assert.ok(shots.every((f) => fs.statSync(f).size > 10_000));
  await room.close();
});

test("every request stayed inside the page's own folder", async () => {
  const outside = browser.requests.filter((u) => !u.startsWith(server.base) && !/^(blob|data):/.test(u));
  assert.deepEqual(outside, []);
});
