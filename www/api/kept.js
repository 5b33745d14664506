// Whether LesionLab's service worker keeps a file: the page (engine.js) and the worker both ask
// before fetching a module, since the service worker's copy is fetched and compiled differently.

/** Whether LesionLab's service worker keeps `url` (then fetching it costs no download). */
/** @param {URL} url */
export async function isKept(url) {
  try {
    return Boolean(self.caches && (await caches.match(url.href)));
  } catch {
    return false; // storage unavailable (some private windows): fetch as usual
  }
}
