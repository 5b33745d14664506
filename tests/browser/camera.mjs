// A fake camera's video for Chromium (`--use-file-for-fake-video-capture`): a real photo
// stretched to 640x480, as a webcam gives it, written at test time as YUV4MPEG2.
import fs from 'node:fs';
import { launch, open, serve } from './harness.mjs';

export const [W, H] = [640, 480];

/** The fixture photo stretched to W x H, as RGBA bytes, drawn by Chromium. */
async function stretchedPhoto(photo) {
  const server = await serve();
  const browser = await launch();
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    const b64 = await page.evaluate(
      async ({ photo, W, H }) => {
        const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
        const canvas = new OffscreenCanvas(W, H);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0, W, H);
        const rgba = ctx.getImageData(0, 0, W, H).data;
        let s = '';
        for (let i = 0; i < rgba.length; i += 0x8000) s += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
        return btoa(s);
      },
      { photo: fs.readFileSync(photo).toString('base64'), W, H },
    );
    return Buffer.from(b64, 'base64');
  } finally {
    await browser.close();
    await server.close();
  }
}

/** RGBA as a YUV4MPEG2 4:2:0 video of `frames` identical frames (BT.601, studio range). */
function y4m(rgba, frames) {
  const y = Buffer.alloc(W * H);
  const u = Buffer.alloc((W / 2) * (H / 2));
  const v = Buffer.alloc((W / 2) * (H / 2));
  for (let i = 0; i < W * H; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  }
  for (let cy = 0; cy < H / 2; cy++) {
    for (let cx = 0; cx < W / 2; cx++) {
      let [r, g, b] = [0, 0, 0];
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const i = 4 * ((2 * cy + dy) * W + 2 * cx + dx);
        r += rgba[i] / 4;
        g += rgba[i + 1] / 4;
        b += rgba[i + 2] / 4;
      }
      const j = cy * (W / 2) + cx;
      u[j] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[j] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  const header = Buffer.from(`YUV4MPEG2 W${W} H${H} F30:1 Ip A1:1 C420jpeg\n`);
  return Buffer.concat([header, ...Array(frames).fill(frame)]);
}

/**
 * Writes `photo` (a JPEG) as a 30-frame 640x480 video to `out` and returns `out`.
 * @param {string} photo
 * @param {string} out
 */
export async function cameraVideo(photo, out) {
  fs.writeFileSync(out, y4m(await stretchedPhoto(photo), 30));
  return out;
}
