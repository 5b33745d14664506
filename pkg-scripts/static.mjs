// Sending a file of a static folder with the right MIME type (application/wasm included); used
// by `serve.mjs` and by the browser tests' server.
import fs from 'node:fs';
import path from 'node:path';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json',
};

/**
 * The headers that make a page cross-origin isolated, so that it has shared memory and runs the
 * threaded module: `pkg-scripts/serve` sends them, and the service worker adds them to the page's
 * documents for hosts that cannot (written into sw.js by offline.mjs).
 */
export const ISOLATION = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

/**
 * Sends `relative` (a URL path inside `root`; a folder means its index.html) with `headers`, or
 * a 404 when it is not a file inside `root`.
 */
export function sendFile(res, root, relative, headers = {}) {
  root = path.resolve(root);
  let file = path.join(root, relative);
  if (file.startsWith(root) && fs.existsSync(file) && fs.statSync(file).isDirectory())
    file = path.join(file, 'index.html');
  if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  // The length lets the page show download progress as a share of the whole.
  res.writeHead(200, {
    ...headers,
    'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
    'Content-Length': fs.statSync(file).size,
  });
  fs.createReadStream(file).pipe(res);
}
