// Shared by the browser tests and the page benchmark: a static server for dist/ under a
// subfolder, and Debian's headless Chromium through playwright-core (never a downloaded browser).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { ISOLATION, MIME, sendFile } from '../../pkg-scripts/static.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist');
/** The page is served from a subfolder, as on a documentation site. */
export const PREFIX = '/docs/lesionlab/';
export const OUTPUT = path.join(ROOT, 'tests/browser/output');

/**
 * Serves dist/ at PREFIX on a free port; `requests` lists every path asked for.
 *
 * Options for the first-open benchmark: `gzip` (Content-Encoding: gzip, as a static host would
 * send it) and `shape: { mbit, rttMs }`, a network emulated here at the server: every response
 * waits one round trip, and all bodies together are paced to `mbit` (the server's side covers
 * the page's and its workers' requests alike). `sent` logs `{ at, path, bytes }` per response
 * body (bytes on the wire, `at` in ms since the epoch when its last byte left).
 *
 * For the offline tests: `override(path, text)` serves other bytes for a file of dist/, and
 * `setDown(true)` makes every request fail as if the network were gone (`refused` lists them).
 *
 * `isolated: true` sends the cross-origin isolation headers with every response, as
 * `pkg-scripts/serve` does (the page then runs the threaded module); without it the server is a
 * static host that sends none.
 */
export async function serve({ gzip = false, shape = null, isolated = false } = {}) {
  const extra = isolated ? ISOLATION : {};
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run pkg-scripts/build first');
  const requests = [];
  const refused = [];
  const sent = [];
  const overrides = new Map();
  let down = false;
  const zipped = new Map();
  let wireFreeAt = 0; // when the emulated link has sent everything queued so far
  const server = http.createServer(async (req, res) => {
    if (down) {
      refused.push(decodeURIComponent(new URL(req.url, 'http://x').pathname));
      req.socket.destroy();
      return;
    }
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(pathname);
    if (pathname === `${PREFIX}blank.html`) {
      // An empty page of the same folder, for tests that script the JS API alone.
      res.writeHead(200, { ...extra, 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><link rel="icon" href="data:,"><title>LesionLab API test</title></html>');
      return;
    }
    if (!pathname.startsWith(PREFIX)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const relative = pathname.slice(PREFIX.length);
    if (overrides.has(relative)) {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(overrides.get(relative));
      return;
    }
    if (!gzip && !shape) {
      sendFile(res, DIST, relative, { ...extra, 'Cache-Control': 'no-store' });
      return;
    }
    await sendShaped(req, res, relative);
  });

  // The benchmark's server: the whole file (gzipped when asked) paced through one emulated link.
  async function sendShaped(req, res, relative) {
    let file = path.join(DIST, relative || 'index.html');
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!file.startsWith(DIST) || !fs.existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const encode = gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    if (encode && !zipped.has(file)) zipped.set(file, zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
    const body = encode ? zipped.get(file) : fs.readFileSync(file);
    if (shape) await sleep(shape.rttMs);
    const headers = { ...extra, 'Content-Length': body.length, 'Cache-Control': 'no-cache' };
    if (encode) headers['Content-Encoding'] = 'gzip';
    res.writeHead(200, { ...headers, 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream' });
    const bytesPerMs = shape ? (shape.mbit * 1e6) / 8 / 1000 : Infinity;
    for (let at = 0; at < body.length; at += 16384) {
      const chunk = body.subarray(at, at + 16384);
      if (shape) {
        wireFreeAt = Math.max(wireFreeAt, Date.now()) + chunk.length / bytesPerMs;
        await sleep(wireFreeAt - Date.now());
      }
      if (!res.write(chunk)) await new Promise((ok) => res.once('drain', ok));
    }
    res.end();
    sent.push({ at: Date.now(), path: relative, bytes: body.length });
  }

  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    base: `${origin}${PREFIX}`,
    requests,
    refused,
    sent,
    override: (file, text) => overrides.set(file, text),
    setDown: (value) => {
      down = value;
      if (down) server.closeAllConnections();
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((ok) => server.close(ok));
    },
  };
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));

/**
 * Headless Chromium. `webgpu: true` adds the flag that gives a software WebGPU adapter on this
 * machine (SwiftShader); without it `requestAdapter()` returns null, which is how the CPU
 * fallback is tested.
 */
export async function launch({ webgpu = false, camera = null } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-chromium-'));
  const args = [
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu', '--enable-unsafe-swiftshader');
  // A camera that shows a video file (`camera`: a .y4m), granted without asking.
  if (camera) {
    args.push(
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${camera}`,
    );
  }
  // Extra switches for experiments, e.g. CHROMIUM_FLAGS='--js-flags=--no-liftoff'.
  if (process.env.CHROMIUM_FLAGS) args.push(...process.env.CHROMIUM_FLAGS.split(' ').filter(Boolean));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args,
    timeout: 60_000,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  const log = [];
  /** Every URL the browser asked for, the workers' requests included. */
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log.push(`[console.${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => log.push(`[pageerror] ${e}`));
    page.on('crash', () => log.push('[page crashed]'));
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, log, requests, close };
}

/** A page of the served folder, opened and loaded. */
export async function open(context, url) {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url, { timeout: 60_000 });
  return page;
}

/**
 * A page test file's start: dist/ served (cross-origin isolated with `isolated`), a browser
 * without WebGPU (with a camera that shows the video file `camera`, when given), the page at
 * `query` (relative to the served folder) open, and the screenshot folder made.
 */
export async function openPage(query, { isolated = false, camera = null } = {}) {
  const server = await serve({ isolated });
  const browser = await launch({ webgpu: false, camera });
  const page = await open(browser.context, `${server.base}${query}`);
  fs.mkdirSync(OUTPUT, { recursive: true });
  return { server, browser, page };
}

/** Closes what `openPage` opened and prints what the browser logged. */
export async function closePage({ server, browser } = {}) {
  await browser?.close();
  await server?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
}

/** The eight real fixture pairs as { name, mimeType, buffer } (Playwright's file form). */
export function fixtureFiles() {
  const root = path.join(ROOT, 'tests/data/isic-fixture');
  const out = [];
  for (const dir of fs.readdirSync(root).sort()) {
    for (const name of fs.readdirSync(path.join(root, dir)).sort()) {
      out.push({
        name,
        mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
        buffer: fs.readFileSync(path.join(root, dir, name)),
      });
    }
  }
  return out;
}

/** Puts the fixture into the page as `window.fixture` (File[]). */
export async function fixtureInPage(page) {
  const files = fixtureFiles().map((f) => ({ name: f.name, type: f.mimeType, b64: f.buffer.toString('base64') }));
  await page.evaluate((files) => {
    window.fixture = files.map(
      (f) => new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }),
    );
  }, files);
}
