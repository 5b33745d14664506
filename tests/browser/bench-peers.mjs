// The page's CPU path against ONNX Runtime Web (not a test; run by pkg-scripts/bench-peers): the
// same shipped weights (exported to ONNX through PyTorch), the same input at the weights' size, the same
// headless Chromium, the same thread count on both sides (THREAD_COUNTS, default 1 and 2: the
// page served cross-origin isolated, each count in a fresh page since both fix their pool when
// they start), runs alternated. Then in-page fine-tuning throughput, single- and multi-threaded.
// Prints JSON lines. Needs dist/bench-peers/ holding ORT Web's wasm build and <model>.onnx
// (bench-peers puts them there).
import { trainingSpeed } from './bench.mjs';
import { launch, open, serve } from './harness.mjs';

const REPEATS = Number(process.env.REPEATS || 9);
const THREAD_COUNTS = (process.env.THREAD_COUNTS || '1,2').split(',').map(Number);

const server = await serve({ isolated: true });
const browser = await launch({ webgpu: false });
try {
  for (const threads of THREAD_COUNTS) {
    const page = await open(browser.context, `${server.base}blank.html`);
    const rows = await pageRows(page, threads);
    for (const row of rows) console.log(JSON.stringify({ kind: 'page', threads, ...row }));
  }
} finally {
  await browser.close();
  await server.close();
}

for (const threads of THREAD_COUNTS) {
  const training = await trainingSpeed(false, 4, threads);
  for (const [model, ms] of Object.entries(training))
    console.log(JSON.stringify({ kind: 'finetune', threads, model, images_per_s: 4000 / ms }));
}

/** Each model's median model time on both sides with `threads` threads, in a fresh page. */
async function pageRows(page, threads) {
  await page.reload();
  return page.evaluate(
    async ({ repeats, threads }) => {
      const ort = await import('./bench-peers/ort.wasm.min.mjs');
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.wasmPaths = new URL('bench-peers/', location.href).href;
      const { LesionLab } = await import('./www/lesionlab.js');
      const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const out = [];
      for (const model of ['unet', 'unetpp', 'pspnet']) {
        const lab = await LesionLab.create({ model, backend: 'cpu', threads });
        if (lab.threads !== threads) throw new Error(`asked for ${threads} threads, got ${lab.threads}`);
        const size = lab.inputSize;
        const session = await ort.InferenceSession.create(`bench-peers/${model}.onnx`, {
          executionProviders: ['wasm'],
        });
        // One photo at exactly the input size: no resize on either side.
        const bitmap = await createImageBitmap(await (await fetch('www/samples/ISIC_0001126.jpg')).blob());
        const canvas = new OffscreenCanvas(size, size);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0, size, size);
        const pixels = ctx.getImageData(0, 0, size, size);
        const mean = [0.485, 0.456, 0.406],
          std = [0.229, 0.224, 0.225];
        const input = new Float32Array(3 * size * size);
        for (let c = 0; c < 3; c++)
          for (let i = 0; i < size * size; i++)
            input[c * size * size + i] = (pixels.data[i * 4 + c] / 255 - mean[c]) / std[c];
        const feed = { x: new ort.Tensor('float32', input, [1, 3, size, size]) };
        const ours = [],
          theirs = [];
        let diff = 0;
        for (let i = 0; i <= repeats; i++) {
          // The model's map as it is on both sides: no second pass on a crop, no region kept alone;
          // U-Net++'s export is the mean of its heads.
          const r = await lab.segment(pixels, {
            refine: false,
            lesions: 'all',
            ...(model === 'unetpp' ? { mode: 'mean' } : {}),
          });
          const t = performance.now();
          const y = await session.run(feed);
          const ortMs = performance.now() - t;
          if (i === 0) {
            // Warm-up round: compare the probabilities instead of timing.
            const logits = y.logits.data;
            for (let k = 0; k < logits.length; k++)
              diff = Math.max(diff, Math.abs(1 / (1 + Math.exp(-logits[k])) - r.probability[k]));
            continue;
          }
          ours.push(r.ms.model);
          theirs.push(ortMs);
        }
        out.push({ model, size, ours_ms: median(ours), ort_web_ms: median(theirs), max_probability_diff: diff });
        lab.dispose();
        await session.release();
      }
      return out;
    },
    { repeats: REPEATS, threads },
  );
}
