// The fine-tuning run kept in IndexedDB, so that a reload or a crash loses at most the epoch in
// progress. One record, 'current': { model, settings, dataset, checkpoint, before, history,
// paired, skipped, status: 'running' | 'finished', savedAt }. Used by the worker (writes) and the
// page (reads, discards).

import { fail } from './errors.js';

const DB = 'lesionlab';
const STORE = 'runs';
const KEY = 'current';

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(fail('io', `the browser's storage (IndexedDB) is unavailable: ${request.error?.message}`));
  });
}

async function transact(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result.result);
      tx.onerror = () => reject(fail('io', `saving the run failed: ${tx.error?.message ?? 'unknown error'}${/quota/i.test(tx.error?.name ?? '') ? ' (the browser\'s storage is full)' : ''}`));
      tx.onabort = tx.onerror;
    });
  } finally {
    db.close();
  }
}

/** The saved run, or undefined. */
export function loadRun() {
  return transact('readonly', (store) => store.get(KEY));
}

/** Replaces the saved run. */
export function saveRun(run) {
  return transact('readwrite', (store) => store.put({ ...run, savedAt: Date.now() }, KEY));
}

/** Updates fields of the saved run; fails when there is none (it could not be stored). */
export async function updateRun(fields) {
  const run = await loadRun();
  if (!run) throw fail('io', 'the run is not in the browser\'s storage');
  await saveRun({ ...run, ...fields });
}

/** Forgets the saved run. */
export function clearRun() {
  return transact('readwrite', (store) => store.delete(KEY));
}
