// The npm package as a documentation author meets it: `npm pack ./dist` gives `lesionlab`, which
// installs (offline, from the tarball) into a scratch static site made here; its `exports` resolve
// for Node and TypeScript; and a page of that site that embeds `<lesion-lab>` from
// node_modules/lesionlab/ segments a photo, with every request to the site itself, and the
// package's service worker installs from that folder.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sendFile } from '../../pkg-scripts/static.mjs';
import { DIST, ROOT, launch, open } from './harness.mjs';

const PHOTO = path.join(ROOT, 'tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg');
const PACKAGE = 'node_modules/lesionlab/';

let work, tarball, scratch, server, origin, browser;
/** Every request the scratch site answered: `{ path, status }`. */
const served = [];

/** Runs npm and returns its stdout; its warnings are printed, so that a changed npm shows in the log. */
function npm(args, cwd) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  const warnings = r.stderr.split('\n').filter((l) => /^npm warn/i.test(l));
  if (warnings.length) console.log(warnings.join('\n'));
  return r.stdout.trim();
}

before(async () => {
  assert.ok(
    fs.existsSync(path.join(DIST, 'package.json')),
    'dist/package.json is missing: run pkg-scripts/build (it runs pkg-scripts/package.mjs)',
  );
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-package-'));
  const packed = npm(['pack', './dist', '--pack-destination', work, '--ignore-scripts'], ROOT);
  tarball = path.join(work, packed.split('\n').pop());

  // The documentation site: a package.json of its own, the package installed from the tarball
  // alone (--offline: nothing may come from a registry), one photo and one page.
  scratch = path.join(work, 'scratch-docs');
  fs.mkdirSync(scratch);
  fs.writeFileSync(path.join(scratch, 'package.json'), '{ "name": "scratch-docs", "private": true }\n');
  npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], scratch);
  fs.copyFileSync(PHOTO, path.join(scratch, 'sample.jpg'));
  // The listeners are set by a classic script at the end of the body, which runs before any
  // module script: the element cannot answer before they are there.
  fs.writeFileSync(
    path.join(scratch, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <link rel="icon" href="data:,">
  <title>Scratch docs</title>
  <script type="module" src="${PACKAGE}www/api/lesion-lab-element.js"></script>
</head>
<body>
  <h1>A documentation page</h1>
  <lesion-lab model="unetpp" backend="cpu" src="sample.jpg"></lesion-lab>
  <script>
    const el = document.querySelector('lesion-lab');
    el.addEventListener('segmented', (e) => {
      const r = e.detail;
      window.segmented = {
        width: r.width,
        height: r.height,
        length: r.mask.length,
        lesion: r.mask.filter((v) => v === 255).length,
        other: r.mask.filter((v) => v !== 0 && v !== 255).length,
        backend: r.backend,
      };
    });
    el.addEventListener('error', (e) => { window.failed = String(e.detail?.message ?? e.detail); });
  </script>
</body>
</html>
`,
  );

  server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    res.on('finish', () => served.push({ path: pathname, status: res.statusCode }));
    sendFile(res, scratch, pathname, { 'Cache-Control': 'no-store' });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launch({ webgpu: false });
});

after(async () => {
  await browser?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
  if (browser?.log.length) console.log(browser.log.join('\n'));
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('npm pack gives `lesionlab` with the modules, the worker, the wasm, the weights and the types', () => {
  assert.match(path.basename(tarball), /^lesionlab-\d+\.\d+\.\d+.*\.tgz$/);
  const listed = new Set(execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n'));
  for (const f of [
    'package.json',
    'README.md',
    'www/api/lesionlab.js',
    'www/api/lesionlab.d.ts',
    'www/api/lesion-lab-element.js',
    'www/api/lesion-lab-element.d.ts',
    'www/page/render.js',
    'www/worker/worker.js',
    'pkg/cpu/lesionlab_core_bg.wasm',
    'pkg/cpu/lesionlab_core.js',
    'pkg/webgpu/lesionlab_core_bg.wasm',
    'weights/unetpp.safetensors',
    'sw.js',
  ])
    assert.ok(listed.has(`package/${f}`), `${f} in the tarball`);
  const manifest = JSON.parse(execFileSync('tar', ['xzfO', tarball, 'package/package.json'], { encoding: 'utf8' }));
  assert.equal(manifest.name, 'lesionlab');
  // Every file the service worker may keep is in the package: its install fails on a missing one.
  const sw = execFileSync('tar', ['xzfO', tarball, 'package/sw.js'], { encoding: 'utf8' });
  const build = JSON.parse(sw.match(/^const BUILD = (.*); \/\/ written/m)[1]);
  assert.deepEqual(
    build.files.filter((f) => !listed.has(`package/${f}`)),
    [],
  );
});

test("the installed package's exports resolve, for Node and for TypeScript", () => {
  const resolved = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { default: p } = await import('lesionlab/package.json', { with: { type: 'json' } });
       console.log(JSON.stringify([p.name, import.meta.resolve('lesionlab'), import.meta.resolve('lesionlab/element')]));`,
    ],
    { cwd: scratch, encoding: 'utf8' },
  );
  const [name, api, element] = JSON.parse(resolved);
  assert.equal(name, 'lesionlab');
  assert.ok(api.endsWith(`/scratch-docs/${PACKAGE}www/api/lesionlab.js`), api);
  assert.ok(element.endsWith(`/scratch-docs/${PACKAGE}www/api/lesion-lab-element.js`), element);

  fs.writeFileSync(
    path.join(scratch, 'check.ts'),
    `import { LesionLab, type SegmentResult } from 'lesionlab';
import { LesionLabElement } from 'lesionlab/element';
export const segment = async (photo: Blob): Promise<SegmentResult> =>
  (await LesionLab.create({ model: 'unetpp', backend: 'cpu' })).segment(photo);
export const element: typeof HTMLElement = LesionLabElement;
`,
  );
  const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
  const common = ['--noEmit', '--strict', '--lib', 'es2023,dom,dom.iterable', 'check.ts'];
  for (const resolution of ['nodenext', 'bundler']) {
    const module = resolution === 'nodenext' ? 'nodenext' : 'esnext';
    execFileSync(tsc, ['--module', module, '--moduleResolution', resolution, ...common], {
      cwd: scratch,
      encoding: 'utf8',
    });
  }
});

test('<lesion-lab> from node_modules/lesionlab/ segments on the scratch site, asking it alone', async () => {
  const page = await open(browser.context, `${origin}/index.html`);
  await page.waitForFunction(() => window.segmented || window.failed, null, { timeout: 300_000 });
  assert.equal(await page.evaluate(() => window.failed ?? null), null);
  const r = await page.evaluate(() => window.segmented);
  assert.equal(r.backend, 'cpu');
  assert.equal(r.length, r.width * r.height);
  assert.equal(r.other, 0, 'the mask is 0 or 255');
  assert.ok(r.lesion > 0.01 * r.length, `lesion pixels: ${r.lesion} of ${r.length}`);
  assert.equal(await page.getAttribute('lesion-lab', 'data-state'), 'done');

  // The element registers the package's service worker after its first mask: from the
  // package's folder, its install keeps the files it lists (a 404 would fail it).
  const scope = `${origin}/${PACKAGE}`;
  // A failed install (a listed file missing) drops the registration: once sw.js was fetched,
  // two seconds without one say `gone`, rather than a timeout.
  let state = null;
  let missing = 0;
  for (const end = Date.now() + 120_000; !state && Date.now() < end; await new Promise((ok) => setTimeout(ok, 250))) {
    const now = await page.evaluate(async (scope) => {
      const r = await navigator.serviceWorker.getRegistration(scope);
      if (r?.scope !== scope) return null;
      const worker = r.active ?? r.waiting ?? r.installing;
      return ['activated', 'redundant'].includes(worker?.state) ? worker.state : 'pending';
    }, scope);
    if (now !== 'pending') state = now;
    if (!now && served.some((s) => s.path === `/${PACKAGE}sw.js`) && ++missing >= 8) state = 'gone';
  }
  assert.equal(state, 'activated', "the package's service worker installs from its folder");
  const kept = await page.evaluate(async () => {
    const names = (await caches.keys()).filter((k) => k.startsWith('lesionlab-'));
    const cache = await caches.open(names[0]);
    return (await cache.keys()).map((q) => q.url);
  });
  assert.deepEqual(
    kept.filter((u) => !u.startsWith(scope)),
    [],
    'the service worker keeps nothing outside the package',
  );
  for (const f of ['pkg/cpu/lesionlab_core_bg.wasm', 'weights/unetpp.safetensors', 'www/api/lesion-lab-element.js'])
    assert.ok(kept.includes(scope + f), `${f} kept by the service worker`);

  // Nothing from anywhere but the scratch site, the workers' requests included; and nothing the
  // site lacked.
  const outside = browser.requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(blob|data):/.test(u));
  assert.deepEqual(outside, []);
  assert.deepEqual(
    served.filter((s) => s.status !== 200),
    [],
  );
  const paths = served.map((s) => s.path);
  assert.ok(paths.includes(`/${PACKAGE}pkg/cpu/lesionlab_core_bg.wasm`));
  assert.deepEqual(
    paths.filter((p) => !p.startsWith(`/${PACKAGE}`) && !['/index.html', '/sample.jpg'].includes(p)),
    [],
  );
});
