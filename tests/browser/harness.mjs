// Shared by the browser tests and the page benchmark: a static server for dist/ under a
// subfolder, and Debian's headless Chromium through playwright-core (never a downloaded browser).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendFile } from '../../pkg-scripts/static.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist');
/** The page is served from a subfolder, as on a documentation site. */
export const PREFIX = '/docs/lesionlab/';
export const OUTPUT = path.join(ROOT, 'tests/browser/output');

/** Serves dist/ at PREFIX on a free port; `requests` lists every path asked for. */
export async function serve() {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run pkg-scripts/build first');
  const requests = [];
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(pathname);
    if (pathname === `${PREFIX}blank.html`) {
      // An empty page of the same folder, for tests that script the JS API alone.
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><link rel="icon" href="data:,"><title>LesionLab API test</title></html>');
      return;
    }
    if (!pathname.startsWith(PREFIX)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    sendFile(res, DIST, pathname.slice(PREFIX.length), { 'Cache-Control': 'no-store' });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, base: `${origin}${PREFIX}`, requests, close: () => new Promise((ok) => server.close(ok)) };
}

/**
 * Headless Chromium. `webgpu: true` adds the flag that gives a software WebGPU adapter on this
 * machine (SwiftShader); without it `requestAdapter()` returns null, which is how the CPU
 * fallback is tested.
 */
export async function launch({ webgpu = false } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-chromium-'));
  const args = [
    '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu', '--enable-unsafe-swiftshader');
  // Extra switches for experiments, e.g. CHROMIUM_FLAGS='--js-flags=--no-liftoff'.
  if (process.env.CHROMIUM_FLAGS) args.push(...process.env.CHROMIUM_FLAGS.split(' ').filter(Boolean));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args, timeout: 60_000,
    viewport: { width: 1280, height: 900 }, acceptDownloads: true,
  });
  const log = [];
  /** Every URL the browser asked for, the workers' requests included. */
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log.push(`[console.${m.type()}] ${m.text()}`); });
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

/** The eight real fixture pairs as { name, mimeType, buffer } (Playwright's file form). */
export function fixtureFiles() {
  const root = path.join(ROOT, 'tests/data/isic-fixture');
  const out = [];
  for (const dir of fs.readdirSync(root).sort()) {
    for (const name of fs.readdirSync(path.join(root, dir)).sort()) {
      out.push({ name, mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg', buffer: fs.readFileSync(path.join(root, dir, name)) });
    }
  }
  return out;
}

/** Puts the fixture into the page as `window.fixture` (File[]). */
export async function fixtureInPage(page) {
  const files = fixtureFiles().map((f) => ({ name: f.name, type: f.mimeType, b64: f.buffer.toString('base64') }));
  await page.evaluate((files) => {
    window.fixture = files.map((f) => new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
  }, files);
}
