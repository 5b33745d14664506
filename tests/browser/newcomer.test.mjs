// The page as a newcomer meets it (CPU path): U-Net++ fast levels, results that always belong
// to the photo and model on screen, heatmaps that are not blank by default and explained when
// they are, the <lesion-lab> element, drops on the result, the "not dermoscopy" warning, the
// overlay's contrast and legend, words explained, the result in view on a phone and a
// projector, accessible controls, and the README's classroom links.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, ROOT, closePage, openPage } from './harness.mjs';

let server, browser, page;

before(async () => {
  ({ server, browser, page } = await openPage('index.html?backend=cpu'));
});

after(() => closePage({ server, browser }));

const state = (p, s, timeout = 120_000) => p.waitForSelector(`body[data-state="${s}"]`, { timeout });
const photoFile = (rel, name = path.basename(rel)) => ({
  name,
  mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
  buffer: fs.readFileSync(path.join(ROOT, rel)),
});

/** Max minus min of the red channel of a canvas: 0 for a blank (single-colour) canvas. */
function spread(p, id) {
  return p.evaluate((id) => {
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

const options = (p, id) => p.$$eval(`#${id} option`, (os) => os.map((o) => o.value));

test('U-Net++ fast levels 1-3 show heatmaps of layers they compute, with no error', async () => {
  for (const level of [1, 2, 3]) {
    await page.goto(`${server.base}index.html?model=unetpp-fast&level=${level}&backend=cpu&sample=ISIC_0001126`);
    await state(page, 'done');
    assert.equal(await page.isHidden('#error'), true, `level ${level}: ${await page.textContent('#error')}`);
    const computed = ['x0_0', 'x1_0', 'x2_0', 'x3_0', 'x0_1', 'x1_1', 'x2_1', 'x0_2', 'x1_2', 'x0_3'].filter(
      (n) => Number(n[1]) + Number(n[3]) <= level,
    );
    assert.deepEqual(
      (await options(page, 'cam-layer')).sort(),
      [...computed].sort(),
      `level ${level} lists only its nodes`,
    );
    assert.deepEqual((await options(page, 'gradcam-layer')).sort(), [...computed].sort());
    assert.equal(await page.getAttribute('#cam', 'data-layer'), `x0_${level}`);
    assert.equal(await page.getAttribute('#gradcam', 'data-layer'), `x${level}_0`);
    assert.ok((await spread(page, 'cam')) > 50, `level ${level}: the default map shows something`);
    assert.match(await page.textContent('#caption'), new RegExp(`U-Net\\+\\+ \\(head ${level}\\)`));
  }
});

test('coming from PSPNet, its heatmaps do not stay under a U-Net++ caption; a later success clears an error', async () => {
  await page.selectOption('#model', 'pspnet');
  await state(page, 'done');
  assert.equal(await page.getAttribute('#gradcam', 'data-layer'), 'ppm');
  await page.selectOption('#model', 'unetpp-fast');
  // At once, before the new model answers: no PSPNet heatmap left on screen.
  assert.equal(await page.getAttribute('#gradcam', 'data-layer'), '');
  assert.equal(await page.$eval('#gradcam', (c) => c.width), 0);
  await state(page, 'done');
  assert.match(await page.getAttribute('#gradcam', 'data-layer'), /^x[1-4]_0$/);
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  await page.waitForSelector('#error:not([hidden])');
  assert.doesNotMatch(await page.textContent('#status'), /Segmenting|Loading/, 'no "in progress" line after an error');
  assert.equal(await page.isHidden('#result'), true, 'nothing of the previous photo stays on screen');
  await page.click('button[data-sample="ISIC_0014640"]');
  await state(page, 'done');
  assert.equal(await page.isHidden('#error'), true);
});

test('what is shown and downloaded always belongs to the photo on screen', async () => {
  await page.goto(`${server.base}index.html?backend=cpu&sample=ISIC_0001126`);
  await state(page, 'done');
  await page.click('#compare-run');
  await state(page, 'compared', 240_000);
  assert.equal(await page.$$eval('#compare-results figure', (f) => f.length), 3);
  // A new photo of another size: at once the old mask, numbers, comparison and downloads go.
  const size = [320, 240];
  const jpeg = await page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    canvas
      .getContext('2d')
      .drawImage(await createImageBitmap(await (await fetch('www/samples/ISIC_0014640.jpg')).blob()), 0, 0, w, h);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg' })).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  }, size);
  await page.setInputFiles('#file', { name: 'mole.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg, 'base64') });
  const now = await page.evaluate(() => ({
    mask: document.getElementById('download-mask').disabled,
    overlay: document.getElementById('download-overlay').disabled,
    area: document.getElementById('area').textContent,
    compare: document.getElementById('compare-results').children.length,
  }));
  assert.deepEqual(now, { mask: true, overlay: true, area: '–', compare: 0 });
  await page.waitForFunction(() => /mole\.jpg/.test(document.getElementById('caption').textContent));
  // The sliders only redraw the new photo until its mask arrives: never the old mask on it.
  await page.locator('#threshold').fill('0.3');
  const canvas = await page.$eval('#overlay', (c) => [c.width, c.height]);
  assert.deepEqual(canvas, size);
  await state(page, 'done');
  const [mask] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
  assert.equal(mask.suggestedFilename(), 'mole_mask.png');
  const bytes = fs.readFileSync(await mask.path());
  assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], size, 'the mask of the new photo, at its size');
  await page.locator('#threshold').fill('0.5');
});

test('the default heatmaps are not blank; a blank CAM or Grad-CAM is explained by the sign of the mean output', async () => {
  const samples = ['ISIC_0001126', 'ISIC_0014640', 'ISIC_0013169', 'ISIC_0015946', 'ISIC_0001152', 'ISIC_0013652'];
  const blankDefaults = [];
  for (const model of ['unet', 'unetpp', 'pspnet']) {
    await page.selectOption('#model', model);
    for (const id of samples) {
      await page.click(`button[data-sample="${id}"]`);
      await state(page, 'done');
      for (const map of ['cam', 'gradcam']) {
        if ((await spread(page, map)) < 20) {
          blankDefaults.push(`${model}/${id}/${map}`);
          assert.equal(await page.isVisible(`#${map}-blank`), true, `${model} ${id}: a blank ${map} has its note`);
        }
      }
    }
  }
  assert.deepEqual(blankDefaults, [], 'no default map is blank on the 18 sample/model pairs');
  // The report's CAM, one click away: where it is blank, the note names the negative mean output.
  await page.selectOption('#model', 'unetpp');
  await page.click('button[data-sample="ISIC_0015946"]');
  await state(page, 'done');
  await page.selectOption('#cam-method', 'cam');
  await page.waitForFunction(() => /^CAM/.test(document.getElementById('cam').getAttribute('aria-label')));
  if (await page.isVisible('#cam-blank')) {
    const note = await page.textContent('#cam-blank');
    assert.match(note, /mean output over the photo, which is negative here \(-\d+\.\d\d/);
    assert.doesNotMatch(note, /small/);
  } else {
    assert.ok((await spread(page, 'cam')) > 20);
  }
  await page.selectOption('#cam-method', 'activation');
  await page.waitForFunction(() => /^Mean activation/.test(document.getElementById('cam').getAttribute('aria-label')));
});

test('a blank Grad-CAM gets a note too, and only a blank map has one', async () => {
  // Some layer of U-Net++'s is blank in Grad-CAM on some sample (the first sample that has one
  // is used; with the weights of 2026-12-01's second cycle it is x0_0 on ISIC_0001126, and
  // `lesionlab explain --method gradcam --layer L` prints the same note); the other layers are
  // not.
  const { sample, maps } = await page.evaluate(async () => {
    const { LesionLab } = await import('./www/lesionlab.js');
    const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu' });
    let found = null;
    for (const id of ['ISIC_0015946', 'ISIC_0001126', 'ISIC_0014640', 'ISIC_0013169', 'ISIC_0001152', 'ISIC_0013652']) {
      const photo = await (await fetch(`www/samples/${id}.jpg`)).blob();
      const out = [];
      for (const layer of lab.layers()) {
        const h = await lab.explain(photo, { method: 'gradcam', layer });
        out.push({ layer, blank: h.heatmap.every((v) => v === 0), note: h.blankNote });
      }
      found = { sample: id, maps: out };
      if (out.some((m) => m.blank)) break;
    }
    lab.dispose();
    return found;
  });
  for (const m of maps) assert.equal(m.note !== null, m.blank, `${m.layer}: a note exactly when the map is blank`);
  const blank = maps.find((m) => m.blank);
  assert.ok(
    blank,
    'a blank Grad-CAM to show on some sample (if none, the weights changed: find another layer or photo)',
  );
  assert.match(blank.note, new RegExp(`^Grad-CAM is blank at layer ${blank.layer}: .*Try another layer\\.$`));
  await page.selectOption('#model', 'unetpp');
  await page.click(`button[data-sample="${sample}"]`);
  await state(page, 'done');
  assert.equal(await page.isHidden('#gradcam-blank'), true);
  await page.selectOption('#gradcam-layer', blank.layer);
  await page.waitForSelector('#gradcam-blank:not([hidden])');
  assert.equal(await page.textContent('#gradcam-blank'), blank.note);
  await page.selectOption('#gradcam-layer', maps.find((m) => !m.blank).layer);
  await page.waitForSelector('#gradcam-blank', { state: 'hidden' });
});

test('the <lesion-lab> element segments once on load and shows no empty box', async () => {
  const embed = await browser.context.newPage();
  await embed.addInitScript(() => {
    window.segmentedEvents = 0;
    document.addEventListener('segmented', () => window.segmentedEvents++, true);
  });
  await embed.goto(`${server.base}embed.html`);
  await embed.waitForSelector('lesion-lab[data-state="done"]', { timeout: 120_000 });
  await embed.waitForTimeout(1500);
  assert.equal(await embed.evaluate(() => window.segmentedEvents), 1);
  const empty = await embed.evaluate(async () => {
    const el = document.createElement('lesion-lab');
    el.setAttribute('model', 'pspnet');
    document.body.append(el);
    await new Promise((r) => setTimeout(r, 300));
    return el.shadowRoot.querySelector('canvas').getBoundingClientRect().height;
  });
  assert.equal(empty, 0, 'the hidden canvas takes no room');
  await embed.close();
});

async function dropOn(p, selector, file) {
  const dataTransfer = await p.evaluateHandle(
    ({ b64, name, type }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
      return dt;
    },
    { b64: file.buffer.toString('base64'), name: file.name, type: file.mimeType },
  );
  const prevented = await p.evaluate((selector) => {
    const e = new DragEvent('dragover', { bubbles: true, cancelable: true });
    document.querySelector(selector).dispatchEvent(e);
    return e.defaultPrevented;
  }, selector);
  await p.dispatchEvent(selector, 'drop', { dataTransfer });
  return prevented;
}

test('a photo dropped on the result opens it; a holiday photo gets a warning; every result says "not a diagnosis"', async () => {
  await page.goto(`${server.base}index.html?backend=cpu&sample=ISIC_0014640`);
  await state(page, 'done');
  assert.equal(await page.isHidden('#check-warning'), true, 'a dermoscopy sample gets no warning');
  assert.equal(await page.isVisible('#result .disclaimer'), true);
  assert.match(await page.textContent('#result .disclaimer'), /not a diagnosis/);
  const prevented = await dropOn(page, '#overlay', photoFile('tests/data/not-dermoscopy/rocket.jpg', 'holiday.jpg'));
  assert.equal(prevented, true, 'the browser does not open the file in the tab');
  await page.waitForFunction(() => /holiday\.jpg/.test(document.getElementById('caption').textContent));
  await state(page, 'done');
  assert.equal(await page.isVisible('#check-warning'), true);
  assert.match(await page.textContent('#check-warning'), /does not look like a dermoscopy photo/);
  assert.match(await page.textContent('#area'), /not meaningful/);
  await page.click('#compare-run');
  await state(page, 'compared', 240_000);
  assert.equal(await page.isVisible('#compare .disclaimer'), true);
});

test('the overlay has an outline of at least 3:1 contrast on lesion colours, a legend, a colour bar and the expert outline', async () => {
  await page.click('button[data-sample="ISIC_0001126"]');
  await state(page, 'done');
  const r = await page.evaluate(async () => {
    const { overlay } = await import('./www/page/render.js');
    const { OVERLAY: COLORS } = await import('./www/api/rules.js');
    const lum = (c) => {
      const [r, g, b] = c.map((v) => {
        v /= 255;
        return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
    // Mean colours of ISIC 2018 lesions and skin at their 2nd..98th luminance percentiles
    // (measured on every fifth pair of shared/data), and a saturated pink lesion.
    const typical = [
      [82, 43, 28],
      [122, 65, 40],
      [137, 90, 69],
      [156, 109, 88],
      [191, 128, 88],
      [201, 153, 128],
      [196, 185, 169],
      [144, 109, 85],
      [166, 123, 103],
      [197, 161, 139],
      [200, 190, 168],
      [219, 209, 179],
      [244, 228, 202],
      [230, 120, 150],
    ];
    const worst = Math.min(
      ...typical.map((c) => Math.max(contrast(COLORS.outlineDark, c), contrast(COLORS.outlineLight, c))),
    );
    // On a pink photo, the outline's pixels are exactly those two colours.
    const photo = new ImageData(40, 40);
    for (let i = 0; i < photo.data.length; i += 4) photo.data.set([230, 120, 150, 255], i);
    const mask = new Uint8Array(1600).map((_, i) =>
      Math.abs((i % 40) - 20) < 10 && Math.abs(((i / 40) | 0) - 20) < 10 ? 255 : 0,
    );
    const out = overlay(photo, mask, { opacity: 0.4 }).data;
    const at = (x, y) => [...out.slice((y * 40 + x) * 4, (y * 40 + x) * 4 + 3)];
    return { worst, edge: at(11, 20), inner: at(12, 20), fill: at(20, 20) };
  });
  assert.ok(r.worst >= 3, `worst contrast ${r.worst.toFixed(2)}:1`);
  assert.deepEqual(r.edge, [0, 0, 0]);
  assert.deepEqual(r.inner, [255, 212, 0]);
  assert.notDeepEqual(r.fill, [230, 120, 150], 'the inside is tinted');
  assert.equal(await page.isVisible('.legend'), true);
  assert.equal(await page.isVisible('#truth-legend'), true, 'samples have the expert outline in the legend');
  assert.ok((await spread(page, 'colorbar')) > 100, 'the colour bar runs from blue to red');
  const withTruth = await page.$eval('#overlay', (c) => c.toDataURL());
  await page.uncheck('#truth');
  await page.waitForFunction((before) => document.getElementById('overlay').toDataURL() !== before, withTruth);
  await page.check('#truth');
});

test('every term has a short explanation; samples have names; the report is linked', async () => {
  for (const id of ['threshold', 'opacity', 'model', 'backend', 'level']) {
    const help = await page.evaluate((id) => {
      const ref = document.getElementById(id).getAttribute('aria-describedby');
      return ref ? document.getElementById(ref).textContent.trim() : '';
    }, id);
    assert.ok(help.length > 30, `#${id} is explained: "${help}"`);
  }
  assert.match(await page.textContent('#threshold-help'), /probability/);
  assert.match(await page.textContent('#dice-value'), /1 is identical/);
  assert.match(await page.textContent('#timing'), /ms in the network/);
  const labels = await page.$$eval('#cam-layer option', (os) => os.map((o) => o.textContent));
  assert.ok(
    labels.every((l) => /^x\d_\d: .+resolution/.test(l)),
    labels.join(' | '),
  );
  assert.ok((await page.textContent('#gradcam-layer-info')).length > 30);
  const samples = await page.$$eval('.sample', (bs) => bs.map((b) => b.textContent));
  assert.ok(
    samples.every((t) => /[a-z]{4,}.*ISIC_\d{7}/.test(t)),
    samples.join(' | '),
  );
  const report = await page.evaluate(async () => {
    const a = document.querySelector('a[href="report.txt"]');
    const r = await fetch(a.href);
    return { status: r.status, text: (await r.text()).slice(0, 40) };
  });
  assert.equal(report.status, 200);
  assert.match(report.text, /Medical Image Segmentation/);
});

test('controls have names, follow the dark theme and look disabled when they are', async () => {
  assert.equal(await page.getByRole('slider', { name: 'Overlay opacity' }).count(), 1);
  assert.equal(await page.getByRole('slider', { name: 'Threshold' }).count(), 1);
  assert.ok((await page.$eval('#file', (e) => e.getBoundingClientRect().width)) <= 1, 'no second, native file button');
  assert.ok((await page.$eval('#tune-files', (e) => e.getBoundingClientRect().width)) <= 1);
  assert.match(await page.textContent('label.folder'), /Choose a folder/);
  const disabled = await page.$eval('#tune-go', (b) => ({
    disabled: b.disabled,
    cursor: getComputedStyle(b).cursor,
    opacity: getComputedStyle(b).opacity,
  }));
  assert.deepEqual(disabled, { disabled: true, cursor: 'not-allowed', opacity: '0.6' });
  const dark = await browser.context.newPage();
  await dark.emulateMedia({ colorScheme: 'dark' });
  await dark.goto(`${server.base}index.html?backend=cpu`);
  const bg = await dark.$eval('#model', (s) => getComputedStyle(s).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)', 'form controls are dark in dark mode');
  await dark.close();
});

test('fine-tuning pairs any NAME.jpg with NAME_segmentation.png or NAME_mask.png; Start needs a pair', async () => {
  const photo = fs.readFileSync(
    path.join(ROOT, 'tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg'),
  );
  const mask = fs.readFileSync(
    path.join(ROOT, 'tests/data/isic-fixture/ISIC2018_Task1_Training_GroundTruth/ISIC_0000122_segmentation.png'),
  );
  await page.setInputFiles('#tune-files', [{ name: 'mole1.jpg', mimeType: 'image/jpeg', buffer: photo }]);
  await page.waitForFunction(() => /no photo\/mask pair/.test(document.getElementById('tune-found').textContent));
  assert.equal(await page.isDisabled('#tune-go'), true);
  const more = [3, 4, 5, 6, 7, 8].flatMap((i) => [
    { name: `mole${i}.jpeg`, mimeType: 'image/jpeg', buffer: photo },
    { name: `mole${i}_mask.png`, mimeType: 'image/png', buffer: mask },
  ]);
  await page.setInputFiles('#tune-files', [
    { name: 'mole1.jpg', mimeType: 'image/jpeg', buffer: photo },
    { name: 'mole1_segmentation.png', mimeType: 'image/png', buffer: mask },
    { name: 'Mole2.JPG', mimeType: 'image/jpeg', buffer: photo },
    { name: 'mole2_mask.png', mimeType: 'image/png', buffer: mask },
    ...more,
  ]);
  await page.waitForFunction(() => /8 photo\/mask pair\(s\)/.test(document.getElementById('tune-found').textContent));
  assert.equal(await page.isDisabled('#tune-go'), false);
  for (const id of ['tune-epochs', 'tune-batch', 'tune-lr', 'tune-size', 'tune-val', 'tune-augment']) {
    const help = await page.evaluate(
      (id) => document.getElementById(document.getElementById(id).getAttribute('aria-describedby'))?.textContent,
      id,
    );
    assert.ok(help && help.length > 20, `#${id} has help`);
  }
  // Cancelled before any epoch finished: the message does not claim a saved epoch.
  await page.selectOption('#tune-model', 'unet');
  await page.selectOption('#tune-size', '128');
  await page.fill('#tune-epochs', '2');
  await page.fill('#tune-batch', '1');
  await page.fill('#tune-val', '0');
  await page.click('#tune-go');
  await page.waitForFunction(() => /Epoch 1, step/.test(document.getElementById('tune-status').textContent), null, {
    timeout: 120_000,
  });
  await page.click('#tune-cancel');
  await page.waitForSelector('body[data-tune="cancelled"]', { timeout: 120_000 });
  const said = await page.textContent('#tune-status');
  assert.match(said, /no epoch finished/, said);
});

test('the result comes into view on a phone and a 1280x720 projector at 150%; screenshots at three sizes', async () => {
  const sizes = { laptop: [1280, 800], phone: [390, 844], projector: [853, 480] };
  for (const [name, [width, height]] of Object.entries(sizes)) {
    const p = await browser.context.newPage();
    await p.setViewportSize({ width, height });
    await p.goto(`${server.base}index.html?backend=cpu`);
    await state(p, 'ready');
    await p.click('button[data-sample="ISIC_0001152"]');
    await state(p, 'done');
    await p.waitForTimeout(600); // the smooth scroll
    const box = await p.$eval('#overlay', (c) => {
      const r = c.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom };
    });
    assert.ok(box.top < height - 80 && box.bottom > 80, `${name}: the result is on screen (${JSON.stringify(box)})`);
    await p.screenshot({ path: path.join(OUTPUT, `page-${name}.png`) });
    await p.close();
  }
});

test("the README's classroom links open the page as they say", async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const links = [...new Set(readme.match(/index\.html\?[^\s`)"']+/g))];
  assert.ok(links.length >= 3, links.join());
  for (const link of links) {
    const q = new URLSearchParams(link.split('?')[1]);
    await page.goto(`${server.base}${link}`);
    if (q.get('present') === '1') {
      // Classroom mode: the sample's first step, drawn.
      await page.waitForSelector('#classroom[data-step="photo"][data-ready="true"]', { timeout: 120_000 });
      if (q.get('sample')) assert.equal(await page.getAttribute('#classroom', 'data-sample'), q.get('sample'), link);
      continue;
    }
    await state(page, q.get('sample') ? 'done' : 'ready');
    assert.equal(await page.isHidden('#error'), true, `${link}: ${await page.textContent('#error')}`);
    if (q.get('model')) assert.equal(await page.inputValue('#model'), q.get('model'), link);
    if (q.get('level')) assert.equal(await page.inputValue('#level'), q.get('level'), link);
    if (q.get('sample')) {
      assert.match(await page.textContent('#caption'), new RegExp(q.get('sample')));
      assert.ok((await spread(page, 'cam')) > 50 && (await spread(page, 'gradcam')) > 50, `${link}: heatmaps shown`);
    }
  }
});
