// The zip reader (www/worker/zip.js) on zips built here: stored and deflated entries, folders
// left out, a corrupt entry, an entry that inflates past its declared size, and not-a-zip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { isZip, zipEntries } from '../../www/worker/zip.js';
import { makeZip } from '../corpus/zip.mjs';

const text = (buffer) => Buffer.from(buffer).toString();
const photo = 'pretend jpeg bytes '.repeat(50);

test('stored and deflated entries read back as they were; folders are left out', async () => {
  const zip = new File(
    [
      makeZip([
        { name: 'ISIC/', data: '', method: 0 },
        { name: 'ISIC/ISIC_0000001.jpg', data: photo, method: 8 },
        { name: 'ISIC/ISIC_0000001_segmentation.png', data: 'mask', method: 0 },
      ]),
    ],
    'pairs.zip',
  );
  assert.equal(await isZip(zip), true);
  const entries = await zipEntries(zip);
  assert.deepEqual(
    entries.map((e) => [e.name, e.size]),
    [
      ['pairs.zip/ISIC/ISIC_0000001.jpg', photo.length],
      ['pairs.zip/ISIC/ISIC_0000001_segmentation.png', 4],
    ],
  );
  assert.equal(text(await entries[0].read()), photo);
  assert.equal(text(await entries[1].read()), 'mask');
});

test('a zip is known by its first bytes whatever its name; other files are not zips', async () => {
  assert.equal(await isZip(new File([makeZip([{ name: 'a.png', data: 'x', method: 0 }])], 'download')), true);
  assert.equal(await isZip(new File(['not a zip at all'], 'notes.txt')), false);
});

test('an entry that inflates past its declared size is refused, not read to the end', async () => {
  const zip = new File([makeZip([{ name: 'bomb.png', data: 'a'.repeat(100000), method: 8, size: 10 }])], 'bomb.zip');
  const [entry] = await zipEntries(zip);
  await assert.rejects(
    entry.read(),
    (err) => err.kind === 'unreadable-image' && /inflates past the 10 bytes/.test(err.message),
  );
});

test('corrupt data, an unknown method and a file that is no zip say what is wrong', async () => {
  const zip = makeZip([{ name: 'x.png', data: photo, method: 8 }]);
  zip.fill(0xff, 30 + 5, 30 + 5 + deflateRawSync(photo).length); // the deflated bytes, garbled
  const [garbled] = await zipEntries(new File([zip], 'garbled.zip'));
  await assert.rejects(
    garbled.read(),
    (err) => err.kind === 'unreadable-image' && /garbled\.zip\/x\.png/.test(err.message),
  );
  const [odd] = await zipEntries(new File([makeZip([{ name: 'y.png', data: 'y', method: 12 }])], 'odd.zip'));
  await assert.rejects(
    odd.read(),
    (err) => err.kind === 'unsupported-format' && /compression method 12/.test(err.message),
  );
  await assert.rejects(
    zipEntries(new File(['hello'], 'no.zip')),
    (err) => err.kind === 'unsupported-format' && /not a zip file/.test(err.message),
  );
});
