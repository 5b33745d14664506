// Makes a built folder (pkg-scripts/build's dist.partial/, or dist/) an npm package for
// documentation authors: writes its package.json and README.md, so that `npm pack <folder>` gives
// `lesionlab-<version>.tgz`. The package keeps the folder's layout, since every URL inside it is
// relative to the modules (the wasm, the weights, sw.js). Idempotent: it rewrites both files.
//
//   node pkg-scripts/package.mjs <folder>
import fs from 'node:fs';
import path from 'node:path';

const [folder] = process.argv.slice(2);
if (!folder) {
  console.error('usage: node pkg-scripts/package.mjs <folder>');
  process.exit(2);
}
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');

/** The `key = "value"` lines of Cargo.toml's [package] table. */
function cargoPackage() {
  const text = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  const table = text.split(/^\[package\]\s*$/m)[1]?.split(/^\[/m)[0] ?? '';
  return Object.fromEntries([...table.matchAll(/^(\w[\w-]*)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
}

// The files of the build as its service worker lists them (written by offline.mjs). The package
// holds all of them, not only what the element imports: the service worker keeps index.html,
// embed.html and the samples at install, and its install fails if one is missing.
const sw = path.join(folder, 'sw.js');
if (!fs.existsSync(sw)) throw new Error(`${sw} is missing: run this after pkg-scripts/offline.mjs`);
const build = fs.readFileSync(sw, 'utf8').match(/^const BUILD = (.*); \/\/ written/m);
if (!build) throw new Error(`${sw} has no BUILD line`);
const top = new Set(JSON.parse(build[1]).files.map((f) => (f.includes('/') ? `${f.split('/')[0]}/` : f)));
const files = [...top, 'sw.js', 'README.md'].sort();
for (const f of [...files, 'www/api/lesion-lab-element.js', 'www/api/lesionlab.d.ts']) {
  if (f !== 'README.md' && !fs.existsSync(path.join(folder, f))) throw new Error(`${folder}/${f} is missing`);
}

const cargo = cargoPackage();
if (!cargo.version) throw new Error("Cargo.toml's [package] has no version");
const pkg = {
  name: 'lesionlab',
  version: cargo.version,
  description:
    'Skin-lesion segmentation (U-Net, U-Net++, PSPNet) in the browser, on WebGPU or the CPU (WebAssembly): ' +
    'the <lesion-lab> element and a JS API, as static files. Photos never leave the computer. ' +
    'For teaching and research only: not a diagnosis.',
  ...(cargo.license && { license: cargo.license }),
  type: 'module',
  exports: {
    '.': { types: './www/api/lesionlab.d.ts', default: './www/api/lesionlab.js' },
    './element': { types: './www/api/lesion-lab-element.d.ts', default: './www/api/lesion-lab-element.js' },
    './package.json': './package.json',
  },
  types: './www/api/lesionlab.d.ts',
  files,
  keywords: ['segmentation', 'dermoscopy', 'webassembly', 'webgpu', 'web-component', 'teaching'],
};
fs.writeFileSync(path.join(folder, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

const readme = `# LesionLab ${pkg.version}

Skin-lesion segmentation (U-Net, U-Net++, PSPNet) in the browser, for documentation pages and
slides: the \`<lesion-lab>\` element and a JavaScript API. The package is static files (ES
modules, a Web Worker, WebAssembly modules, the weights); there is no build step and no
dependency. For teaching and research only: not a diagnosis.

## Install

\`\`\`sh
npm install lesionlab-${pkg.version}.tgz   # the tarball of a release, or \`npm install lesionlab\` from a registry
\`\`\`

Serve \`node_modules/lesionlab/\` with the rest of the site as static files (or copy that folder
into the site's output and change the paths below to match). The host must send
\`application/wasm\` for \`.wasm\`; no other header is needed.

## The element

\`\`\`html
<script type="module" src="node_modules/lesionlab/www/api/lesion-lab-element.js"></script>
<lesion-lab model="unetpp" src="node_modules/lesionlab/www/samples/ISIC_0015946.jpg"></lesion-lab>
\`\`\`

Attributes: \`model\` (\`unet\`, \`unetpp\`, \`pspnet\`; default \`unetpp\`), \`backend\` (\`auto\`,
\`webgpu\`, \`cpu\`), \`threshold\` (default 0.5), \`src\` (a photo to segment at once, optional).
Readers can drop their own photo on it. Events: \`segmented\` (detail: the segment result, its
\`mask\` one 0 or 255 per pixel) and \`error\` (detail: an Error).

## The JS API

\`\`\`js
import { LesionLab } from './node_modules/lesionlab/www/api/lesionlab.js';

const lab = await LesionLab.create({ model: 'unetpp', backend: 'auto' });
const r = await lab.segment(file, { threshold: 0.5 }); // { width, height, mask, probability, ... }
lab.dispose();
\`\`\`

Types: \`www/api/lesionlab.d.ts\` and \`www/api/lesion-lab-element.d.ts\`; the package's \`exports\`
name them for \`lesionlab\` and \`lesionlab/element\`. In a page, an import map
(\`{ "imports": { "lesionlab": "./node_modules/lesionlab/www/api/lesionlab.js" } }\`) lets it be
imported as \`lesionlab\`. The modules find the worker, the WebAssembly and the weights relative to
themselves, so keep the package's folders together.

## Privacy and offline use

The models run in the reader's browser: photos are read from files or from \`src\` and are never
uploaded. After the first mask the element registers \`sw.js\`, a service worker at the root of
the package's folder. It caches and answers only LesionLab's own files (the list written into it
at build time), so pages in that folder then work offline; it does not control pages outside the
folder, never caches the reader's photos or the site's other files, and needs a secure origin
(HTTPS or \`localhost\`); elsewhere LesionLab works online only.
`;
fs.writeFileSync(path.join(folder, 'README.md'), readme);
console.log(`${folder}/package.json: lesionlab ${pkg.version}, files ${files.join(' ')}`);
