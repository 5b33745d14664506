// LesionLab's service worker: the page works offline after the first visit. It answers the
// app's own files (and only those: `BUILD.files`, every file of this build) from a cache named
// after the build, which `pkg-scripts/build` writes into the line below as a hash of all of
// them, so a new release installs a new cache and deletes the old. On install it keeps what the
// first mask needs (`BUILD.precache`: the page, both CPU modules, the default model's weights,
// the samples); the rest (the WebGPU module, the other models' weights) is kept when a visit uses it.
// User photos never pass through here: the page reads them from files, not from the network.
//
// It also makes the page cross-origin isolated where the host sends no such headers (a static
// host): what it answers carries `BUILD.isolation` (COOP and COEP), so every visit after the
// first has shared memory and runs the threaded CPU module. The documents need the headers, and so
// does the worker's script (Chromium refuses a worker without COEP to an isolated page). The wasm
// modules are answered as the cache holds them: a wrapped response would be compiled anew at
// every visit instead of reusing the code the browser compiled from the cached one.

const BUILD = { version: 'dev', files: [], precache: [], isolation: {} }; // written by pkg-scripts/build

const CACHE = `lesionlab-${BUILD.version}`;
const SCOPE = new URL('./', self.location.href);
const FILES = new Set(BUILD.files);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // Revalidated, not taken from the HTTP cache: a file of an older build must not slip in.
      await cache.addAll(BUILD.precache.map((file) => new Request(new URL(file, SCOPE), { cache: 'no-cache' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('lesionlab-') && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

/** The build's file a URL names ('' and folders mean index.html), or null. */
function fileOf(url) {
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return null;
  let file = url.pathname.slice(SCOPE.pathname.length);
  if (file === '' || file.endsWith('/')) file += 'index.html';
  return FILES.has(file) ? file : null;
}

// The page lists the files its visit used before this worker controlled it (the WebGPU module,
// another model's weights, say): they are kept too, so that the same visit works offline.
self.addEventListener('message', (event) => {
  const files = (event.data?.keep ?? []).map((url) => fileOf(new URL(url))).filter(Boolean);
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const file of files) {
        const key = new URL(file, SCOPE).href;
        if (!(await cache.match(key))) await cache.add(key).catch(() => {});
      }
    })(),
  );
});

/** `response` with the isolation headers added. */
function isolated(response) {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(BUILD.isolation)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The cached or fetched response for one of the build's files. */
async function answer(event, file) {
  const key = new URL(file, SCOPE).href; // one entry per file, whatever the query
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  const response = await fetch(event.request);
  // Kept while the page already reads it (a module compiles as it streams).
  if (response.status === 200) event.waitUntil(cache.put(key, response.clone()));
  return response;
}

self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET') return;
  const file = fileOf(new URL(event.request.url));
  if (!file) return;
  const asCached = file.endsWith('.wasm');
  event.respondWith(answer(event, file).then((response) => (asCached ? response : isolated(response))));
});
