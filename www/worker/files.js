// The user's files as the worker reads them: folders and the official zips opened, paired by ISIC
// id with the crate's rules before anything is decoded (fine-tuning and evaluation alike).

import { fail, messageOf } from '../api/errors.js';
import { MAX_IMAGE_BYTES } from '../api/rules.js';
import { isZip, zipEntries } from './zip.js';

/** Every file the user gave, zips opened: `[{ name, size, read }]`, and what could not be used. */
async function expand(files) {
  const entries = [];
  const skipped = [];
  for (const file of files) {
    const name = file.webkitRelativePath || file.name;
    if (await isZip(file)) {
      try {
        entries.push(...(await zipEntries(file)));
      } catch (err) {
        skipped.push({ file: name, reason: messageOf(err).replace(`${file.name}: `, '') });
      }
    } else {
      entries.push({ name, size: file.size, read: () => file.arrayBuffer() });
    }
  }
  return { entries, skipped };
}

/** Files opened and paired by ISIC id with the crate's rules, before anything is decoded. */
export async function pairFiles(core, files) {
  const { entries, skipped } = await expand(files);
  const pairing = core.pairNames(entries.map((e) => e.name));
  return { entries, pairs: pairing.pairs, skipped: [...skipped, ...pairing.skipped] };
}

export async function readEntry(entry) {
  if (entry.size > MAX_IMAGE_BYTES)
    throw fail('too-large', `${Math.round(entry.size / 1e6)} MB is too large for an image`);
  return new Uint8Array(await entry.read());
}
