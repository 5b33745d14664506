// Writes `sw.js` into a built folder (pkg-scripts/build's dist.partial/): the service worker
// with this build's version (a hash of every file's path and bytes), the files it may answer
// and those it keeps at install (what the first mask with the default model needs). It also
// lists the page's modules as preloads in the folder's index.html.
//
//   node pkg-scripts/offline.mjs <folder> <default model>
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ISOLATION } from './static.mjs';

const [folder, defaultModel] = process.argv.slice(2);
if (!folder || !defaultModel) {
  console.error('usage: node pkg-scripts/offline.mjs <folder> <default model>');
  process.exit(2);
}

function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(path.relative(folder, full).split(path.sep).join('/'));
  }
  return out;
}

// The page's static module graph, preloaded from index.html: the browser then fetches every
// module at once rather than one import level (one round trip) after another.
function staticImports(file, seen = new Set()) {
  const text = fs.readFileSync(path.join(folder, file), 'utf8');
  // `import ... from './x.js'`, `import './x.js'` and `export ... from './x.js'`, at a line's start.
  for (const m of text.matchAll(
    /^\s*(?:import\s(?:[^'"]*?\sfrom\s*)?|export\s[^'"]*?\sfrom\s*)['"](\.\.?\/[^'"]+)['"]/gm,
  )) {
    const dep = path.posix.join(path.posix.dirname(file), m[1]);
    if (!seen.has(dep)) {
      seen.add(dep);
      staticImports(dep, seen);
    }
  }
  return seen;
}
const marker = /^\s*<!-- modulepreload[^>]*-->$/m;
const page = fs.readFileSync(path.join(folder, 'index.html'), 'utf8');
if (!marker.test(page)) throw new Error('index.html has no `<!-- modulepreload -->` line to fill in');
const links = [...staticImports('www/page/app.js')].sort().map((f) => `  <link rel="modulepreload" href="${f}">`);
fs.writeFileSync(path.join(folder, 'index.html'), page.replace(marker, links.join('\n')));

const files = walk(folder).filter((f) => f !== 'sw.js');
const hash = crypto.createHash('sha256');
for (const file of files) hash.update(`${file}\0`).update(fs.readFileSync(path.join(folder, file)));
const version = hash.digest('hex').slice(0, 16);

// Not kept at install: the WebGPU module (fetched only where WebGPU exists) and the models a
// visitor may never choose; both are kept when first fetched. The default model's files (its
// weights and its quick-start file) are kept, and both CPU modules: a first visit on a host that
// sends no isolation headers runs the single-threaded one, and every later visit, isolated by
// this service worker, the threaded one.
const later = (f) =>
  f.startsWith('pkg/webgpu/') || (f.startsWith('weights/') && !f.startsWith(`weights/${defaultModel}.`));
const precache = files.filter((f) => !later(f) && f !== 'report.txt');

const template = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'sw.js'), 'utf8');
const line = /^const BUILD = .*$/m;
if (!line.test(template)) throw new Error('sw.js has no `const BUILD = ...` line to fill in');
const build = JSON.stringify({ version, files, precache, isolation: ISOLATION });
fs.writeFileSync(
  path.join(folder, 'sw.js'),
  template.replace(line, `const BUILD = ${build}; // written by pkg-scripts/build`),
);
const bytes = precache.reduce((sum, f) => sum + fs.statSync(path.join(folder, f)).size, 0);
console.log(
  `sw.js: build ${version}, ${files.length} files, ${precache.length} kept at install (${(bytes / 1e6).toFixed(1)} MB)`,
);
