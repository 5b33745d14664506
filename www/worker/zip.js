// Reading zip archives from a File without loading them whole: the central directory is read
// from the end, and each entry is sliced and inflated on demand (DecompressionStream). The
// official ISIC zips are gigabytes, with ZIP64 records; both are handled.

import { fail } from '../api/errors.js';
import { MAX_IMAGE_BYTES } from '../api/rules.js';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function bytesAt(blob, start, length) {
  return new DataView(await blob.slice(start, start + length).arrayBuffer());
}

function u64(view, at) {
  return Number(view.getBigUint64(at, true));
}

/**
 * Inflates `data` (raw deflate) to the `size` bytes its directory declares, and not one byte
 * more: a zip bomb's entry claims a small size and inflates to gigabytes, so inflating stops
 * (and the stream is cancelled) as soon as the output passes what was declared.
 */
async function inflate(data, size, what) {
  const out = new Uint8Array(size);
  let filled = 0;
  const reader = data.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.byteLength > size) {
        throw fail(
          'unreadable-image',
          `${what}: inflates past the ${size} bytes its zip declares (a corrupt entry or a zip bomb); not read further`,
        );
      }
      out.set(value, filled);
      filled += value.byteLength;
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    if (err?.kind) throw err;
    throw fail('unreadable-image', `${what}: corrupt compressed data`);
  }
  if (filled !== size)
    throw fail(
      'unreadable-image',
      `${what}: ${filled} bytes inflated where the zip declares ${size} (truncated or corrupt)`,
    );
  return out.buffer;
}

/** Whether a file looks like a zip (by name or by its first bytes). */
export async function isZip(file) {
  if (/\.zip$/i.test(file.name || '')) return true;
  if (file.size < 4) return false;
  return (await bytesAt(file, 0, 4)).getUint32(0, true) === LOCAL;
}

/**
 * The files in a zip: `[{ name, size, read() -> Promise<ArrayBuffer> }]`, named
 * `archive.zip/path/in/zip` as the native loader names them. Folders are left out.
 */
export async function zipEntries(file) {
  const label = file.name || 'archive.zip';
  const broken = (why) => fail('unsupported-format', `${label}: ${why}`);
  const tailLength = Math.min(file.size, 65557);
  const tail = await bytesAt(file, file.size - tailLength, tailLength);
  let at = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw broken('not a zip file (no central directory)');
  let count = tail.getUint16(at + 10, true);
  let dirSize = tail.getUint32(at + 12, true);
  let dirOffset = tail.getUint32(at + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff || dirSize === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tail.getUint32(loc, true) !== ZIP64_LOCATOR) throw broken('broken ZIP64 record');
    const z = await bytesAt(file, u64(tail, loc + 8), 56);
    if (z.getUint32(0, true) !== ZIP64_EOCD) throw broken('broken ZIP64 record');
    count = u64(z, 32);
    dirSize = u64(z, 40);
    dirOffset = u64(z, 48);
  }
  if (dirOffset + dirSize > file.size) throw broken('truncated (the central directory is past the end)');
  const dir = await bytesAt(file, dirOffset, dirSize);
  const decoder = new TextDecoder();
  const entries = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > dir.byteLength || dir.getUint32(p, true) !== CENTRAL) throw broken('corrupt central directory');
    const flags = dir.getUint16(p + 8, true);
    const method = dir.getUint16(p + 10, true);
    let compressed = dir.getUint32(p + 20, true);
    let size = dir.getUint32(p + 24, true);
    const nameLength = dir.getUint16(p + 28, true);
    const extraLength = dir.getUint16(p + 30, true);
    const commentLength = dir.getUint16(p + 32, true);
    let local = dir.getUint32(p + 42, true);
    const name = decoder.decode(new Uint8Array(dir.buffer, dir.byteOffset + p + 46, nameLength));
    // ZIP64 sizes and offset live in the extra field, in this order, when their 32-bit slot is full.
    let e = p + 46 + nameLength;
    const end = e + extraLength;
    while (e + 4 <= end) {
      const id = dir.getUint16(e, true),
        len = dir.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(dir, q);
          q += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(dir, q);
          q += 8;
        }
        if (local === 0xffffffff) {
          local = u64(dir, q);
        }
      }
      e += 4 + len;
    }
    p = end + commentLength;
    if (name.endsWith('/')) continue;
    entries.push({
      name: `${label}/${name}`,
      size,
      async read() {
        const what = `${label}/${name}`;
        if (flags & 1) throw fail('unsupported-format', `${what}: encrypted; LesionLab reads only unencrypted zips`);
        if (method !== 0 && method !== 8)
          throw fail('unsupported-format', `${what}: unsupported compression method ${method}`);
        if (size > MAX_IMAGE_BYTES)
          throw fail('too-large', `${what}: ${Math.round(size / 1e6)} MB is too large for an image`);
        const header = await bytesAt(file, local, 30);
        if (header.getUint32(0, true) !== LOCAL) throw fail('unreadable-image', `${what}: corrupt entry`);
        const start = local + 30 + header.getUint16(26, true) + header.getUint16(28, true);
        const data = file.slice(start, start + compressed);
        if (method === 0) return data.arrayBuffer();
        return inflate(data, size, what);
      },
    });
  }
  return entries;
}
