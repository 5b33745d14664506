// The awkward-input corpus, written at test time (nothing large is committed): photos, image /
// mask pairs, zips and weights files that a user could give, each with the outcome LesionLab
// must give for it on every surface. Used by tests/browser/corpus.test.mjs, which feeds it to
// the command line and to the page's JS API.
//
// `makeCorpus(dir)` writes `dir/photos/`, `dir/pairs/` and `dir/weights/` and returns
// `{ photos, pairs, weights }`: lists of `{ file, ok }` or `{ file, kind, problem }`, where
// `problem` is a regular expression the message must match after the file's name.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeZip } from './zip.mjs';

const FIXTURE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../data/isic-fixture');
const INPUT = path.join(FIXTURE, 'ISIC2018_Task1-2_Training_Input');
const TRUTH = path.join(FIXTURE, 'ISIC2018_Task1_Training_GroundTruth');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * A PNG of `width x height` whose pixel (x, y) is `pixel(x, y)`: an array of `channels` values
 * (1 gray, 3 RGB, 4 RGBA) of `depth` bits (8 or 16).
 */
export function png(width, height, channels, pixel, depth = 8) {
  const colour = { 1: 0, 3: 2, 4: 6 }[channels];
  const bytes = depth / 8;
  const row = 1 + width * channels * bytes;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const values = pixel(x, y);
      for (let c = 0; c < channels; c++) {
        const at = y * row + 1 + (x * channels + c) * bytes;
        if (depth === 16) raw.writeUInt16BE(values[c], at);
        else raw[at] = values[c];
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colour, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const disc = (x, y, size) => (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 4) ** 2;

/** A zip of `entries` ([name, bytes]), deflated; `lie` rewrites an entry's declared size. */
function zip(entries, { lie = null, encrypt = null } = {}) {
  return makeZip(
    entries.map(([name, data]) => ({
      name,
      data,
      size: lie && lie[0] === name ? lie[1] : undefined,
      encrypted: encrypt === name,
    })),
  );
}

/** A safetensors file with its JSON header rewritten by `edit` and its data by `data`. */
function rewriteWeights(bytes, edit, data = (d) => d) {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const body = Buffer.from(bytes.subarray(8 + n));
  const first = Object.entries(header).find(([k, v]) => k !== '__metadata__' && v.dtype === 'F32');
  edit(header, first);
  data(body, first);
  let text = JSON.stringify(header);
  while (text.length % 8) text += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([length, Buffer.from(text), body]);
}

/** Writes the corpus under `dir` (emptied first) and returns what each file must give. */
export function makeCorpus(dir, { weightsOf }) {
  fs.rmSync(dir, { recursive: true, force: true });
  const write = (sub, name, bytes) => {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, sub, name), bytes);
    return name;
  };
  const jpeg = fs.readFileSync(path.join(INPUT, 'ISIC_0000125.jpg'));
  const CORRUPT = /the JPEG is corrupt or truncated/;

  // Photos: what `segment` gives for each.
  const photos = [
    { file: write('photos', 'whole.jpg', jpeg), ok: true },
    {
      file: write(
        'photos',
        'rgb.png',
        png(64, 48, 3, (x, y) => [180, 120 + y, 90 + x]),
      ),
      ok: true,
    },
    {
      file: write(
        'photos',
        'gray16.png',
        png(40, 30, 1, (x) => [x * 1500], 16),
      ),
      ok: true,
    },
    {
      file: write(
        'photos',
        'rgba.png',
        png(40, 30, 4, () => [200, 150, 120, 90]),
      ),
      ok: true,
    },
    {
      file: write('photos', 'half.jpg', jpeg.subarray(0, jpeg.length >> 1)),
      kind: 'unreadable-image',
      problem: CORRUPT,
    },
    {
      file: write(
        'photos',
        'padded.jpg',
        Buffer.concat([jpeg.subarray(0, ((jpeg.length * 2) / 3) | 0), Buffer.alloc(400, 7)]),
      ),
      kind: 'unreadable-image',
      problem: CORRUPT,
    },
    { file: write('photos', 'header-only.jpg', jpeg.subarray(0, 600)), kind: 'unreadable-image', problem: CORRUPT },
    {
      file: write('photos', 'cut.png', png(64, 64, 3, (x, y) => [x, y, 9]).subarray(0, 60)),
      kind: 'unreadable-image',
      problem: /the PNG is corrupt or truncated/,
    },
    {
      file: write('photos', 'notes.jpg', Buffer.from('lesion notes, not a photo')),
      kind: 'unsupported-format',
      problem: /not a JPEG or PNG image/,
    },
    {
      file: write('photos', 'scan.tif', Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 0, 0])),
      kind: 'unsupported-format',
      problem: /not a JPEG or PNG image/,
    },
    {
      file: write(
        'photos',
        'drawing.svg',
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      ),
      kind: 'unsupported-format',
      problem: /not a JPEG or PNG image/,
    },
    {
      file: write('photos', 'empty.png', Buffer.alloc(0)),
      kind: 'unsupported-format',
      problem: /not a JPEG or PNG image/,
    },
  ];
  const bomb = png(1, 1, 1, () => [0]);
  bomb.writeUInt32BE(20000, 16);
  bomb.writeUInt32BE(20000, 20);
  bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
  photos.push({
    file: write('photos', 'bomb.png', bomb),
    kind: 'too-large',
    problem: /image is 20000x20000 .*the limit is 50 megapixels/,
  });

  // Pairs: what loading them for `eval` or fine-tuning gives (good pairs beside bad ones).
  const size = 256;
  const mask = (value) => png(size, size, 1, (x, y) => [disc(x, y, size) ? value : 0]);
  const pair = (id, image, maskBytes) => {
    write('pairs', `${id}.jpg`, image);
    return write('pairs', `${id}_segmentation.png`, maskBytes);
  };
  const real = (id) => [
    fs.readFileSync(path.join(INPUT, `${id}.jpg`)),
    fs.readFileSync(path.join(TRUTH, `${id}_segmentation.png`)),
  ];
  pair('ISIC_0000122', ...real('ISIC_0000122'));
  pair('ISIC_0000123', ...real('ISIC_0000123'));
  const good = ['ISIC_0000122', 'ISIC_0000123', 'ISIC_0000200', 'ISIC_0000201'];
  pair(
    'ISIC_0000200',
    jpeg,
    png(size, size, 1, () => [0]),
  );
  pair(
    'ISIC_0000201',
    jpeg,
    png(size, size, 1, () => [255]),
  );
  const pairs = [
    { file: pair('ISIC_0000210', jpeg, mask(1)), kind: 'bad-mask', problem: /values 0-1: multiply by 255/ },
    {
      file: pair(
        'ISIC_0000211',
        jpeg,
        png(size, size, 3, (x, y) => (disc(x, y, size) ? [220, 30, 30] : [0, 0, 0])),
      ),
      kind: 'bad-mask',
      problem: /a colour mask/,
    },
    {
      file: pair(
        'ISIC_0000212',
        jpeg,
        png(128, 100, 1, () => [255]),
      ),
      kind: 'bad-mask',
      problem: /mask is 128x100 but its image is 256x256/,
    },
  ];
  write('pairs', 'ISIC_0000213_segmentation.png', mask(255));
  pairs.push({
    file: write('pairs', 'ISIC_0000213.jpg', jpeg.subarray(0, 3000)),
    kind: 'unreadable-image',
    problem: CORRUPT,
  });
  // Zips beside the files: one good (two pairs), the rest unreadable as a whole or per entry.
  const [image124, truth124] = real('ISIC_0000124');
  const [image126, truth126] = real('ISIC_0000126');
  const goodZip = zip([
    ['ISIC_0000124.jpg', image124],
    ['ISIC_0000124_segmentation.png', truth124],
    ['ISIC_0000126.jpg', image126],
    ['ISIC_0000126_segmentation.png', truth126],
  ]);
  write('pairs', 'good.zip', goodZip);
  good.push('ISIC_0000124', 'ISIC_0000126');
  pairs.push(
    {
      file: write('pairs', 'cut.zip', goodZip.subarray(0, goodZip.length >> 1)),
      kind: 'unsupported-format',
      problem: /zip/,
    },
    {
      file: write('pairs', 'fake.zip', Buffer.from('PK but not really a zip at all')),
      kind: 'unsupported-format',
      problem: /zip/,
    },
  );
  // A zip bomb in miniature: an entry that claims 1000 bytes and inflates to 8 MB.
  const [image128] = real('ISIC_0000128');
  write(
    'pairs',
    'bomb.zip',
    zip(
      [
        ['ISIC_0000220.jpg', image128],
        ['ISIC_0000220_segmentation.png', Buffer.alloc(8_000_000)],
      ],
      { lie: ['ISIC_0000220_segmentation.png', 1000] },
    ),
  );
  pairs.push({ file: 'bomb.zip/ISIC_0000220_segmentation.png', kind: 'unreadable-image', problem: /declare/ });
  write(
    'pairs',
    'locked.zip',
    zip(
      [
        ['ISIC_0000221.jpg', image128],
        ['ISIC_0000221_segmentation.png', truth124],
      ],
      { encrypt: 'ISIC_0000221.jpg' },
    ),
  );
  pairs.push({ file: 'locked.zip/ISIC_0000221.jpg', kind: 'unsupported-format', problem: /crypt/i });

  // Weights: what loading each gives (`model` is the one the file is given for).
  const unet = fs.readFileSync(weightsOf('unet'));
  const weights = [
    {
      file: write(
        'weights',
        'size0.safetensors',
        rewriteWeights(unet, (h) => {
          h.__metadata__['lesionlab.input_size'] = '0';
        }),
      ),
      kind: 'weights',
      problem: /records input size '0', which U-Net cannot run/,
    },
    {
      file: write(
        'weights',
        'size65536.safetensors',
        rewriteWeights(unet, (h) => {
          h.__metadata__['lesionlab.input_size'] = '65536';
        }),
      ),
      kind: 'weights',
      problem: /records input size '65536'/,
    },
    {
      file: write(
        'weights',
        'bf16.safetensors',
        rewriteWeights(unet, (_h, [, info]) => {
          info.dtype = 'BF16';
          info.shape.push(2);
        }),
      ),
      kind: 'weights',
      problem: /is stored as BF16/,
    },
    {
      file: write(
        'weights',
        'nan.safetensors',
        rewriteWeights(
          unet,
          () => {},
          (d, [, info]) => d.writeFloatLE(NaN, info.data_offsets[0]),
        ),
      ),
      kind: 'weights',
      problem: /holds a NaN or an infinity/,
    },
    {
      file: write(
        'weights',
        'inf.safetensors',
        rewriteWeights(
          unet,
          () => {},
          (d, [, info]) => d.writeFloatLE(Infinity, info.data_offsets[0]),
        ),
      ),
      kind: 'weights',
      problem: /holds a NaN or an infinity/,
    },
    {
      file: write('weights', 'pspnet.safetensors', fs.readFileSync(weightsOf('pspnet'))),
      kind: 'weights',
      problem: /PSPNet weights, not U-Net weights/,
    },
    {
      file: write('weights', 'text.safetensors', Buffer.from('hello')),
      kind: 'weights',
      problem: /not a readable safetensors file/,
    },
    { file: write('weights', 'copy.safetensors', unet), ok: true },
  ];
  return { photos, pairs, good, weights };
}
