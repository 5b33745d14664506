// Offline after the first visit: the service worker keeps the app's files; a reload with the
// server gone (every connection refused) segments, in the page and in the <lesion-lab> element
// of a documentation page in the same subfolder, and a new build replaces the cache. The first
// visit, from a host without isolation headers, runs one thread; the service worker isolates the
// next, which runs the threaded module.
// (Playwright's `setOffline` is not used: a service worker started while it is on stays
// offline after it is switched off.)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DIST, launch, open, serve } from './harness.mjs';

let server, browser, page;
const built = fs.readFileSync(path.join(DIST, 'sw.js'), 'utf8');
const version = built.match(/"version":"([0-9a-f]+)"/)[1];

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: false });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
});

/** Polls `fn` in the page until it returns something truthy. */
async function until(fn, arg, what, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await page.evaluate(fn, arg).catch(() => null);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** The LesionLab caches of the page's origin and the files each holds. */
function caches() {
  return page.evaluate(async () => {
    const out = {};
    for (const key of (await self.caches.keys()).filter((k) => k.startsWith('lesionlab-'))) {
      out[key] = (await (await self.caches.open(key)).keys()).map((r) =>
        new URL(r.url).pathname.replace(/^\/docs\/lesionlab\//, ''),
      );
    }
    return out;
  });
}

function network(on) {
  server.setDown(!on);
}

/** What the browser asked the server for while it was down, but the service worker's update check. */
function triedWhileDown(from) {
  return server.refused.slice(from).filter((p) => !p.endsWith('/sw.js'));
}

async function waitDone(selector = 'body') {
  await page.waitForFunction((s) => ['done', 'error'].includes(document.querySelector(s)?.dataset.state), selector, {
    timeout: 300_000,
  });
  return page.evaluate((s) => document.querySelector(s).dataset.state, selector);
}

test('after the first visit, the page reloads and segments with the network gone', async () => {
  page = await open(browser.context, `${server.base}index.html?backend=cpu&sample=ISIC_0001126`);
  assert.equal(await waitDone(), 'done');
  // This server is a static host that sends no isolation headers: one thread, the first time.
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  assert.equal(await page.textContent('#backend-used'), 'CPU (WebAssembly, 1 thread)');
  await until(
    async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated',
    null,
    'the service worker',
  );
  const kept = await until(
    async (name) => {
      const cache = await self.caches.open(name);
      const need = [
        'index.html',
        'www/page/app.js',
        'pkg/cpu/lesionlab_core_bg.wasm',
        'pkg/threads/lesionlab_core_bg.wasm',
        'weights/unetpp.safetensors',
        'www/samples/ISIC_0014640.jpg',
      ];
      const have = await Promise.all(need.map((f) => cache.match(new URL(f, location.href).href)));
      return have.every(Boolean) && need;
    },
    `lesionlab-${version}`,
    'the files the first mask needs in the cache',
  );
  assert.ok(kept.length);
  const files = (await caches())[`lesionlab-${version}`];
  assert.ok(!files.some((f) => f.startsWith('pkg/webgpu/')), 'the WebGPU module, never used here, is not kept');
  // The module's compiled code is kept with the service worker's copy, for the next visit: the
  // worker compiled that copy once more, which downloaded nothing.
  assert.equal(
    await until(() => window.__codeKept !== undefined && String(window.__codeKept), null, 'the compiled code kept'),
    'true',
  );
  const wasm = server.requests.filter((p) => p.endsWith('/pkg/cpu/lesionlab_core_bg.wasm'));
  assert.equal(wasm.length, 2, "the page's download and the service worker's, no third");

  network(false);
  const from = server.refused.length;
  await page.goto(`${server.base}index.html?backend=cpu&sample=ISIC_0014640`);
  assert.equal(await waitDone(), 'done', await page.textContent('#error'));
  assert.match(await page.textContent('#caption'), /ISIC_0014640\.jpg/);
  assert.deepEqual(triedWhileDown(from), [], 'everything came from the cache');
  // The service worker made this visit cross-origin isolated: the threaded module ran it.
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  const threads = await page.evaluate(async () => (await import('./www/api/threads.js')).threadsFor('auto'));
  if (threads > 1) assert.equal(await page.textContent('#backend-used'), `CPU (WebAssembly, ${threads} threads)`);
  // Its module came from the service worker: nothing to keep this time.
  assert.equal(
    await until(() => window.__codeKept !== undefined && String(window.__codeKept), null, 'the compiled code checked'),
    'false',
  );
  network(true);
});

test('the <lesion-lab> element of a documentation page in the same folder works offline too', async () => {
  await page.goto(`${server.base}embed.html`);
  assert.equal(await waitDone('lesion-lab'), 'done');
  // PSPNet's weights were not kept at install: the element's visit asks for them.
  await until(
    async (name) =>
      (await self.caches.open(name)).match(new URL('weights/pspnet.safetensors', location.href).href).then(Boolean),
    `lesionlab-${version}`,
    'the PSPNet weights in the cache',
  );
  network(false);
  const from = server.refused.length;
  await page.reload();
  assert.equal(
    await waitDone('lesion-lab'),
    'done',
    await page.evaluate(() => document.querySelector('lesion-lab').shadowRoot.querySelector('.status').textContent),
  );
  assert.deepEqual(triedWhileDown(from), []);
  network(true);
});

test('a new build replaces the cache at the next visit, and the page works offline from the new one', async () => {
  const next = `${version}0`;
  server.override('sw.js', built.replace(`"version":"${version}"`, `"version":"${next}"`));
  await page.goto(`${server.base}index.html?backend=cpu`);
  // The browser checks sw.js on visits; update() does it now. The new build takes over once the
  // tabs of the old one are closed: the next visit runs on it, with its own cache alone.
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await until(
    async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return !r.installing && (r.waiting || (await self.caches.keys()).length === 1);
    },
    null,
    'the new build installed',
  );
  await page.close();
  page = await browser.context.newPage();
  // The old build answers this visit while the new one waits; a busy machine has made its first
  // load take longer than Playwright's default 30 s.
  await page.goto(`${server.base}index.html?backend=cpu`, { timeout: 180_000 });
  // Chromium activates a waiting build once the old one has no event in flight, and at the
  // latest after five minutes (its "lame duck" limit); under load the old one sometimes stays
  // busy for minutes, with no event of ours that we could find.
  await until(
    async (names) => {
      const keys = (await self.caches.keys()).filter((k) => k.startsWith('lesionlab-'));
      return keys.length === 1 && keys[0] === names.next;
    },
    { next: `lesionlab-${next}` },
    'the new cache alone',
    330_000,
  );
  const files = (await caches())[`lesionlab-${next}`];
  for (const f of ['index.html', 'pkg/cpu/lesionlab_core_bg.wasm', 'weights/unetpp.safetensors'])
    assert.ok(files.includes(f), `${f} in the new cache`);
  network(false);
  const from = server.refused.length;
  await page.goto(`${server.base}index.html?backend=cpu&sample=ISIC_0015946`, { timeout: 180_000 });
  assert.equal(await waitDone(), 'done');
  assert.deepEqual(triedWhileDown(from), []);
  network(true);
});

test("nothing outside the page's folder was requested, and no photo was kept", async () => {
  const outside = browser.requests.filter((u) => !u.startsWith(server.base) && !/^(blob|data):/.test(u));
  assert.deepEqual(outside, []);
  const kept = Object.values(await caches()).flat();
  const build = JSON.parse(built.match(/^const BUILD = (.*); \/\/ written/m)[1]).files;
  assert.deepEqual(
    kept.filter((f) => !build.includes(f)),
    [],
    "only the build's own files are cached",
  );
});
