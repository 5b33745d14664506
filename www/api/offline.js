// Offline after the first visit: registers the service worker (`sw.js`, in the folder above
// www/, so that it serves the whole LesionLab folder and nothing outside it) and tells it which
// of LesionLab's files this visit used; once it is active, the module's optimised code is kept
// with its copy for the next visit (worker.js `keepCompiledCode`). Called once the page has shown
// what it came for (and again when WebGPU took over), so that keeping the files never competes
// with the first mask's downloads.

import { keepCompiledCode, usedFiles } from './engine.js';

/** @type {Promise<ServiceWorkerRegistration | null> | null} */
let registered = null;
/** @type {Promise<void> | null} */
let codeKept = null; // once per page

/** Registers `sw.js` once and asks it to keep the files used so far; where service workers are
 * unavailable (file://, plain http) nothing happens and the page works online only. */
export function keepOffline() {
  if (!('serviceWorker' in navigator)) return;
  registered ??= navigator.serviceWorker.register(new URL('../../sw.js', import.meta.url)).catch((err) => {
    console.info(`LesionLab works online only here: ${err.message}`);
    return null;
  });
  registered.then(async (/** @type {ServiceWorkerRegistration | null} */ registration) => {
    if (!registration) return;
    const worker = registration.active ?? (await navigator.serviceWorker.ready).active;
    worker?.postMessage({ keep: usedFiles() });
    // Once the service worker answers this page's worker too (it is 'activated' when its
    // clients.claim() is done, a moment after the page's controllerchange), the module's compiled
    // code is kept with the service worker's copy, for the next visit's first mask. Chromium's
    // code cache is what this feeds (userAgentData is Chromium's too): elsewhere it would be a
    // compile and a forward for nothing. `__codeKept` is for the benchmark, which waits for it.
    if (!navigator.userAgentData || !(await activated(worker))) {
      window.__codeKept ??= false;
      return;
    }
    if (codeKept) return;
    codeKept = keepCompiledCode()
      .catch(() => false)
      .then((kept) => {
        window.__codeKept = kept;
      });
  });
}

/** Resolves true once `worker` is activated, false if it becomes redundant first. */
/**
 * @param {ServiceWorker | null} worker
 * @returns {Promise<boolean>}
 */
function activated(worker) {
  return new Promise((done) => {
    if (!worker) return done(false);
    const settle = () => {
      if (worker.state === 'activated' || worker.state === 'redundant') done(worker.state === 'activated');
    };
    worker.addEventListener('statechange', settle);
    settle();
  });
}
