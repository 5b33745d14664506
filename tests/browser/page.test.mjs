// The page in a real browser on the CPU path: segment a sample with the mouse and the
// keyboard, CAM and Grad-CAM shown, sliders, downloads, errors, the comparison view, the
// embedding example, and no request outside the page's own folder.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, ROOT, closePage, launch, open, openPage } from './harness.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openPage('index.html'));
});

after(() => closePage({ server, browser }));

const state = (s, timeout = 120_000) => page.waitForSelector(`body[data-state="${s}"]`, { timeout });

async function canvasSpread(id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    if (!c.width) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lo = 255,
      hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      lo = Math.min(lo, d[i]);
      hi = Math.max(hi, d[i]);
    }
    return hi - lo;
  }, id);
}

test('the page loads the default model and says it runs on the CPU', async () => {
  await state('ready');
  assert.match(await page.textContent('#status'), /U-Net\+\+ ready on the CPU\. .*WebGPU/);
});

test('clicking a sample shows the mask, its area, the Dice, timings, CAM and Grad-CAM', async () => {
  await page.click('button[data-sample="ISIC_0001126"]');
  await state('done');
  assert.match(await page.textContent('#area'), /^\d+\.\d% of the image$/);
  const dice = Number(await page.textContent('#dice'));
  assert.ok(dice >= 0.7, `Dice ${dice} against the expert mask`);
  assert.equal(await page.textContent('#backend-used'), 'CPU (WebAssembly, 1 thread)');
  assert.match(
    await page.textContent('#timing'),
    /^(\d+ ms to prepare the photo|the photo prepared earlier), \d+ ms in the network, \d+ ms to clean the mask and scale it back$/,
  );
  assert.equal(await page.getAttribute('#cam', 'data-layer'), 'x0_4');
  assert.equal(await page.getAttribute('#gradcam', 'data-layer'), 'x4_0');
  // The mean activation by default; the report's CAM one click away, blank or explained.
  assert.match(await page.getAttribute('#cam', 'aria-label'), /^Mean activation heatmap at layer x0_4$/);
  assert.ok((await canvasSpread('cam')) > 50, 'the mean-activation map shows a heatmap');
  assert.equal(await page.isVisible('#cam-blank'), false);
  await page.selectOption('#cam-method', 'cam');
  await page.waitForFunction(() => /^CAM/.test(document.getElementById('cam').getAttribute('aria-label')));
  assert.ok(
    (await canvasSpread('cam')) > 50 || (await page.isVisible('#cam-blank')),
    'a CAM heatmap or the note why it is blank',
  );
  await page.selectOption('#cam-method', 'activation');
  await page.waitForFunction(() => /^Mean activation/.test(document.getElementById('cam').getAttribute('aria-label')));
  assert.ok((await canvasSpread('gradcam')) > 50, 'the Grad-CAM canvas shows a heatmap');
  fs.mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT, 'page.png'), fullPage: true });
});

test('the ABCD panel describes the mask on screen, says it is no diagnosis, and uses a scale when given', async () => {
  assert.equal(await page.isVisible('#describe'), true);
  assert.match(await page.textContent('#describe .disclaimer'), /not a diagnosis/);
  assert.match(await page.textContent('#abcd-area'), /pixels, \d+\.\d% of the photo/);
  assert.match(
    await page.textContent('#abcd-asymmetry'),
    /\d+\.\d% and \d+\.\d% of the lesion miss their mirror image/,
  );
  assert.match(await page.textContent('#abcd-border'), /compactness 0\.\d\d/);
  assert.match(await page.textContent('#abcd-colours'), /^\d of 6: /);
  assert.match(await page.textContent('#abcd-diameter'), /^\d+ pixels \(give a scale/);
  await page.fill('#mm-per-pixel', '0.05');
  await page.dispatchEvent('#mm-per-pixel', 'change');
  await page.waitForFunction(() => /mm$/.test(document.getElementById('abcd-diameter').textContent));
  const [px, mm] = (await page.textContent('#abcd-diameter')).match(/[\d.]+/g).map(Number);
  assert.ok(Math.abs(mm - px * 0.05) <= 0.1, `${px} px, ${mm} mm`);
  await page.fill('#mm-per-pixel', '');
  await page.dispatchEvent('#mm-per-pixel', 'change');
});

test('"How sure is the model?" draws the spread over the photo and says where the views disagree', async () => {
  assert.equal(await page.isVisible('#sure'), true);
  await page.click('#sure-run');
  await page.waitForFunction(
    () => /disagree about the mask on \d+\.\d% of the photo/.test(document.getElementById('sure-summary').textContent),
    null,
    { timeout: 120_000 },
  );
  assert.ok((await page.$eval('#sure-map', (c) => c.width)) > 0);
  assert.match(await page.getAttribute('#sure-map', 'aria-label'), /^Uncertainty map: .*8 views/);
});

test('the threshold slider changes the mask without running the model again', async () => {
  const before = await page.textContent('#area');
  const timing = await page.textContent('#timing');
  await page.locator('#threshold').fill('0.95');
  await page.waitForFunction((b) => document.getElementById('area').textContent !== b, before);
  assert.equal(await page.textContent('#threshold-value'), '0.95');
  assert.equal(await page.textContent('#timing'), timing);
  await page.locator('#threshold').fill('0.5');
});

test('downloads use the ISIC mask name and give PNGs of the photo size', async () => {
  const [mask] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
  assert.equal(mask.suggestedFilename(), 'ISIC_0001126_segmentation.png');
  const bytes = fs.readFileSync(await mask.path());
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [256, 256]);
  const [overlay] = await Promise.all([page.waitForEvent('download'), page.click('#download-overlay')]);
  assert.equal(overlay.suggestedFilename(), 'ISIC_0001126_overlay.png');
});

test('a box drawn with the mouse: the model looks inside it, the caption says so, and the box can be cleared', async () => {
  await page.click('button[data-sample="ISIC_0015946"]');
  await state('done');
  assert.equal(await page.isDisabled('#box-clear'), true, 'no box yet');
  await page.click('#box-toggle');
  assert.equal(await page.getAttribute('#box-toggle', 'aria-pressed'), 'true');
  // A box over the middle of the photo (the lesion of this sample is near its centre).
  const r = await page.locator('#overlay').boundingBox();
  await page.mouse.move(r.x + r.width * 0.25, r.y + r.height * 0.25);
  await page.mouse.down();
  await page.mouse.move(r.x + r.width * 0.5, r.y + r.height * 0.5, { steps: 4 });
  assert.equal(await page.isVisible('#box-preview'), true, 'the box shows while it is dragged');
  await page.mouse.move(r.x + r.width * 0.75, r.y + r.height * 0.75, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /inside the box you drew/.test(document.getElementById('caption').textContent));
  await state('done');
  const outside = await page.evaluate(() => {
    const c = document.getElementById('overlay');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    // The outline's light band (yellow, OUTLINE_LIGHT) outside the box: none; inside: some.
    const counts = { inside: 0, outside: 0 };
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const inside = x > c.width * 0.23 && x < c.width * 0.77 && y > c.height * 0.23 && y < c.height * 0.77;
        const i = (y * c.width + x) * 4;
        if (d[i] > 230 && d[i + 1] > 190 && d[i + 1] < 230 && d[i + 2] < 40) counts[inside ? 'inside' : 'outside']++;
      }
    }
    return counts;
  });
  assert.equal(outside.outside, 0, 'no outline outside the box');
  assert.ok(outside.inside > 0, 'the outline of the lesion inside the box');
  assert.equal(await page.getAttribute('#box-toggle', 'aria-pressed'), 'false', 'drawing stops once the box is drawn');
  assert.equal(await page.isDisabled('#box-clear'), false);
  await page.click('#box-clear');
  await page.waitForFunction(
    () =>
      !/inside the box/.test(document.getElementById('caption').textContent) && document.body.dataset.state === 'done',
  );
  assert.equal(await page.isDisabled('#box-clear'), true);
});

test('a corrupt file and a non-image show a readable error; the next photo still segments', async () => {
  const jpeg = fs.readFileSync(path.join(ROOT, 'www/samples/ISIC_0013169.jpg'));
  await page.setInputFiles('#file', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: jpeg.subarray(0, 700) });
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /broken\.jpg: the JPEG is corrupt or truncated/);
  await page.setInputFiles('#file', {
    name: 'report.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4 not a photo'),
  });
  await page.waitForFunction(() => /report\.pdf/.test(document.getElementById('error').textContent));
  assert.match(await page.textContent('#error'), /report\.pdf: not a JPEG or PNG image/);
  // The keyboard alone: focus a sample and press Enter.
  await page.focus('button[data-sample="ISIC_0013169"]');
  await page.keyboard.press('Enter');
  await state('done');
  assert.equal(await page.isHidden('#error'), true);
  assert.match(await page.textContent('#caption'), /ISIC_0013169\.jpg, 256×256/);
});

test('switching model re-segments, and the comparison shows all three', async () => {
  await page.selectOption('#model', 'pspnet');
  await state('done');
  assert.match(await page.textContent('#caption'), /PSPNet/);
  assert.equal(await page.getAttribute('#gradcam', 'data-layer'), 'ppm');
  await page.selectOption('#model', 'unetpp-accurate');
  await state('done');
  assert.match(await page.textContent('#caption'), /U-Net\+\+ \(mean of the four heads\)/);
  await page.click('#compare-run');
  await state('compared', 240_000);
  const captions = await page.$$eval('#compare-results figcaption', (els) => els.map((e) => e.textContent));
  assert.equal(captions.length, 3);
  assert.match(captions.join('|'), /^U-Net: .*Dice 0\.\d+.*\|U-Net\+\+ \(deepest head\): .*\|PSPNet: /);
});

test('the embedding example segments with two lines of HTML', async () => {
  const embed = await browser.context.newPage();
  await embed.goto(`${server.base}embed.html`);
  await embed.waitForSelector('lesion-lab[data-state="done"]', { timeout: 120_000 });
  const text = await embed.evaluate(
    () => document.querySelector('lesion-lab').shadowRoot.querySelector('.status').textContent,
  );
  assert.match(text, /ISIC_0015946\.jpg: lesion \d+\.\d% of the image \(CPU/);
  // With U-Net++ (the element's default model) a quick look comes first, then the whole model's mask.
  const r = await embed.evaluate(async () => {
    const el = document.createElement('lesion-lab');
    el.setAttribute('src', 'www/samples/ISIC_0001126.jpg');
    const done = new Promise((ok) => el.addEventListener('segmented', (e) => ok(e.detail), { once: true }));
    document.querySelector('main').append(el);
    const detail = await done;
    return {
      first: el.dataset.firstMask,
      state: el.dataset.state,
      n: detail.mask.length,
      status: el.shadowRoot.querySelector('.status').textContent,
    };
  });
  assert.equal(r.first, 'quick', JSON.stringify(r));
  assert.equal(r.state, 'done');
  assert.match(r.status, /ISIC_0001126\.jpg: lesion \d+\.\d% of the image/);
  await embed.close();
});

test("opened on a sample, the page shows U-Net++'s quick look first, then its deepest head's mask", async () => {
  // A new profile and a new page: the one above has loaded the whole weights long ago.
  const other = await launch({ webgpu: false });
  const fresh = await open(other.context, `${server.base}index.html?sample=ISIC_0001126`);
  try {
    await fresh.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
    const r = await fresh.evaluate(() => ({
      quick: window.__firstMaskQuick,
      first: window.__firstMaskMs,
      whole: window.__wholeMaskMs,
      caption: document.getElementById('caption').textContent,
    }));
    assert.equal(r.quick, true, 'the first mask was the quick look');
    assert.ok(r.whole >= r.first, JSON.stringify(r));
    assert.match(r.caption, /U-Net\+\+ \(deepest head\)$/, "the whole model's mask replaced it");
    const dice = Number(await fresh.textContent('#dice'));
    assert.ok(dice >= 0.7, `Dice ${dice}`);
  } finally {
    await other.close();
  }
});

test("every request stayed inside the page's own folder", async () => {
  const outside = browser.requests.filter((u) => !u.startsWith(server.base) && !/^(blob|data):/.test(u));
  assert.deepEqual(outside, []);
  assert.ok(browser.requests.some((u) => u.endsWith('lesionlab_core_bg.wasm')));
});
