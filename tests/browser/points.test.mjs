// Clicks on the lesion (`lab.segment(photo, { points })` and the page's click tool) on a real
// fixture photo placed in a wider field of skin beside a second real lesion, as a full-size
// photo frames a small lesion.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { closePage, OUTPUT, openPage, ROOT } from './harness.mjs';

const FIXTURE = path.join(ROOT, 'tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input');
const b64 = (id) => fs.readFileSync(path.join(FIXTURE, `${id}.jpg`)).toString('base64');

let ctx;
before(async () => {
  ctx = await openPage('index.html?model=unetpp&backend=cpu');
  // The field: 768x576 of skin colour, ISIC_0000122 at (400, 200), ISIC_0000129 at 160x160 in
  // the top-left corner; `window.field` a PNG of it.
  await ctx.page.evaluate(
    async ({ main, second }) => {
      const bitmap = async (s) =>
        createImageBitmap(new Blob([Uint8Array.from(atob(s), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
      const canvas = new OffscreenCanvas(768, 576);
      const c = canvas.getContext('2d');
      c.fillStyle = 'rgb(196 150 140)';
      c.fillRect(0, 0, 768, 576);
      c.drawImage(await bitmap(main), 400, 200);
      c.drawImage(await bitmap(second), 40, 40, 160, 160);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      window.field = new File([blob], 'field.png', { type: 'image/png' });
    },
    { main: b64('ISIC_0000122'), second: b64('ISIC_0000129') },
  );
});
after(() => closePage(ctx));

test('a positive click chooses the lesion, a negative one clears it, a bad click is named', async () => {
  const out = await ctx.page.evaluate(async () => {
    const { LesionLab } = await import('./www/api/lesionlab.js');
    const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu' });
    /** Lesion pixels inside x0..x1, y0..y1 of a 768-wide mask. */
    const inside = (mask, [x0, y0, x1, y1]) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) n += mask[y * 768 + x] ? 1 : 0;
      return n;
    };
    const corner = [40, 40, 200, 200];
    const main = [400, 200, 656, 456];
    const count = async (points) => {
      const r = await lab.segment(window.field, { points });
      return { corner: inside(r.mask, corner), main: inside(r.mask, main), centre: r.mask[328 * 768 + 528] };
    };
    const bad = await lab
      .segment(window.field, { points: [{ x: 900, y: 10, label: 1 }] })
      .catch((e) => [e.kind, e.message]);
    const badLabel = await lab.segment(window.field, { points: [{ x: 9, y: 10, label: 2 }] }).catch((e) => e.kind);
    return {
      plain: await count(undefined),
      there: await count([{ x: 120, y: 120, label: 1 }]),
      not: await count([{ x: 528, y: 328, label: 0 }]),
      here: await count([{ x: 528, y: 328, label: 1 }]),
      bad,
      badLabel,
    };
  });
  assert.ok(out.plain.main > 5000 && out.plain.corner === 0, JSON.stringify(out.plain));
  assert.ok(
    out.there.corner > 1000 && out.there.main === 0,
    `a click on the corner lesion: ${JSON.stringify(out.there)}`,
  );
  assert.ok(
    out.not.main * 2 < out.plain.main && out.not.centre === 0,
    `a negative click in the middle of the central lesion clears most of it: ${JSON.stringify(out.not)}`,
  );
  assert.ok(out.here.main > 5000, JSON.stringify(out.here));
  assert.equal(out.bad[0], 'bad-argument');
  assert.match(out.bad[1], /768x576 photo/);
  assert.equal(out.badLabel, 'bad-argument');
});

test('the page: a click adds a point and segments again, Alt+click a negative one, Undo takes it back', async () => {
  const { page } = ctx;
  await page.setInputFiles('#file', {
    name: 'field.png',
    mimeType: 'image/png',
    buffer: Buffer.from(
      await page.evaluate(async () => {
        const bytes = new Uint8Array(await window.field.arrayBuffer());
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return btoa(s);
      }),
      'base64',
    ),
  });
  const segmented = () =>
    page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 180_000 });
  await segmented();
  assert.equal(await page.isDisabled('#points-undo'), true);
  await page.click('#points-toggle');
  assert.equal(await page.getAttribute('#points-toggle', 'aria-pressed'), 'true');
  /** Clicks the overlay at photo pixel (x, y). */
  const clickAt = async (x, y, modifiers = []) => {
    const box = await page.locator('#overlay').boundingBox();
    const scale = Math.min(box.width / 768, box.height / 576);
    const left = box.x + (box.width - 768 * scale) / 2;
    const top = box.y + (box.height - 576 * scale) / 2;
    await page.mouse.move(left + x * scale, top + y * scale);
    for (const m of modifiers) await page.keyboard.down(m);
    await page.mouse.down();
    await page.mouse.up();
    for (const m of modifiers) await page.keyboard.up(m);
  };
  await clickAt(120, 120);
  await page.waitForFunction(() => /with your click/.test(document.getElementById('caption').textContent), null, {
    timeout: 180_000,
  });
  await segmented();
  assert.match(await page.textContent('#points-count'), /1 on the lesion, 0 not/);
  await clickAt(150, 100, ['Alt']);
  await page.waitForFunction(() => /with your 2 clicks/.test(document.getElementById('caption').textContent), null, {
    timeout: 180_000,
  });
  await segmented();
  assert.match(await page.textContent('#points-count'), /1 on the lesion, 1 not/);
  await page.locator('#result').screenshot({ path: path.join(OUTPUT, 'points.png') });
  await page.click('#points-undo');
  await page.waitForFunction(() => /with your click/.test(document.getElementById('caption').textContent), null, {
    timeout: 180_000,
  });
  await segmented();
  assert.match(await page.textContent('#points-count'), /1 on the lesion, 0 not/);
});
