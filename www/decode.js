// Turning what a user gives (a file, a bitmap, pixels) into RGBA pixels, with errors that name
// the file and the problem. Runs in the worker; the browser's own decoders do the work.

import { fail } from './errors.js';
import { MAX_PIXELS } from './rules.js';

const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes, magic) {
  return magic.every((b, i) => bytes[i] === b);
}

/** Width and height from a PNG or JPEG header, or null when the header does not say. */
export function headerSize(bytes) {
  if (startsWith(bytes, PNG) && bytes.length >= 24) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (startsWith(bytes, JPEG)) {
    // Walk the markers to the first start-of-frame (SOF0..SOF15 except DHT, JPG and DAC).
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) { i++; continue; }
      const marker = bytes[i + 1];
      if (marker === 0xff) { i++; continue; }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { i += 2; continue; }
      const length = (bytes[i + 2] << 8) | bytes[i + 3];
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8] };
      }
      i += 2 + length;
    }
  }
  return null;
}

function checkSize(width, height, name) {
  if (!width || !height) throw fail('unreadable-image', `${name}: the image has no pixels`);
  if (width * height > MAX_PIXELS) {
    const mp = Math.round((width * height) / 1e6);
    throw fail('too-large', `${name}: the image is ${width}x${height} (${mp} megapixels); the limit is ${MAX_PIXELS / 1e6} megapixels`);
  }
}

async function bitmapFromBlob(blob, name) {
  const bytes = new Uint8Array(await blob.slice(0, 256 * 1024).arrayBuffer());
  const isJpeg = startsWith(bytes, JPEG);
  const isPng = startsWith(bytes, PNG);
  if (!isJpeg && !isPng && !(blob.type || '').startsWith('image/')) {
    throw fail('unsupported-format', `${name}: not an image (expected a JPEG or PNG photo)`);
  }
  const size = headerSize(bytes);
  if (size) checkSize(size.width, size.height, name);
  try {
    return await createImageBitmap(blob, { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (err) {
    const kind = isJpeg ? 'JPEG' : isPng ? 'PNG' : 'image';
    throw fail('unreadable-image', `${name}: the ${kind} is corrupt or truncated; the browser could not decode it`);
  }
}

function pixelsOf(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

/**
 * RGBA pixels of a Blob/File (JPEG, PNG or anything the browser decodes), an ImageBitmap or
 * an ImageData. EXIF orientation is applied, as natively.
 */
export async function decodePixels(source, name = 'image') {
  let width, height, data;
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    ({ width, height, data } = source);
    checkSize(width, height, name);
  } else if (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap) {
    checkSize(source.width, source.height, name);
    ({ width, height } = source);
    data = pixelsOf(source);
    source.close();
  } else if (source instanceof Blob) {
    const bitmap = await bitmapFromBlob(source, name);
    checkSize(bitmap.width, bitmap.height, name);
    ({ width, height } = bitmap);
    data = pixelsOf(bitmap);
    bitmap.close();
  } else {
    throw fail('bad-argument', `${name}: unsupported source; pass a Blob, File, ImageBitmap, ImageData or HTMLImageElement`);
  }
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}
