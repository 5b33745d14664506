// The zip reader (www/worker/zip.js) on zips built here: stored and deflated entries, folders
// left out, a corrupt entry, an entry that inflates past its declared size, and not-a-zip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, deflateRawSync } from 'node:zlib';
import { isZip, zipEntries } from '../../www/worker/zip.js';

/** A zip of `files` ({ name, data, method: 0 stored | 8 deflated, size? to lie about it }). */
function makeZip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const data = Buffer.from(f.data);
    const body = f.method === 8 ? deflateRawSync(data) : data;
    const size = f.size ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(f.method, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(f.method, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

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
