// The fine-tuning run kept in IndexedDB, so that a reload or a crash loses at most the epoch in
// progress. One record, 'current': { model, settings, dataset, checkpoint, before, history,
// paired, skipped, status: 'running' | 'finished', savedAt }. Used by the worker (writes) and the
// page (reads, discards).

import { fail } from './errors.js';

const DB = 'lesionlab';
const STORE = 'runs';
const KEY = 'current';

/**
 * @param {string} db
 * @param {string} store
 * @returns {Promise<IDBDatabase>}
 */
function open(db, store) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(db, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () =>
      reject(fail('io', `the browser's storage (IndexedDB) is unavailable: ${request.error?.message}`));
  });
}

/**
 * Runs `work(objectStore)` in a transaction on the one object store `store` of database `db`
 * (each database of the page holds one); resolves to the result of the request `work` returns.
 * `what` names what is read or written, in errors ("the saved run").
 */
/**
 * @param {string} db
 * @param {string} store
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} work
 * @param {string} what
 * @returns {Promise<any>}
 */
export async function transact(db, store, mode, work, what) {
  const connection = await open(db, store);
  try {
    return await new Promise((resolve, reject) => {
      const tx = connection.transaction(store, mode);
      const result = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(result ? result.result : undefined);
      tx.onerror = () =>
        reject(
          fail(
            'io',
            `${what}: the browser's storage failed: ${tx.error?.message ?? 'unknown error'}${/quota/i.test(tx.error?.name ?? '') ? " (the browser's storage is full)" : ''}`,
          ),
        );
      tx.onabort = tx.onerror;
    });
  } finally {
    connection.close();
  }
}

const runs = (/** @type {IDBTransactionMode} */ mode, /** @type {(store: IDBObjectStore) => IDBRequest} */ work) =>
  transact(DB, STORE, mode, work, 'the saved run');

/** The saved run, or undefined. */
export function loadRun() {
  return runs('readonly', (store) => store.get(KEY));
}

/** Replaces the saved run. */
/** @param {Record<string, any>} run */
export function saveRun(run) {
  return runs('readwrite', (store) => store.put({ ...run, savedAt: Date.now() }, KEY));
}

/** Updates fields of the saved run; fails when there is none (it could not be stored). */
/** @param {Record<string, any>} fields */
export async function updateRun(fields) {
  const run = await loadRun();
  if (!run) throw fail('io', "the run is not in the browser's storage");
  await saveRun({ ...run, ...fields });
}

/** Forgets the saved run. */
export function clearRun() {
  return runs('readwrite', (store) => store.delete(KEY));
}
