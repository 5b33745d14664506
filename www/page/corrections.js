// "My corrections": photos with the masks the user corrected, kept in this browser's IndexedDB
// (never uploaded) until the user forgets them, and handed to fine-tuning as the photo/mask
// pairs it reads from files. One record per photo name: correcting a photo again replaces it.

import { transact } from '../api/store.js';
import { downloadNames } from './render.js';

const DB = 'lesionlab-corrections';
const STORE = 'pairs';

const pairs = (mode, work) => transact(DB, STORE, mode, work, "my corrections (in this browser's storage)");

/**
 * The file names a photo and its corrected mask are kept under: the photo's own name (its
 * extension from its type) and the mask's download name, which pair as fine-tuning pairs files.
 */
export function correctionNames(photoName, photoType) {
  const mask = downloadNames(photoName).mask;
  const stem = mask.replace(/_(segmentation|mask)\.png$/, '');
  return { photo: `${stem}.${photoType === 'image/png' ? 'png' : 'jpg'}`, mask };
}

/**
 * Keeps `photo` (a Blob) with `mask` (a PNG Blob) under the photo's name. Resolves to `{ count,
 * replaced }`: how many are kept now, and the name of the earlier correction this one replaced
 * (the same name; pasted photos are all "image.png"), or null.
 */
export async function keepCorrection(photoName, photo, mask) {
  const names = correctionNames(photoName, photo.type);
  const earlier = await pairs('readonly', (store) => store.getKey(names.photo));
  await pairs('readwrite', (store) => store.put({ names, photo, mask, savedAt: Date.now() }, names.photo));
  return { count: await countCorrections(), replaced: earlier === undefined ? null : names.photo };
}

/** How many corrections are kept. */
export function countCorrections() {
  return pairs('readonly', (store) => store.count());
}

/** Every kept correction as the two Files fine-tuning pairs: `NAME.jpg` and `NAME_segmentation.png`. */
export async function correctionFiles() {
  const records = await pairs('readonly', (store) => store.getAll());
  return records.flatMap((r) => [
    new File([r.photo], r.names.photo, { type: r.photo.type }),
    new File([r.mask], r.names.mask, { type: 'image/png' }),
  ]);
}

/** Forgets every correction. */
export function forgetCorrections() {
  return pairs('readwrite', (store) => store.clear());
}
