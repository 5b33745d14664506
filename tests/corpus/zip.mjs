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
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(bytes), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size ?? bytes.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc32(bytes), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size ?? bytes.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
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
