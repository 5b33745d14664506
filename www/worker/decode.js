// Pixels the page already has (an ImageData, or an ImageBitmap made from an image or canvas)
// as RGBA, checked against the crate's size limit. Encoded files never come here: the crate
// decodes them (`Session.setPhotoFile`), as natively.

import { fail } from '../api/errors.js';
import { MAX_PIXELS } from '../api/rules.js';

function checkSize(width, height, name) {
  if (!width || !height) throw fail('unreadable-image', `${name}: the image has no pixels`);
  if (width * height > MAX_PIXELS) {
    const mp = Math.round((width * height) / 1e6);
    throw fail(
      'too-large',
      `${name}: the image is ${width}x${height} (${mp} megapixels); the limit is ${MAX_PIXELS / 1e6} megapixels`,
    );
  }
}

function bitmapPixels(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

/** RGBA pixels of an ImageBitmap (closed after) or an ImageData: `{ rgba, width, height }`. */
export async function pixelsOf(source, name = 'image') {
  const pixels = typeof ImageData !== 'undefined' && source instanceof ImageData;
  if (!pixels && !(typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap)) {
    throw fail(
      'bad-argument',
      `${name}: unsupported source; pass a Blob, File, ImageBitmap, ImageData or HTMLImageElement`,
    );
  }
  const { width, height } = source;
  checkSize(width, height, name);
  const data = pixels ? source.data : bitmapPixels(source);
  if (source instanceof ImageBitmap) source.close();
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}
