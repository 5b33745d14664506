// A zip writer for the tests: the corpus's archives and the zip reader's unit tests.

import { crc32, deflateRawSync } from 'node:zlib';

/**
 * A zip of `files`: `{ name, data, method }` with method 8 (deflated, the default) or 0
 * (stored), any other number written as it is; `size` lies about the entry's size and
 * `encrypted` sets the encryption flag.
 * @param {{ name: string, data: string | Uint8Array, method?: number, size?: number, encrypted?: boolean }[]} files
 */
export function makeZip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data, method = 8, size, encrypted = false } of files) {
    const nameBytes = Buffer.from(name);
    const bytes = Buffer.from(data);
    const body = method === 8 ? deflateRawSync(bytes) : bytes;
    const flags = encrypted ? 1 : 0;
    // The fields both headers hold, in the same order from `at` (6 in the local header, 8 in the central).
    const shared = (header, at) => {
      header.writeUInt16LE(flags, at);
      header.writeUInt16LE(method, at + 2);
      header.writeUInt32LE(crc32(bytes), at + 8);
      header.writeUInt32LE(body.length, at + 12);
      header.writeUInt32LE(size ?? bytes.length, at + 16);
      header.writeUInt16LE(nameBytes.length, at + 20);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    shared(local, 6);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    shared(central, 8);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
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
