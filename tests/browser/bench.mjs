// The page benchmark (not a test): median ms of `segment` on a 1024x768 photo per model on the
// CPU path and on WebGPU (here a software adapter), wasm and weight sizes, the page's segment →
// mean activation → Grad-CAM sequence, and the first open of the page (bytes and time to the first
// mask, cold and warm, through an emulated 20 Mbit/s network).
// Prints Markdown tables. Usage: pkg-scripts/bench-page; BENCH_PARTS=sizes,segment,sequence,
// first,train (default: all) runs some of them; BENCH_COMPARE=unetpp:old.safetensors adds a
// segment row with other weights; BENCH_WEBGPU=0 leaves the software adapter's columns out.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { DIST, fixtureInPage, launch, open, serve } from './harness.mjs';

const REPEATS = Number(process.env.REPEATS || 5);
const PARTS = (process.env.BENCH_PARTS || 'sizes,segment,sequence,first,train').split(',');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;

/** Puts `window.benchPhoto`, a sample resized to width x height as a JPEG, in the page. */
async function photoInPage(page, width, height) {
  await page.evaluate(
    async ({ width, height }) => {
      const bitmap = await createImageBitmap(await (await fetch('www/samples/ISIC_0001126.jpg')).blob());
      const canvas = new OffscreenCanvas(width, height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
      window.benchPhoto = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
      // The same sample at 256x256 in a field of skin colour: a small lesion, which refine crops.
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = 'rgb(205 160 150)';
      ctx.fillRect(0, 0, width, height);
      ctx.drawImage(bitmap, width / 2 - 100, height / 2 - 140, 256, 256);
      window.benchWide = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
    },
    { width, height },
  );
}

export async function segmentTimes(webgpu, repeats) {
  const server = await serve();
  const browser = await launch({ webgpu });
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    await photoInPage(page, 1024, 768);
    // BENCH_COMPARE=MODEL:FILE adds a row for MODEL with other weights (an earlier default, say).
    const [compareModel, compareFile] = (process.env.BENCH_COMPARE ?? '').split(':');
    const compare = compareFile
      ? { model: compareModel, name: path.basename(compareFile), b64: fs.readFileSync(compareFile).toString('base64') }
      : null;
    return await page.evaluate(
      async ({ repeats, webgpu, compare }) => {
        const { LesionLab } = await import('./www/lesionlab.js');
        const rows = {};
        const runs = [
          ['U-Net', 'unet', {}],
          ['U-Net++ deepest head (the default)', 'unetpp', {}],
          ['U-Net++ accurate', 'unetpp', { mode: 'accurate' }],
          ['U-Net++ deepest head, TTA (8 views)', 'unetpp', { tta: true }],
          ['U-Net++ fast L2', 'unetpp', { mode: 'fast' }],
          ['PSPNet', 'pspnet', {}],
          // A small lesion in a wide photo: the default refines it (two passes); one pass is what
          // segment did before refine.
          ['U-Net, wide photo (refined)', 'unet', { wide: true }],
          ['U-Net, wide photo, one pass', 'unet', { wide: true, refine: false, lesions: 'all' }],
          ['U-Net++ deepest head, wide photo (refined)', 'unetpp', { wide: true }],
          ['U-Net++ deepest head, wide photo, one pass', 'unetpp', { wide: true, refine: false, lesions: 'all' }],
          ['PSPNet, wide photo (refined)', 'pspnet', { wide: true }],
          ['PSPNet, wide photo, one pass', 'pspnet', { wide: true, refine: false, lesions: 'all' }],
        ];
        if (compare)
          runs.push([
            `${compare.model}, ${compare.name}`,
            compare.model,
            {},
            Uint8Array.from(atob(compare.b64), (c) => c.charCodeAt(0)),
          ]);
        for (const [name, model, { wide, ...options }, weights] of runs) {
          const photo = wide ? window.benchWide : window.benchPhoto;
          const t0 = performance.now();
          const lab = await LesionLab.create({ model, backend: webgpu ? 'webgpu' : 'cpu', weights });
          const createMs = performance.now() - t0;
          const t1 = performance.now();
          await lab.segment(photo, options); // warm-up (WebGPU compiles its shaders here)
          const firstMs = performance.now() - t1;
          const total = [],
            modelMs = [];
          for (let i = 0; i < repeats; i++) {
            const t = performance.now();
            // A new object each time: a new photo, decoded (the same one again would not be).
            const r = await lab.segment(new Blob([photo]), options);
            total.push(performance.now() - t);
            modelMs.push(r.ms.model);
          }
          rows[name] = { createMs, firstMs, total, modelMs, backend: lab.backend, size: lab.inputSize };
          lab.dispose();
        }
        return rows;
      },
      { repeats, webgpu, compare },
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

// The page's sequence for one photo: segment, then the mean activation and Grad-CAM maps. Once
// with one photo object (decoded once; the segmenting pass serves the mean activation), once
// with a new copy per call (a decode and a pass each, as before the cache), alternating.
export async function sequenceTimes(repeats) {
  const server = await serve();
  const browser = await launch({ webgpu: false });
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    await photoInPage(page, 2048, 1536);
    return await page.evaluate(
      async ({ repeats }) => {
        const { LesionLab } = await import('./www/lesionlab.js');
        const photo = window.benchPhoto;
        const rows = {};
        for (const [name, model] of [
          ['U-Net', 'unet'],
          ['U-Net++ deepest head (the default)', 'unetpp'],
          ['PSPNet', 'pspnet'],
        ]) {
          const lab = await LesionLab.create({ model, backend: 'cpu' });
          const run = async (copies) => {
            const one = new Blob([photo]);
            const p = () => (copies ? new Blob([photo]) : one);
            const t = performance.now();
            await lab.segment(p());
            await lab.explain(p(), { method: 'activation' });
            const last = await lab.explain(p(), { method: 'gradcam' });
            return { ms: performance.now() - t, passes: last.passes };
          };
          await run(false); // warm-up
          const cached = [],
            copied = [];
          let passes = {};
          for (let i = 0; i < repeats; i++) {
            const a = await run(false),
              b = await run(true);
            cached.push(a.ms);
            copied.push(b.ms);
            passes = { cached: a.passes, copied: b.passes };
          }
          rows[name] = { cached, copied, passes };
          lab.dispose();
        }
        return rows;
      },
      { repeats },
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

// Training throughput: fine-tuning on the 8 fixture pairs at 256x256, batch 4, no validation;
// the median time between step reports after the first (warm-up) step. With `threads` above 1
// the page is served cross-origin isolated and runs the threaded module.
export async function trainingSpeed(webgpu, maxSteps, threads = 1) {
  const server = await serve({ isolated: threads > 1 });
  const browser = await launch({ webgpu });
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    await fixtureInPage(page);
    return await page.evaluate(
      async ({ webgpu, maxSteps, threads }) => {
        const { LesionLab } = await import('./www/lesionlab.js');
        const rows = {};
        for (const [name, model] of [
          ['U-Net', 'unet'],
          ['U-Net++', 'unetpp'],
          ['PSPNet', 'pspnet'],
        ]) {
          const lab = await LesionLab.create({ model, backend: webgpu ? 'webgpu' : 'cpu', threads });
          if (lab.threads !== threads && !webgpu) throw new Error(`asked for ${threads} threads, got ${lab.threads}`);
          const times = [];
          let steps = 0;
          await lab.finetune(fixture, {
            epochs: 2,
            batchSize: 4,
            lr: 1e-4,
            size: 256,
            valFraction: 0,
            augment: false,
            onProgress: (p) => {
              if (p.kind !== 'step') return;
              times.push(performance.now());
              if (++steps >= maxSteps) lab.cancelTraining();
            },
          });
          const gaps = times.slice(1).map((t, i) => t - times[i]);
          rows[name] = gaps.length ? gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)] : NaN;
          lab.dispose();
        }
        await LesionLab.discardSavedRun();
        return rows;
      },
      { webgpu, maxSteps, threads },
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

const NETWORK = { mbit: 20, rttMs: 40 };

/**
 * The page opened cold (a new browser profile), warm (a second visit, after the first one's
 * service worker kept the files and the module's compiled code) and again (a third), through a
 * network emulated at the server (NETWORK, gzip transfer): ms from navigation to the first mask
 * of a sample, and the bytes whose responses had arrived by then.
 */
async function firstOpen(webgpu) {
  const server = await serve({ gzip: true, shape: NETWORK });
  const browser = await launch({ webgpu });
  const url = `${server.base}index.html?sample=ISIC_0001126`;
  async function visit() {
    const page = await browser.context.newPage();
    const from = server.sent.length;
    await page.goto(url, { timeout: 60_000 });
    await page.waitForFunction(() => window.__firstMaskMs !== undefined, null, { timeout: 300_000 });
    const r = await page.evaluate(() => ({
      at: performance.timeOrigin + window.__firstMaskMs,
      ms: window.__firstMaskMs,
      quick: Boolean(window.__firstMaskQuick),
    }));
    // The first mask may be the quick look (U-Net++'s fast mode); the whole model's follows.
    await page.waitForFunction(() => window.__wholeMaskMs !== undefined, null, { timeout: 300_000 });
    const a = await page.evaluate(() => ({
      at: performance.timeOrigin + window.__wholeMaskMs,
      ms: window.__wholeMaskMs,
      backend: document.getElementById('backend-used').textContent,
    }));
    const before = (t) => server.sent.slice(from).filter((s) => s.at <= t);
    const sum = (list) => list.reduce((n, s) => n + s.bytes, 0);
    return {
      page,
      ms: r.ms,
      quick: r.quick,
      bytes: sum(before(r.at)),
      files: before(r.at).length,
      wholeMs: a.ms,
      wholeBytes: sum(before(a.at)),
      backend: a.backend,
    };
  }
  try {
    const cold = await visit();
    // The visitor stays until the page is idle: the service worker has kept the files and the
    // WebGPU module (where there is one) has arrived.
    await cold.page.waitForFunction(
      async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated',
      null,
      { timeout: 300_000, polling: 500 },
    );
    // ...and where WebGPU exists, its warm-up is over: on the software adapter its shader
    // compiling would go on in the browser's GPU process and slow the next visit down.
    if (webgpu)
      await cold.page.waitForFunction(() => window.__backendSettledMs !== undefined, null, {
        timeout: 300_000,
        polling: 500,
      });
    // ...and the module's compiled code is kept with the service worker's copy (offline.js).
    await cold.page.waitForFunction(() => window.__codeKept !== undefined, null, { timeout: 300_000, polling: 500 });
    if (!(await cold.page.evaluate(() => window.__codeKept)))
      console.warn('the first visit did not keep the compiled code');
    // The visitor looks at the mask a few seconds: Chromium writes the optimised code two
    // seconds after the last function was optimised.
    await new Promise((ok) => setTimeout(ok, 5000));
    for (let quiet = 0, n = -1; quiet < 4; quiet = server.sent.length === n ? quiet + 1 : 0) {
      n = server.sent.length;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    await cold.page.close();
    const warm = await visit();
    await warm.page.close();
    // A third visit: the code the second one optimised further is kept too.
    const again = await visit();
    await again.page.close();
    return { cold, warm, again };
  } finally {
    await browser.close();
    await server.close();
  }
}

async function printFirstOpen() {
  console.log(
    `\n| U-Net++ (default), sample ISIC_0001126, ${NETWORK.mbit} Mbit/s, ${NETWORK.rttMs} ms round trip, gzip | first mask | bytes before it | navigation to it | whole model's mask (deepest head): bytes before it | navigation to it | on |\n|---|---|---|---|---|---|---|`,
  );
  for (const [label, webgpu] of [
    ['CPU only (no WebGPU adapter)', false],
    ['WebGPU available (software adapter, SwiftShader)', true],
  ]) {
    if (webgpu && process.env.BENCH_WEBGPU === '0') continue;
    const r = await firstOpen(webgpu);
    for (const visit of ['cold', 'warm', 'again']) {
      const v = r[visit];
      console.log(
        `| ${label}, ${visit} | ${v.quick ? 'quick look (fast, level 2)' : 'whole model'} | ${mb(v.bytes)} (${v.files} files) | ${v.ms.toFixed(0)} ms | ${mb(v.wholeBytes)} | ${v.wholeMs.toFixed(0)} ms | ${v.backend} |`,
      );
    }
  }
}

/** Prints the page benchmark's tables. */
async function main() {
  if (PARTS.includes('sizes')) printSizes();
  if (PARTS.includes('segment')) await printSegment();
  if (PARTS.includes('sequence')) {
    const seq = await sequenceTimes(Math.max(3, Math.min(REPEATS, 5)));
    console.log(
      '\n| model (2048x1536 photo, CPU) | segment + activation + Grad-CAM, one photo object: ms | a new copy per call (decode and pass each): ms | saved |\n|---|---|---|---|',
    );
    for (const [name, r] of Object.entries(seq)) {
      const a = median(r.cached),
        b = median(r.copied);
      console.log(
        `| ${name} | ${a.toFixed(0)} (1 decode, ${r.passes.cached} passes) | ${b.toFixed(0)} (3 decodes, 3 passes) | ${(b - a).toFixed(0)} ms (${((1 - a / b) * 100).toFixed(0)}%) |`,
      );
    }
  }
  if (PARTS.includes('first')) await printFirstOpen();
  if (PARTS.includes('train')) await printTraining();
}

function printSizes() {
  const sizes = [
    ['pkg/webgpu (WebGPU + CPU)', path.join(DIST, 'pkg/webgpu/lesionlab_core_bg.wasm')],
    ['pkg/cpu (CPU only)', path.join(DIST, 'pkg/cpu/lesionlab_core_bg.wasm')],
    ...['unet', 'unetpp', 'unetpp.fast2', 'pspnet'].map((m) => [
      `weights/${m}.safetensors`,
      path.join(DIST, `weights/${m}.safetensors`),
    ]),
  ];
  console.log('| file | raw | gzip -9 |\n|---|---|---|');
  for (const [name, file] of sizes) {
    const bytes = fs.readFileSync(file);
    console.log(`| ${name} | ${mb(bytes.length)} | ${mb(zlib.gzipSync(bytes, { level: 9 }).length)} |`);
  }
}

async function printSegment() {
  const cpu = await segmentTimes(false, REPEATS);
  let gpu = null;
  try {
    if (process.env.BENCH_WEBGPU !== '0') gpu = await segmentTimes(true, Math.max(1, Math.min(REPEATS, 3)));
  } catch (err) {
    console.error(`WebGPU run failed: ${err.message}`);
  }
  console.log(
    '\n| model (1024x768 photo) | input | CPU: median segment ms | CPU: of which model | WebGPU: median segment ms | WebGPU: of which model | WebGPU: first call |\n|---|---|---|---|---|---|---|',
  );
  for (const name of Object.keys(cpu)) {
    const c = cpu[name],
      g = gpu?.[name];
    const gpuCols = g
      ? `${median(g.total).toFixed(0)} | ${median(g.modelMs).toFixed(0)} | ${g.firstMs.toFixed(0)}`
      : 'n/a | n/a | n/a';
    console.log(
      `| ${name} | ${c.size} | ${median(c.total).toFixed(0)} | ${median(c.modelMs).toFixed(0)} | ${gpuCols} |`,
    );
  }
}

async function printTraining() {
  // Training last: on the software WebGPU adapter it takes many minutes. Each table row is printed
  // as soon as it is measured.
  const ips = (ms) => (Number.isFinite(ms) ? (4000 / ms).toFixed(2) : 'n/a');
  const trainCpu = await trainingSpeed(false, 4);
  console.log('\n| model (fine-tuning, 256x256, batch 4) | CPU: images/s |\n|---|---|');
  for (const [name, ms] of Object.entries(trainCpu)) console.log(`| ${name} | ${ips(ms)} |`);
  if (process.env.BENCH_WEBGPU_TRAINING !== '0') {
    try {
      const trainGpu = await trainingSpeed(true, 2);
      console.log('\n| model (fine-tuning, 256x256, batch 4) | WebGPU: images/s |\n|---|---|');
      for (const [name, ms] of Object.entries(trainGpu)) console.log(`| ${name} | ${ips(ms)} |`);
    } catch (err) {
      console.error(`WebGPU training run failed: ${err.message}`);
    }
  }
}

// Run as a script, not when bench-peers.mjs imports the helpers above.
if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
