// The page's CPU path against ONNX Runtime Web (not a test; run by pkg-scripts/bench-peers): the
// same shipped weights (exported to ONNX through PyTorch), the same 128x128 input, the same
// headless Chromium, single-threaded wasm on both sides, runs alternated. Then in-page
// fine-tuning throughput. Prints JSON lines. Needs dist/bench-peers/ holding ORT Web's wasm build
// and <model>.onnx (bench-peers puts them there).
import { trainingSpeed } from './bench.mjs';
import { launch, open, serve } from './harness.mjs';

const REPEATS = Number(process.env.REPEATS || 9);

const server = await serve();
const browser = await launch({ webgpu: false });
try {
  const page = await open(browser.context, `${server.base}blank.html`);
  const rows = await page.evaluate(async (repeats) => {
    const ort = await import('./bench-peers/ort.wasm.min.mjs');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = new URL('bench-peers/', location.href).href;
    const { LesionLab } = await import('./www/lesionlab.js');
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const out = [];
    for (const model of ['unet', 'unetpp', 'pspnet']) {
      const lab = await LesionLab.create({ model, backend: 'cpu' });
      const size = lab.inputSize;
      const session = await ort.InferenceSession.create(`bench-peers/${model}.onnx`, { executionProviders: ['wasm'] });
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
        const r = await lab.segment(pixels);
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
  }, REPEATS);
  for (const row of rows) console.log(JSON.stringify({ kind: 'page', ...row }));
} finally {
  await browser.close();
  await server.close();
}

const training = await trainingSpeed(false, 4);
for (const [model, ms] of Object.entries(training))
  console.log(JSON.stringify({ kind: 'finetune', model, images_per_s: 4000 / ms }));
