// The page as people meet it: axe-core on the main page, classroom mode and the embedding
// example; no sideways scroll on a phone; classroom pictures that keep most of the height on a
// zoomed projector; the clicker's keys; a phone photo of skin and a grey photo; your own expert
// mask. Screenshots at three sizes go to tests/browser/output/people-*.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, ROOT, closePage, openPage } from './harness.mjs';

let server, browser, page;
const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
const SIZES = {
  laptop: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
  projector: { width: 853, height: 480 },
};

before(async () => {
  ({ server, browser, page } = await openPage('index.html?backend=cpu'));
});

after(() => closePage({ server, browser }));

const state = (p, s, timeout = 180_000) => p.waitForSelector(`body[data-state="${s}"]`, { timeout });

/** axe-core's serious and critical violations on the page as it is, as `rule: targets` lines. */
async function seriousViolations(p) {
  // Evaluated by the test driver, not loaded by the page: the page's CSP allows only its own files.
  await p.evaluate(`${AXE}\n;0`);
  const violations = await p.evaluate(async () =>
    (await window.axe.run(document)).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id}: ${v.nodes
            .slice(0, 3)
            .map((n) => n.target.join(' '))
            .join(', ')}`,
      ),
  );
  return violations;
}

test('the main page with a segmented sample has no serious or critical axe-core violation', async () => {
  await state(page, 'ready');
  await page.click('button[data-sample="ISIC_0001126"]');
  await state(page, 'done');
  assert.deepEqual(await seriousViolations(page), []);
});

test('on a phone (390 px) nothing scrolls sideways, the layer menus included', async () => {
  await page.setViewportSize(SIZES.phone);
  await page.waitForTimeout(300);
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    view: innerWidth,
    widest: [...document.querySelectorAll('select')]
      .map((s) => [s.id, Math.round(s.getBoundingClientRect().right)])
      .sort((a, b) => b[1] - a[1])[0],
  }));
  assert.ok(
    widths.page <= widths.view,
    `the page is ${widths.page} px wide in a ${widths.view} px screen (widest menu ${widths.widest})`,
  );
  await page.screenshot({ path: path.join(OUTPUT, 'people-phone.png'), fullPage: false });
  await page.setViewportSize(SIZES.laptop);
  await page.screenshot({ path: path.join(OUTPUT, 'people-laptop.png'), fullPage: false });
  await page.setViewportSize(SIZES.projector);
  await page.screenshot({ path: path.join(OUTPUT, 'people-projector.png'), fullPage: false });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a sample chosen with the keyboard takes the focus to the result; a skip link comes first', async () => {
  await page.reload();
  await state(page, 'ready');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.focus('button[data-sample="ISIC_0014640"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'result');
  await state(page, 'done');
  const name = await page.evaluate(() => document.querySelector('button[data-sample="ISIC_0014640"]').textContent);
  assert.match(name, /^Segment sample: Oval and olive brown/);
});

test('your own expert mask gives the Dice and the outline; a mask of another size is refused by name', async () => {
  // The sample's own mask, given as the user's file.
  const mask = fs.readFileSync(path.join(ROOT, 'www/samples/ISIC_0014640_segmentation.png'));
  await page.evaluate(() => {
    document.getElementById('truth').checked = false;
  });
  await page.setInputFiles('#truth-file', { name: 'my-mask.png', mimeType: 'image/png', buffer: mask });
  await page.waitForFunction(() => document.getElementById('truth').checked);
  assert.ok(Number(await page.textContent('#dice')) > 0.7);
  const small = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(10, 10);
    canvas.getContext('2d').fillRect(0, 0, 5, 5);
    return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer()));
  });
  await page.setInputFiles('#truth-file', { name: 'other.png', mimeType: 'image/png', buffer: Buffer.from(small) });
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /other\.png: the mask is 10x10/);
});

test('a made-up phone photo of an arm gets the warning, the box offered, and the ABCD panel says so', async () => {
  const photo = fs.readFileSync(path.join(ROOT, 'tests/data/not-dermoscopy/phone/phone-arm-00.jpg'));
  await page.setInputFiles('#file', { name: 'arm.jpg', mimeType: 'image/jpeg', buffer: photo });
  await state(page, 'done');
  assert.equal(await page.isVisible('#check-warning'), true);
  assert.match(await page.textContent('#check-text'), /smooth almost everywhere/);
  assert.equal(await page.isVisible('#check-box'), true, 'the box is offered');
  if (await page.isVisible('#describe')) assert.match(await page.textContent('#abcd-caveat'), /not a dermoscopy photo/);
  await page.click('#check-box');
  assert.equal(await page.getAttribute('#box-toggle', 'aria-pressed'), 'true', 'the box tool is on');
  await page.click('#box-toggle');
});

test('a grey dermoscopy photo: a warning about its colours only, the area shown, the ABCD panel agrees', async () => {
  const grey = await page.evaluate(async () => {
    const bitmap = await createImageBitmap(await (await fetch('www/samples/ISIC_0001126.jpg')).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.filter = 'grayscale(1)';
    ctx.drawImage(bitmap, 0, 0);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    return Array.from(bytes);
  });
  await page.setInputFiles('#file', { name: 'grey.png', mimeType: 'image/png', buffer: Buffer.from(grey) });
  await state(page, 'done');
  assert.match(await page.textContent('#check-text'), /almost grey: the mask may still follow the lesion/);
  assert.doesNotMatch(await page.textContent('#area'), /not meaningful/);
  assert.equal(await page.isVisible('#check-box'), false);
  assert.match(await page.textContent('#abcd-caveat'), /colours below \(C\) mean nothing/);
});

test('correcting by keyboard: a ring shows the brush, Space paints, painted parts are striped and named; a light tint; the page installs', async () => {
  await page.click('button[data-sample="ISIC_0001126"]');
  await state(page, 'done');
  assert.equal(await page.inputValue('#opacity'), '0.15', 'the tint leaves the lesion its colours');
  await page.click('#edit-toggle');
  assert.equal(
    await page.evaluate(() => getComputedStyle(document.getElementById('correct')).position),
    'sticky',
    'the toolbar stays in view',
  );
  await page.focus('#overlay');
  // To the top-left corner (Shift: a tenth of the photo a press), where no lesion is.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Shift+ArrowUp');
    await page.keyboard.press('Shift+ArrowLeft');
  }
  const ring = await page.locator('#brush-ring').boundingBox();
  assert.ok(
    ring && ring.width > 4 && Math.abs(ring.width - ring.height) < 1,
    `the ring shows the brush (${JSON.stringify(ring)})`,
  );
  assert.equal(await page.isVisible('#painted-legend'), false);
  await page.keyboard.press('Space');
  await page.waitForSelector('#painted-legend:not([hidden])');
  const striped = await page.evaluate(() => {
    const c = document.getElementById('overlay');
    const d = c.getContext('2d').getImageData(0, 0, Math.ceil(c.width / 20), Math.ceil(c.height / 20)).data;
    let magenta = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 1] + 60 && d[i + 2] > d[i + 1] + 40) magenta++;
    return magenta;
  });
  assert.ok(striped > 0, 'the painted corner is striped magenta');
  await page.click('#edit-reset');
  await page.click('#edit-toggle');
  const manifest = await page.evaluate(async () => {
    const m = await (await fetch(document.querySelector('link[rel="manifest"]').href)).json();
    const icons = await Promise.all(m.icons.map(async (i) => (await fetch(new URL(i.src, location.href))).ok));
    return { name: m.name, display: m.display, start: m.start_url, icons };
  });
  assert.ok(manifest.name && manifest.display === 'standalone' && manifest.start, JSON.stringify(manifest));
  assert.ok(manifest.icons.length >= 2 && manifest.icons.every(Boolean), 'its icons are served');
});

test('classroom mode: pictures keep at least 45% of the height at 853x480 at every step; Space is always the next step', async () => {
  const cl = await browser.context.newPage();
  await cl.setViewportSize(SIZES.projector);
  await cl.goto(`${server.base}index.html?present=1&backend=cpu`);
  const ready = () => cl.waitForSelector('#classroom[data-ready="true"]', { timeout: 240_000 });
  const steps = [];
  for (let i = 0; i < 7; i++) {
    await ready();
    const r = await cl.evaluate(() => {
      const c = document.querySelector('.cl-panel[data-panel="stage"] canvas');
      const box = c.getBoundingClientRect();
      // The picture inside the box (object-fit: contain).
      const shown = Math.min(box.height, (box.width * c.height) / Math.max(1, c.width));
      return {
        step: document.getElementById('classroom').dataset.step,
        share: shown / innerHeight,
        scroll: document.documentElement.scrollWidth > innerWidth,
      };
    });
    steps.push(r);
    if (i === 2) await cl.screenshot({ path: path.join(OUTPUT, 'people-classroom-projector.png') });
    if (i < 6) await cl.keyboard.press('ArrowRight');
  }
  for (const s of steps) {
    assert.ok(s.share >= 0.45, `step ${s.step}: the picture is ${(s.share * 100).toFixed(0)}% of the height`);
    assert.equal(s.scroll, false, `step ${s.step} scrolls sideways`);
  }
  // A mouse click on "Next photo", then Space: the next step of that photo, not another photo.
  await cl.click('#cl-sample');
  await ready();
  const sample = await cl.getAttribute('#classroom', 'data-sample');
  await cl.keyboard.press(' ');
  await ready();
  assert.equal(await cl.getAttribute('#classroom', 'data-sample'), sample, 'Space stays on the photo');
  assert.equal(await cl.getAttribute('#classroom', 'data-step'), 'expert', 'Space is the next step');
  assert.match(await cl.textContent('#cl-text'), /./);
  assert.deepEqual(await seriousViolations(cl), []);
  // A teacher's own photos: one with its expert mask (scored), one without (no score).
  const fixture = (p) => fs.readFileSync(path.join(ROOT, 'tests/data/isic-fixture', p));
  await cl.setInputFiles('#cl-files', [
    {
      name: 'ISIC_0000122.jpg',
      mimeType: 'image/jpeg',
      buffer: fixture('ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg'),
    },
    {
      name: 'ISIC_0000122_segmentation.png',
      mimeType: 'image/png',
      buffer: fixture('ISIC2018_Task1_Training_GroundTruth/ISIC_0000122_segmentation.png'),
    },
    { name: 'mole.jpg', mimeType: 'image/jpeg', buffer: fixture('ISIC2018_Task1-2_Training_Input/ISIC_0000123.jpg') },
  ]);
  await ready();
  assert.equal(await cl.getAttribute('#classroom', 'data-sample'), 'yours:ISIC_0000122.jpg');
  assert.match(await cl.textContent('#cl-text'), /^Your photo\./);
  for (let i = 0; i < 2; i++) {
    await cl.keyboard.press('ArrowRight');
    await ready();
  }
  assert.match(await cl.textContent('.cl-panel[data-panel="unet"] figcaption'), /U-Net: Dice \d\.\d\d/);
  await cl.keyboard.press('ArrowDown');
  await ready();
  assert.equal(await cl.getAttribute('#classroom', 'data-sample'), 'yours:mole.jpg');
  await cl.keyboard.press('ArrowRight');
  await ready();
  assert.match(await cl.textContent('#cl-text'), /No expert outline was given/);
  for (const [name, size] of [
    ['phone', SIZES.phone],
    ['laptop', SIZES.laptop],
  ]) {
    await cl.setViewportSize(size);
    await cl.waitForTimeout(300);
    assert.ok(
      await cl.evaluate(() => document.documentElement.scrollWidth <= innerWidth),
      `classroom on a ${name} scrolls sideways`,
    );
    await cl.screenshot({ path: path.join(OUTPUT, `people-classroom-${name}.png`) });
  }
  await cl.close();
});

test('the embedding example: no serious axe-core violation; the threshold attribute redraws; the photo keeps its place', async () => {
  const embed = await browser.context.newPage();
  await embed.goto(`${server.base}embed.html`);
  // Before the mask arrives, the photo's place is already taken.
  const early = await embed.evaluate(
    () => document.querySelector('lesion-lab').shadowRoot.querySelector('.frame').getBoundingClientRect().height,
  );
  await embed.waitForSelector('lesion-lab[data-state="done"]', { timeout: 180_000 });
  const status = () =>
    embed.evaluate(() => document.querySelector('lesion-lab').shadowRoot.querySelector('.status').textContent);
  const share = (text) => Number(/lesion (\d+\.\d)%/.exec(text)[1]);
  const at05 = share(await status());
  await embed.evaluate(() => document.querySelector('lesion-lab').setAttribute('threshold', '0.95'));
  await embed.waitForFunction(() =>
    /threshold 0\.95/.test(document.querySelector('lesion-lab').shadowRoot.querySelector('.status').textContent),
  );
  assert.ok(share(await status()) <= at05, 'a higher threshold marks less');
  assert.ok(early > 100, `the photo's place was kept: ${early} px`);
  assert.match(
    await embed.evaluate(() => document.querySelector('lesion-lab').shadowRoot.querySelector('.legend').textContent),
    /PSPNet/,
  );
  assert.deepEqual(await seriousViolations(embed), []);
  await embed.close();
});
