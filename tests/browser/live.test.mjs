// Live camera (`lab.live` and the page's Camera button) on Chromium's fake camera, which shows a
// video made here from a real fixture photo (stretched to 640x480, as a webcam gives it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cameraVideo, H, W } from './camera.mjs';
import { closePage, launch, OUTPUT, open, openPage, ROOT, serve } from './harness.mjs';

const ID = 'ISIC_0000122';
const FIXTURE = path.join(ROOT, 'tests/data/isic-fixture');
const PHOTO = path.join(FIXTURE, `ISIC2018_Task1-2_Training_Input/${ID}.jpg`);
const MASK = path.join(FIXTURE, `ISIC2018_Task1_Training_GroundTruth/${ID}_segmentation.png`);

let camera;
before(async () => {
  camera = await cameraVideo(
    PHOTO,
    path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-camera-')), `${ID}.y4m`),
  );
});
after(() => fs.rmSync(path.dirname(camera), { recursive: true, force: true }));

test("live masks of the camera match a dropped photo's quick look, and stop leaves the stream alone", async () => {
  const server = await serve();
  const browser = await launch({ camera });
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    const out = await page.evaluate(
      async ({ photo, mask, W, H }) => {
        const { LesionLab } = await import('./www/api/lesionlab.js');
        const blob = (b64, type) => new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type });
        /** The mask file drawn at w x h, lesion where above 127. */
        const truthAt = async (w, h) => {
          const canvas = new OffscreenCanvas(w, h);
          const ctx = canvas.getContext('2d');
          ctx.drawImage(await createImageBitmap(blob(mask, 'image/png')), 0, 0, w, h);
          const d = ctx.getImageData(0, 0, w, h).data;
          return Uint8Array.from({ length: w * h }, (_, i) => (d[4 * i] > 127 ? 1 : 0));
        };
        const dice = (m, t) => {
          let both = 0;
          let sum = 0;
          for (let i = 0; i < t.length; i++) {
            const p = m[i] > 0 ? 1 : 0;
            both += p & t[i];
            sum += p + t[i];
          }
          return (2 * both) / sum;
        };
        const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu' });
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: W, height: H } });
        const truth = await truthAt(W, H);
        const seen = [];
        let enough;
        const six = new Promise((resolve) => {
          enough = resolve;
        });
        const live = await lab.live(stream, {
          onResult: (r) => {
            seen.push({
              index: r.index,
              fps: r.fps,
              frame: [r.frame.width, r.frame.height],
              size: [r.width, r.height],
              dice: dice(r.mask, truth),
            });
            r.frame.close();
            if (seen.length === 6) enough();
          },
        });
        await six;
        await live.stop();
        const stopped = seen.length;
        await new Promise((resolve) => setTimeout(resolve, 600));
        // The same photo dropped, its quick look: U-Net++'s quick-start head, one pass.
        const dropped = await lab.segment(blob(photo, 'image/jpeg'), { mode: 'head', level: 2, refine: false });
        // A video element of the page's as the source: still playing after stop.
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = stream;
        await video.play();
        let fromVideo = 0;
        const fromElement = await lab.live(video, { onResult: (r) => (fromVideo += 1) && r.frame.close() });
        while (fromVideo < 2) await new Promise((resolve) => setTimeout(resolve, 50));
        await fromElement.stop();
        const bad = await lab.live(/** @type {any} */ ({}), { onResult() {} }).catch((e) => e.kind);
        const noCallback = await lab.live(stream, /** @type {any} */ ({})).catch((e) => e.kind);
        return {
          seen,
          stopped,
          after: seen.length,
          running: live.running,
          tracks: stream.getVideoTracks().map((t) => t.readyState),
          videoPlaying: !video.paused && video.srcObject === stream,
          droppedDice: dice(dropped.mask, await truthAt(256, 256)),
          bad,
          noCallback,
        };
      },
      { photo: fs.readFileSync(PHOTO).toString('base64'), mask: fs.readFileSync(MASK).toString('base64'), W, H },
    );
    assert.equal(out.seen.length, 6);
    assert.deepEqual(
      out.seen.map((s) => s.index),
      [1, 2, 3, 4, 5, 6],
    );
    for (const s of out.seen) {
      assert.deepEqual(s.frame, [W, H]);
      assert.deepEqual(s.size, [W, H]);
    }
    assert.ok(out.seen.at(-1).fps > 0, `fps ${out.seen.at(-1).fps}`);
    assert.equal(out.after, out.stopped, 'no result after stop');
    assert.equal(out.running, false);
    assert.deepEqual(out.tracks, ['live'], "the page's camera stays on");
    assert.ok(out.videoPlaying, "the page's video element keeps playing");
    const live = out.seen.at(-1).dice;
    console.log(`live Dice ${live.toFixed(4)}, dropped photo's quick look ${out.droppedDice.toFixed(4)}`);
    assert.ok(out.droppedDice > 0.6, `dropped ${out.droppedDice}`);
    assert.ok(Math.abs(live - out.droppedDice) <= 0.05, `live ${live} vs dropped ${out.droppedDice}`);
    assert.equal(out.bad, 'bad-argument');
    assert.equal(out.noCallback, 'bad-argument');
  } finally {
    await browser.close();
    await server.close();
  }
});

test('the page shows the live mask, and Freeze segments the frame as a photo', async () => {
  const ctx = await openPage('index.html?model=unetpp&backend=cpu', { camera });
  try {
    const { page } = ctx;
    await page.click('#camera-start');
    await page.waitForFunction(() => Number(document.getElementById('camera-view').dataset.frames ?? 0) >= 3, null, {
      timeout: 120_000,
    });
    assert.match(await page.textContent('#camera-fps'), /frames per second/);
    await page.locator('#camera').screenshot({ path: path.join(OUTPUT, 'camera.png') });
    await page.click('#camera-freeze');
    await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 180_000 });
    assert.match(await page.textContent('#caption'), /^camera-.*\.png, 640×480/);
    assert.equal(await page.isHidden('#camera'), true);
    assert.equal(await page.isEnabled('#camera-start'), true);
  } finally {
    await closePage(ctx);
  }
});
