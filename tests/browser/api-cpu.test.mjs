// The JS API on the CPU path (no WebGPU adapter): sizes, Dice against the expert mask on an
// upscaled real photo, CAM and Grad-CAM, and readable errors after which work goes on.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, open, serve } from './harness.mjs';

let server, browser, page;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: false });
  page = await open(browser.context, `${server.base}blank.html`);
  await page.evaluate(async () => {
    const { LesionLab } = await import('./www/lesionlab.js');
    window.LesionLab = LesionLab;
    // A real ISIC photo and its expert mask, scaled to a phone-photo-like 2048x1536.
    const load = async (url) => createImageBitmap(await (await fetch(url)).blob());
    const scaled = async (url, w, h, smooth) => {
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext('2d');
      ctx.imageSmoothingEnabled = smooth;
      ctx.drawImage(await load(url), 0, 0, w, h);
      return canvas;
    };
    const photo = await scaled('www/samples/ISIC_0001126.jpg', 2048, 1536, true);
    window.bigPhoto = await photo.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
    const truth = (await scaled('www/samples/ISIC_0001126_segmentation.png', 2048, 1536, false))
      .getContext('2d')
      .getImageData(0, 0, 2048, 1536).data;
    window.bigTruth = Uint8Array.from({ length: 2048 * 1536 }, (_, i) => (truth[i * 4] > 127 ? 255 : 0));
    window.smallPhoto = await (await fetch('www/samples/ISIC_0015946.jpg')).blob();
    window.largeLesion = await (await fetch('www/samples/ISIC_0013169.jpg')).blob();
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
});

test('auto falls back to the CPU without WebGPU and says why', async () => {
  const r = await page.evaluate(async () => {
    window.lab = await LesionLab.create({ model: 'unetpp', backend: 'auto' });
    return { backend: lab.backend, note: lab.backendNote, model: lab.model, size: lab.inputSize, layers: lab.layers() };
  });
  assert.equal(r.backend, 'cpu');
  assert.match(r.note, /WebGPU/);
  assert.equal(r.model, 'unetpp');
  assert.equal(r.size, 176, 'the shipped weights record their input size');
  assert.ok(r.layers.includes('x0_4') && r.layers.includes('x4_0'), r.layers.join());
});

test("the page fetched the CPU module for the worker (no wait for the worker's scripts), once", async () => {
  assert.equal(server.requests.filter((p) => p.endsWith('/pkg/cpu/lesionlab_core_bg.wasm')).length, 1);
  // Resource Timing lists what the page itself fetched; the worker has a timeline of its own.
  const inPage = await page.evaluate(() =>
    performance.getEntriesByType('resource').some((e) => e.name.endsWith('/pkg/cpu/lesionlab_core_bg.wasm')),
  );
  assert.ok(inPage, 'fetched by the page and handed over');
});

test('a 2048x1536 photo gives a mask of its own size with Dice >= 0.7 against the expert', async () => {
  const r = await page.evaluate(async () => {
    const out = await lab.segment(bigPhoto, { threshold: 0.5, mode: 'accurate' });
    let inter = 0,
      a = 0,
      b = 0,
      bad = 0,
      probOut = 0;
    for (let i = 0; i < out.mask.length; i++) {
      const m = out.mask[i],
        t = bigTruth[i];
      if (m !== 0 && m !== 255) bad++;
      const p = out.probability[i];
      if (!(p >= 0 && p <= 1)) probOut++;
      if (p > 0.5 !== (m === 255)) bad++;
      if (m) a++;
      if (t) b++;
      if (m && t) inter++;
    }
    return {
      width: out.width,
      height: out.height,
      n: out.mask.length,
      np: out.probability.length,
      bad,
      probOut,
      dice: (2 * inter) / (a + b),
      ms: out.ms,
      maskType: out.mask.constructor.name,
      probType: out.probability.constructor.name,
    };
  });
  assert.equal(r.width, 2048);
  assert.equal(r.height, 1536);
  assert.equal(r.n, 2048 * 1536);
  assert.equal(r.np, 2048 * 1536);
  assert.equal(r.maskType, 'Uint8Array');
  assert.equal(r.probType, 'Float32Array');
  assert.equal(r.bad, 0, 'mask is 0/255 and agrees with probability > threshold');
  assert.equal(r.probOut, 0, 'probabilities in [0, 1]');
  assert.ok(r.dice >= 0.7, `Dice ${r.dice}`);
  for (const k of ['preprocess', 'model', 'postprocess']) assert.ok(r.ms[k] >= 0, `ms.${k} = ${r.ms[k]}`);
  console.log(`# CPU U-Net++ 2048x1536: Dice ${r.dice.toFixed(4)}, ms ${JSON.stringify(r.ms)}`);
});

test('the threshold and the mode change the answer as they should; no mode is the deepest head', async () => {
  const r = await page.evaluate(async () => {
    const count = (m) => m.reduce((n, v) => n + (v ? 1 : 0), 0);
    const diff = (a, b) => a.probability.reduce((d, v, i) => Math.max(d, Math.abs(v - b.probability[i])), 0);
    const low = await lab.segment(smallPhoto, { threshold: 0.1 });
    const high = await lab.segment(smallPhoto, { threshold: 0.9 });
    const fast = await lab.segment(smallPhoto, { mode: 'fast', level: 1 });
    const plain = await lab.segment(smallPhoto, {});
    const deepest = await lab.segment(smallPhoto, { mode: 'fast', level: 4 });
    const accurate = await lab.segment(smallPhoto, { mode: 'accurate' });
    // The modes' ids and the earlier spellings name the same heads.
    const head1 = await lab.segment(smallPhoto, { mode: 'head', level: 1 });
    const mean = await lab.segment(smallPhoto, { mode: 'mean' });
    const head4 = await lab.segment(smallPhoto, { mode: 'head4' });
    return {
      low: count(low.mask),
      high: count(high.mask),
      fast: diff(fast, plain),
      deepest: diff(deepest, plain),
      accurate: diff(accurate, plain),
      spellings: [diff(head1, fast), diff(mean, accurate), diff(head4, plain)],
    };
  });
  assert.ok(r.low > r.high, `threshold 0.1 gives ${r.low} pixels, 0.9 gives ${r.high}`);
  assert.ok(r.fast > 1e-4, 'fast level 1 is a different head from the default');
  assert.equal(r.deepest, 0, 'no mode is fast level 4, the deepest head alone');
  assert.ok(r.accurate > 1e-4, 'the accurate mode (the mean of the heads) is not the default');
  assert.deepEqual(r.spellings, [0, 0, 0], 'head 1 is fast level 1, mean is accurate, head4 the default');
});

test('test-time augmentation gives a different, equally good mask at eight times the model work', async () => {
  const r = await page.evaluate(async () => {
    const plain = await lab.segment(bigPhoto, {});
    const tta = await lab.segment(bigPhoto, { tta: true });
    const dice = (m) => {
      let inter = 0,
        a = 0,
        b = 0;
      for (let i = 0; i < m.length; i++) {
        a += m[i] ? 1 : 0;
        b += bigTruth[i] ? 1 : 0;
        inter += m[i] && bigTruth[i] ? 1 : 0;
      }
      return (2 * inter) / (a + b);
    };
    let diff = 0;
    for (let i = 0; i < tta.probability.length; i += 97)
      diff = Math.max(diff, Math.abs(tta.probability[i] - plain.probability[i]));
    return { plain: dice(plain.mask), tta: dice(tta.mask), diff, size: tta.mask.length };
  });
  assert.equal(r.size, 2048 * 1536);
  assert.ok(r.diff > 1e-3, `the averaged views change the probabilities (max change ${r.diff})`);
  assert.ok(r.tta >= 0.7 && r.tta >= r.plain - 0.05, `Dice with TTA ${r.tta}, without ${r.plain}`);
  console.log(`# CPU U-Net++ 2048x1536: Dice ${r.plain.toFixed(4)}, with TTA ${r.tta.toFixed(4)}`);
});
test('a small lesion in a wide photo: one lesion by default, refine, and a box the mask stays inside', async () => {
  const r = await page.evaluate(async () => {
    // Sample ISIC_0015946 (256x256) in a 1600x1200 field of its own skin colour, its expert
    // mask moved with it: the lesion covers under 1% of the photo.
    const [W, H, X, Y] = [1600, 1200, 900, 500];
    const bitmap = async (url) => createImageBitmap(await (await fetch(url)).blob());
    const sample = await bitmap('www/samples/ISIC_0015946.jpg');
    const corner = sample.width - 8;
    const field = new OffscreenCanvas(W, H);
    const ctx = field.getContext('2d');
    const edge = new OffscreenCanvas(1, 1).getContext('2d');
    edge.drawImage(sample, corner, corner, 8, 8, 0, 0, 1, 1);
    const [cr, cg, cb] = edge.getImageData(0, 0, 1, 1).data;
    ctx.fillStyle = `rgb(${cr} ${cg} ${cb})`;
    ctx.fillRect(0, 0, W, H);
    ctx.drawImage(sample, X, Y);
    const photo = await field.convertToBlob({ type: 'image/png' });
    const truthCanvas = new OffscreenCanvas(W, H);
    truthCanvas.getContext('2d').drawImage(await bitmap('www/samples/ISIC_0015946_segmentation.png'), X, Y);
    const t = truthCanvas.getContext('2d').getImageData(0, 0, W, H).data;
    const truth = Uint8Array.from({ length: W * H }, (_, i) => (t[i * 4] > 127 ? 1 : 0));
    let [x0, y0, x1, y1] = [W, H, 0, 0];
    for (let i = 0; i < truth.length; i++) {
      if (!truth[i]) continue;
      const [x, y] = [i % W, Math.floor(i / W)];
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
    const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
    const box = { x: x0 - 0.15 * bw, y: y0 - 0.15 * bh, width: 1.3 * bw, height: 1.3 * bh };
    const dice = (m) => {
      let inter = 0,
        a = 0,
        b = 0;
      for (let i = 0; i < m.length; i++) {
        a += m[i] ? 1 : 0;
        b += truth[i];
        inter += m[i] && truth[i] ? 1 : 0;
      }
      return (2 * inter) / (a + b);
    };
    const outside = (m) =>
      m.reduce((n, v, i) => {
        const [x, y] = [i % W, Math.floor(i / W)];
        return n + (v && (x < box.x || y < box.y || x >= box.x + box.width || y >= box.y + box.height) ? 1 : 0);
      }, 0);
    const once = await lab.segment(photo, { refine: false });
    const refined = await lab.segment(photo, {});
    const all = await lab.segment(photo, { lesions: 'all', refine: false });
    const boxed = await lab.segment(photo, { box });
    const fail = (p) =>
      p.then(
        () => 'no error',
        (e) => `[${e.kind}] ${e.message}`,
      );
    return {
      share: truth.reduce((n, v) => n + v, 0) / truth.length,
      once: dice(once.mask),
      refined: dice(refined.mask),
      all: dice(all.mask),
      boxed: dice(boxed.mask),
      outside: outside(boxed.mask),
      size: [boxed.width, boxed.height],
      refinedCrop: refined.refined,
      lesion: refined.lesion,
      boxCrop: boxed.refined,
      onceCrop: once.refined,
      offPhoto: await fail(lab.segment(photo, { box: { x: 5000, y: 0, width: 10, height: 10 } })),
      badLesions: await fail(lab.segment(photo, { lesions: 'some' })),
    };
  });
  assert.ok(r.share < 0.01, `the lesion covers ${(r.share * 100).toFixed(2)}% of the photo`);
  assert.deepEqual(r.size, [1600, 1200]);
  assert.equal(r.outside, 0, 'nothing marked outside the box');
  assert.ok(r.boxed >= 0.8, `Dice with the box ${r.boxed}`);
  assert.equal(r.onceCrop, null, 'one pass: no crop');
  assert.ok(
    r.refinedCrop && r.refinedCrop.width < 1600 / 2,
    `refine looked at a crop: ${JSON.stringify(r.refinedCrop)}`,
  );
  assert.ok(r.lesion && r.lesion.x > 800 && r.lesion.y > 400, `the kept lesion's box: ${JSON.stringify(r.lesion)}`);
  assert.ok(r.boxCrop, 'the box is a crop too');
  assert.ok(r.refined >= 0.7, `refined Dice ${r.refined} (one pass ${r.once}, all lesions ${r.all})`);
  assert.match(r.offPhoto, /^\[bad-argument\] .*1600x1200 photo/);
  assert.match(r.badLesions, /^\[bad-argument\] .*one or all/);
  console.log(
    `# CPU U-Net++, a ${(r.share * 100).toFixed(2)}% lesion in 1600x1200: Dice one pass ${r.once.toFixed(4)}, ` +
      `refined ${r.refined.toFixed(4)}, all lesions ${r.all.toFixed(4)}, with a box ${r.boxed.toFixed(4)}`,
  );
});

test('an <img>, an ImageBitmap and ImageData give the same mask as the file', async () => {
  const r = await page.evaluate(async () => {
    const img = new Image();
    img.src = 'www/samples/ISIC_0015946.jpg';
    await img.decode();
    const bitmap = await createImageBitmap(smallPhoto, { colorSpaceConversion: 'none' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const reference = (await lab.segment(smallPhoto)).mask;
    const differ = (m) => m.reduce((n, v, i) => n + (v !== reference[i] ? 1 : 0), 0);
    return {
      img: differ((await lab.segment(img)).mask),
      bitmap: differ((await lab.segment(bitmap)).mask),
      bitmapStillUsable: bitmap.width,
      imageData: differ((await lab.segment(data)).mask),
      n: reference.length,
    };
  });
  assert.equal(r.bitmapStillUsable, 256, "the caller's ImageBitmap is copied, not taken");
  for (const k of ['img', 'bitmap', 'imageData']) assert.ok(r[k] <= 0.001 * r.n, `${k}: ${r[k]} pixels differ`);
});

test('CAM and Grad-CAM give finite heatmaps in [0, 1] at the photo size, on default and chosen layers', async () => {
  const r = await page.evaluate(async () => {
    const check = (h) => {
      let bad = 0,
        max = 0;
      for (const v of h.heatmap) {
        if (!(v >= 0 && v <= 1)) bad++;
        max = Math.max(max, v);
      }
      return { n: h.heatmap.length, w: h.width, h: h.height, bad, max, layer: h.layer };
    };
    return {
      gradcam: check(await lab.explain(smallPhoto, { method: 'gradcam', target: 'lesion' })),
      // The report's CAM is blank where the mean logit is negative (small lesions, see the
      // README), so it is checked on a photo the lesion fills.
      cam: check(await lab.explain(largeLesion, { method: 'cam' })),
      camSmall: check(await lab.explain(smallPhoto, { method: 'cam' })),
      activation: check(await lab.explain(smallPhoto, { method: 'activation', layer: 'x2_0' })),
      big: check(await lab.explain(bigPhoto, { method: 'gradcam', layer: 'x1_3' })),
    };
  });
  assert.equal(r.gradcam.layer, 'x4_0', "the report's Grad-CAM layer is the default");
  assert.equal(r.cam.layer, 'x0_4', "the report's CAM layer is the default");
  assert.equal(r.activation.layer, 'x2_0');
  assert.equal(r.big.layer, 'x1_3');
  for (const [name, h] of Object.entries(r)) {
    assert.equal(h.bad, 0, `${name}: every value finite and in [0, 1]`);
    assert.equal(h.n, h.w * h.h, `${name}: one value per pixel`);
  }
  assert.equal(r.big.w, 2048);
  assert.equal(r.big.h, 1536);
  // Normalised at the model's resolution; resizing to the photo keeps the peak close to 1.
  for (const [name, h] of Object.entries(r)) if (name !== 'camSmall') assert.ok(h.max > 0.9, `${name}: peak ${h.max}`);
});

test('layers, their descriptions and default layers follow the mode; explain reports the mean output', async () => {
  const r = await page.evaluate(async () => {
    const fast1 = { mode: 'fast', level: 1 };
    return {
      all: lab.layers(),
      fast1: lab.layers(fast1),
      info: lab.layerInfo(fast1),
      defaults: [lab.defaultLayer('cam', fast1), lab.defaultLayer('gradcam', fast1), lab.defaultLayer('gradcam')],
      heat: await lab
        .explain(smallPhoto, { method: 'gradcam', mode: 'fast', level: 1 })
        .then((h) => ({ layer: h.layer, meanLogit: h.meanLogit })),
      refused: await lab.explain(smallPhoto, { layer: 'x0_4', mode: 'fast', level: 1 }).then(
        () => 'resolved',
        (e) => e.message,
      ),
      check: (await lab.segment(smallPhoto)).check,
    };
  });
  assert.equal(r.all.length, 15);
  assert.deepEqual(r.fast1, ['x0_0', 'x1_0', 'x0_1']);
  assert.deepEqual(
    r.info.map((l) => l.name),
    r.fast1,
  );
  assert.match(r.info[2].description, /full resolution.*head L1/);
  assert.deepEqual(r.defaults, ['x0_1', 'x1_0', 'x4_0']);
  assert.equal(r.heat.layer, 'x1_0');
  assert.ok(Number.isFinite(r.heat.meanLogit), `mean logit ${r.heat.meanLogit}`);
  assert.match(r.refused, /layer 'x0_4' is not computed in U-Net\+\+ mode head1, which runs only x0_0, x1_0, x0_1/);
  assert.equal(r.check.looksLikeDermoscopy, true, JSON.stringify(r.check));
  assert.equal(r.check.warning, null);
});

test('segment, mean activation, CAM and Grad-CAM of one photo decode it once and run two passes', async () => {
  const r = await page.evaluate(async () => {
    const photo = new Blob([await largeLesion.arrayBuffer()], { type: 'image/jpeg' });
    const calls = [
      await lab.segment(photo),
      await lab.explain(photo, { method: 'activation' }),
      await lab.explain(photo, { method: 'cam' }),
      await lab.explain(photo, { method: 'gradcam' }),
      // A copy of the same bytes is another object: decoded again, as a new photo.
      await lab.explain(new Blob([photo]), { method: 'activation' }),
    ];
    return calls.map((c) => [c.decoded, c.passes]);
  });
  assert.deepEqual(r, [
    [true, 1],
    [false, 1],
    [false, 1],
    [false, 2],
    [true, 1],
  ]);
});

test('bad input is refused with a readable error, and the next good photo still segments', async () => {
  const r = await page.evaluate(async () => {
    const fail = async (promise) =>
      promise.then(
        () => 'resolved',
        (e) => (e instanceof Error ? `[${e.kind} ${e.name}] ${e.message}` : `not an Error: ${e}`),
      );
    const jpeg = new Uint8Array(await smallPhoto.arrayBuffer());
    const truncated = new File([jpeg.slice(0, 600), new Uint8Array(400).fill(7)], 'ISIC_0000001.jpg', {
      type: 'image/jpeg',
    });
    const text = new File(['lesion notes, not a photo'], 'notes.txt', { type: 'text/plain' });
    const hugePng = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20,
      8, 2, 0, 0, 0,
    ]);
    const result = {
      corrupt: await fail(lab.segment(truncated)),
      text: await fail(lab.segment(text)),
      huge: await fail(lab.segment(new File([hugePng], 'huge.png', { type: 'image/png' }))),
      layer: await fail(lab.explain(smallPhoto, { layer: 'no_such_layer' })),
      mode: await fail(lab.segment(smallPhoto, { mode: 'quick' })),
      panic: await fail(lab._panicForTest()),
    };
    const after = await lab.segment(smallPhoto);
    result.after = { width: after.width, lesion: after.mask.some((v) => v === 255) };
    result.otherModel = await fail(
      LesionLab.create({
        model: 'unet',
        backend: 'cpu',
        weights: new URL('weights/pspnet.safetensors', location.href),
      }),
    );
    result.notWeights = await fail(
      LesionLab.create({ model: 'unet', backend: 'cpu', weights: new TextEncoder().encode('hello').buffer }),
    );
    result.missing = await fail(
      LesionLab.create({ model: 'unet', backend: 'cpu', weights: 'weights/none.safetensors' }),
    );
    return result;
  });
  assert.match(r.corrupt, /ISIC_0000001\.jpg.*corrupt or truncated/);
  assert.match(r.text, /notes\.txt: not a JPEG or PNG image/);
  assert.match(r.huge, /huge\.png.*20000x20000.*limit is 50 megapixels/);
  assert.match(r.layer, /no layer 'no_such_layer'.*x0_4/);
  assert.match(r.mode, /unknown mode 'quick'/);
  assert.match(r.panic, /internal error[\s\S]*deliberate panic/);
  assert.deepEqual(
    r.after,
    { width: 256, lesion: true },
    'segmenting works again after every error, the panic included',
  );
  assert.match(r.otherModel, /PSPNet weights, not U-Net weights/);
  assert.match(r.notWeights, /weights/i);
  assert.match(r.missing, /none\.safetensors.*HTTP 404/);
  // The kind of each error, which the page decides by (never the message).
  const kinds = Object.fromEntries(
    Object.entries(r)
      .filter(([, v]) => typeof v === 'string')
      .map(([k, v]) => [
        k,
        v
          .match(/^\[(\S+) (\S+)\]/)
          ?.slice(1)
          .join(' '),
      ]),
  );
  assert.deepEqual(kinds, {
    corrupt: 'unreadable-image UnreadableImageError',
    text: 'unsupported-format UnsupportedFormatError',
    huge: 'too-large TooLargeError',
    layer: 'bad-argument BadArgumentError',
    mode: 'bad-argument BadArgumentError',
    panic: 'internal InternalError',
    otherModel: 'weights WeightsError',
    notWeights: 'weights WeightsError',
    missing: 'io IoError',
  });
});

test('weights that cannot work are refused by name; a panic while loading leaves the weights that worked', async () => {
  const r = await page.evaluate(async () => {
    const fail = async (promise) =>
      promise.then(
        () => 'resolved',
        (e) => `[${e.kind}] ${e.message}`,
      );
    const good = new Uint8Array(await (await fetch('weights/unetpp.safetensors')).arrayBuffer());
    // The file with its JSON header rewritten by `edit` (data untouched unless `data` says).
    const rewrite = (edit, data = (d) => d) => {
      const n = Number(new DataView(good.buffer).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
      edit(header);
      let text = JSON.stringify(header);
      while (text.length % 8) text += ' ';
      const head = new TextEncoder().encode(text);
      const out = new Uint8Array(8 + head.length + good.length - 8 - n);
      new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
      out.set(head, 8);
      out.set(data(good.slice(8 + n)), 8 + head.length);
      return out.buffer;
    };
    const firstF32 = (h) => Object.entries(h).find(([k, v]) => k !== '__metadata__' && v.dtype === 'F32');
    const reference = (await lab.segment(smallPhoto)).mask;
    const result = {
      size0: await fail(
        lab.loadWeights(
          rewrite((h) => {
            h.__metadata__['lesionlab.input_size'] = '0';
          }),
        ),
      ),
      bf16: await fail(
        lab.loadWeights(
          rewrite((h) => {
            const [, tensor] = firstF32(h);
            tensor.dtype = 'BF16';
            tensor.shape.push(2); // the same bytes as two bfloat16 values per float32
          }),
        ),
      ),
      nan: await fail(
        lab.loadWeights(
          rewrite(
            () => {},
            (d) => {
              const n = Number(new DataView(good.buffer).getBigUint64(0, true));
              const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
              const [, info] = firstF32(header);
              new DataView(d.buffer).setFloat32(info.data_offsets[0], NaN, true);
              return d;
            },
          ),
        ),
      ),
      panic: await fail(
        lab.loadWeights(
          rewrite((h) => {
            h.__metadata__['lesionlab.test.panic'] = 'load';
          }),
        ),
      ),
    };
    const after = (await lab.segment(smallPhoto)).mask;
    result.same = after.every((v, i) => v === reference[i]);
    // Weights that load but panic at their first use: the restart leaves them aside.
    await lab.loadWeights(
      new File(
        [
          rewrite((h) => {
            h.__metadata__['lesionlab.test.panic'] = 'use';
          }),
        ],
        'broken.safetensors',
      ),
    );
    result.usePanic = await fail(lab.segment(smallPhoto));
    const restarted = (await lab.segment(smallPhoto)).mask;
    result.restartedSame = restarted.every((v, i) => v === reference[i]);
    return result;
  });
  assert.match(r.size0, /^\[weights\] .*records input size '0', which U-Net\+\+ cannot run/);
  assert.match(r.bf16, /^\[weights\] .*is stored as BF16; LesionLab reads float32, float16 and int8/);
  assert.match(r.nan, /^\[weights\] .*holds a NaN or an infinity/);
  assert.match(r.panic, /^\[internal\] [\s\S]*deliberate panic while loading/);
  assert.ok(r.same, 'after every refused file and the panic, the weights that worked still segment');
  assert.match(
    r.usePanic,
    /^\[internal\] [\s\S]*deliberate panic at the first use[\s\S]*restarts it with the last weights that worked .*not broken\.safetensors/,
  );
  assert.ok(r.restartedSame, 'the restarted worker runs the last weights that worked');
});

test("loading reports the module's and the weights' bytes in order, each ending at 100%", async () => {
  const events = await page.evaluate(async () => {
    const seen = [];
    const lab2 = await LesionLab.create({ model: 'pspnet', backend: 'cpu', onProgress: (p) => seen.push(p) });
    lab2.dispose();
    return seen;
  });
  for (const what of ['module', 'weights']) {
    const mine = events.filter((e) => e.what === what);
    assert.ok(mine.length >= 1, `${what}: ${JSON.stringify(events)}`);
    assert.ok(
      mine.every((e, i) => i === 0 || e.done >= mine[i - 1].done),
      `${what}: bytes only grow`,
    );
    const last = mine.at(-1);
    assert.ok(last.done > 0 && last.done === last.total, `${what} ends at 100%: ${JSON.stringify(last)}`);
    assert.ok(
      mine.slice(0, -1).every((e) => e.done < last.done),
      `${what}: nothing after 100%`,
    );
    assert.ok(
      mine.every((e) => e.total === last.total),
      `${what}: the total is known from the start (Content-Length)`,
    );
  }
  const sizes = Object.fromEntries(
    ['module', 'weights'].map((w) => [w, events.filter((e) => e.what === w).at(-1).total]),
  );
  assert.ok(sizes.module > 1e6 && sizes.weights > 1e5, JSON.stringify(sizes));
});

test('describe: the ABCD figures of a segmented photo, in millimetres when given a scale; a wrong mask is refused', async () => {
  const r = await page.evaluate(async () => {
    const seg = await lab.segment(smallPhoto);
    const lesion = seg.mask.reduce((n, v) => n + (v ? 1 : 0), 0) / seg.mask.length;
    const d = await lab.describe(seg, smallPhoto, { mmPerPixel: 0.05 });
    const fail = (p) =>
      p.then(
        () => 'no error',
        (e) => `[${e.kind}] ${e.message}`,
      );
    return {
      lesion,
      d,
      wrongSize: await fail(lab.describe({ mask: new Uint8Array(100), width: 10, height: 10 }, smallPhoto)),
      empty: await fail(lab.describe({ mask: new Uint8Array(256 * 256), width: 256, height: 256 }, smallPhoto)),
      noMask: await fail(lab.describe(null, smallPhoto)),
    };
  });
  const { d } = r;
  assert.ok(Math.abs(d.areaShare - r.lesion) < 1e-9, `${d.areaShare} against ${r.lesion}`);
  assert.ok(d.compactness > 0 && d.compactness <= 1.1, JSON.stringify(d));
  assert.ok(d.roughness >= 0.95, JSON.stringify(d));
  assert.ok(d.asymmetry.every((a) => a >= 0 && a <= 1));
  assert.deepEqual(
    d.colours.map((c) => c.name),
    ['white', 'red', 'light brown', 'dark brown', 'blue-grey', 'black'],
  );
  assert.ok(Math.abs(d.colours.reduce((s, c) => s + c.share, 0) - 1) < 1e-9);
  assert.ok(d.colours.some((c) => c.present));
  assert.ok(Math.abs(d.diameterMm - d.diameterPx * 0.05) < 1e-9);
  assert.match(r.wrongSize, /^\[bad-mask\] .*10x10 but the photo is 256x256/);
  assert.match(r.empty, /^\[bad-mask\] .*marks no lesion/);
  assert.match(r.noMask, /^\[bad-argument\] describe needs a mask/);
});

test('uncertainty: the spread over 8 views or the three models, with its two numbers; an unknown method is refused', async () => {
  const r = await page.evaluate(async () => {
    const sum = (u) => ({
      method: u.method,
      maps: u.maps,
      n: u.spread.length,
      width: u.width,
      height: u.height,
      bad: u.spread.filter((v) => !(v >= 0 && v <= 0.5)).length,
      mean: u.spread.reduce((a, v) => a + v, 0) / u.spread.length,
      meanSpread: u.meanSpread,
      disagreement: u.disagreement,
    });
    const tta = sum(await lab.uncertainty(smallPhoto));
    const models = sum(await lab.uncertainty(smallPhoto, { method: 'models' }));
    const bad = await lab.uncertainty(smallPhoto, { method: 'dice' }).then(
      () => 'no error',
      (e) => `[${e.kind}] ${e.message}`,
    );
    return { tta, models, bad };
  });
  for (const [name, u, maps] of [
    ['tta', r.tta, 8],
    ['models', r.models, 3],
  ]) {
    assert.equal(u.method, name);
    assert.equal(u.maps, maps);
    assert.equal(u.n, 256 * 256);
    assert.equal(u.bad, 0, `${name}: every spread in [0, 0.5]`);
    assert.ok(Math.abs(u.mean - u.meanSpread) < 1e-4, `${name}: ${u.mean} against ${u.meanSpread}`);
    assert.ok(u.meanSpread > 0 && u.disagreement >= 0 && u.disagreement < 1, JSON.stringify(u));
  }
  assert.match(r.bad, /^\[bad-argument\] unknown method 'dice'/);
});

test("featureMaps: a layer's most active channels at its own resolution, reusing the segmenting pass", async () => {
  const r = await page.evaluate(async () => {
    const fresh = await (await fetch('www/samples/ISIC_0014640.jpg')).blob();
    const seg = await lab.segment(fresh);
    const f = await lab.featureMaps(fresh, { layer: 'x2_0', count: 5 });
    const deflt = await lab.featureMaps(fresh, { count: 1 });
    const again = await lab.segment(fresh);
    const fail = (p) =>
      p.then(
        () => 'no error',
        (e) => `[${e.kind}] ${e.message}`,
      );
    return {
      passes: [seg.passes, again.passes],
      layer: f.layer,
      description: f.description,
      shape: f.shape,
      backend: f.backend,
      channels: f.channels.map((c) => ({
        index: c.index,
        mean: c.mean,
        max: c.max,
        n: c.map.length,
        typed: c.map instanceof Float32Array,
        realMean: c.map.reduce((a, v) => a + v, 0) / c.map.length,
        realMax: Math.max(...c.map),
      })),
      deflt: deflt.layer,
      defaultLayer: lab.defaultLayer('activation'),
      unknown: await fail(lab.featureMaps(fresh, { layer: 'conv9' })),
      zero: await fail(lab.featureMaps(fresh, { count: 0 })),
      fastLayer: await fail(lab.featureMaps(fresh, { layer: 'x0_4', mode: 'fast', level: 1 })),
    };
  });
  assert.equal(r.layer, 'x2_0');
  assert.match(r.description, /Encoder .*1\/4 resolution/);
  assert.deepEqual(r.shape.slice(1), [44, 44], 'a quarter of the 176-pixel input');
  assert.equal(r.channels.length, 5);
  for (const c of r.channels) {
    assert.ok(c.typed && c.n === 44 * 44, JSON.stringify(c));
    assert.ok(Math.abs(c.mean - c.realMean) < 1e-4 && c.max === c.realMax, JSON.stringify(c));
  }
  assert.ok(
    r.channels.every((c, i) => i === 0 || c.mean <= r.channels[i - 1].mean),
    'most active first',
  );
  assert.equal(new Set(r.channels.map((c) => c.index)).size, 5);
  assert.deepEqual(r.passes, [1, 2], 'the feature maps ran no pass of their own');
  assert.equal(r.deflt, r.defaultLayer);
  assert.match(r.unknown, /^\[bad-argument\] U-Net\+\+ has no layer 'conv9'/);
  assert.match(r.zero, /^\[bad-argument\] count must be a whole number from 1/);
  assert.match(r.fastLayer, /^\[bad-argument\] layer 'x0_4' is not computed in U-Net\+\+ mode head1/);
});

test("segment { heads: true }: U-Net++'s four heads, each its fast mode; other models are refused", async () => {
  const r = await page.evaluate(async () => {
    const r = await lab.segment(smallPhoto, { heads: true });
    const same = [];
    for (const h of r.heads) {
      // A head is shown as the network answers, so it matches fast mode L without the cleaning.
      const fast = await lab.segment(smallPhoto, { mode: 'fast', level: h.level, lesions: 'all', refine: false });
      same.push(fast.probability.every((p, i) => p === h.probability[i]));
    }
    const unet = await LesionLab.create({ model: 'unet', backend: 'cpu' });
    const refused = await unet.segment(smallPhoto, { heads: true }).then(
      () => 'no error',
      (e) => `[${e.kind}] ${e.message}`,
    );
    unet.dispose();
    return {
      levels: r.heads.map((h) => h.level),
      ms: r.heads.map((h) => h.ms),
      sizes: r.heads.map((h) => [h.mask.length, h.probability.length]),
      masksOk: r.heads.every((h) => h.mask.every((m, i) => m === (h.probability[i] > 0.5 ? 255 : 0))),
      same,
      refused,
      mainMask: r.mask.length,
    };
  });
  assert.deepEqual(r.levels, [1, 2, 3, 4]);
  assert.ok(
    r.ms.every((ms) => ms > 0),
    JSON.stringify(r.ms),
  );
  assert.deepEqual(r.sizes, Array(4).fill([256 * 256, 256 * 256]));
  assert.equal(r.mainMask, 256 * 256);
  assert.ok(r.masksOk);
  assert.deepEqual(r.same, [true, true, true, true], 'head L is fast mode L');
  assert.match(r.refused, /^\[bad-argument\] U-Net has a single output/);
});

test('quickStart: a first U-Net++ mask from its quick-start file before the whole weights arrive; then every mode', async () => {
  // Its own browser and a server pacing the files at 10 Mbit/s, so that the whole weights
  // (2 MB) arrive well after the quick-start file (0.13 MB) and the module.
  const shaped = await serve({ gzip: true, shape: { mbit: 10, rttMs: 20 } });
  const other = await launch({ webgpu: false });
  try {
    const p = await open(other.context, `${shaped.base}blank.html`);
    const r = await p.evaluate(async () => {
      const { LesionLab } = await import('./www/lesionlab.js');
      const photo = await (await fetch('www/samples/ISIC_0015946.jpg')).blob();
      const seen = [];
      const lab = await LesionLab.create({
        model: 'unetpp',
        backend: 'cpu',
        quickStart: true,
        onProgress: (e) => seen.push({ ...e }),
      });
      const fastOnly = lab.fastOnly;
      const quickStartLevel = lab.quickStartLevel;
      const runsNow = [
        lab.runsNow({ mode: 'fast', level: 2 }),
        lab.runsNow({ mode: 'fast', level: 3 }),
        lab.runsNow(),
        lab.runsNow({ mode: 'accurate' }),
      ];
      const quickSize = lab.inputSize;
      const quick = await lab.segment(photo, { mode: 'fast', level: 2 });
      const quickAt = Date.now();
      const stillQuick = lab.fastOnly;
      const whole = await lab.segment(photo); // waits for the whole weights
      const wholeSize = lab.inputSize;
      runsNow.push(lab.runsNow(), lab.runsNow({ mode: 'accurate' }));
      // The whole weights' fast mode at the quick-start file's size gives the same mask.
      const same = await LesionLab.create({ model: 'unetpp', backend: 'cpu', size: quickSize });
      const fast = await same.segment(photo, { mode: 'fast', level: 2 });
      same.dispose();
      let differ = 0;
      for (let i = 0; i < fast.probability.length; i++) if (fast.probability[i] !== quick.probability[i]) differ++;
      const exported = (await lab.exportWeights()).byteLength;
      const result = {
        fastOnly,
        quickStartLevel,
        runsNow,
        quickSize,
        wholeSize,
        stillQuick,
        after: lab.fastOnly,
        quickAt,
        differ,
        n: whole.mask.length,
        exported,
        seen,
      };
      lab.dispose();
      return result;
    });
    assert.equal(r.quickStartLevel, 2, 'created with the quick-start weights');
    assert.equal(r.fastOnly, 2, 'fastOnly, its earlier name, says the same');
    assert.deepEqual(
      r.runsNow,
      [true, false, false, false, true, true],
      'fast 2 at once; level 3, the default and accurate once the whole weights are in',
    );
    assert.equal(r.stillQuick, 2, 'the quick mask came before the whole weights were in');
    assert.equal(r.after, null, 'then the whole weights replaced them');
    assert.equal(r.differ, 0, "the quick-start file holds the whole file's level-2 weights");
    assert.deepEqual([r.quickSize, r.wholeSize], [128, 176], "each file's own input size");
    assert.equal(r.n, 256 * 256);
    assert.ok(r.exported > 1e6, 'exporting waited for the whole weights');
    const whole = shaped.sent.find((s) => s.path === 'weights/unetpp.safetensors');
    assert.ok(whole && r.quickAt < whole.at, `quick mask at ${r.quickAt}, whole weights at ${whole?.at}`);
    assert.equal(shaped.requests.filter((q) => q.endsWith('weights/unetpp.safetensors')).length, 1);
    for (const what of ['quick-start', 'module', 'weights']) {
      const mine = r.seen.filter((e) => e.what === what);
      assert.ok(
        mine.length && mine.at(-1).done === mine.at(-1).total,
        `${what} ends at 100%: ${JSON.stringify(mine.at(-1))}`,
      );
    }
    const quickBytes = r.seen.filter((e) => e.what === 'quick-start').at(-1).total;
    const wholeBytes = r.seen.filter((e) => e.what === 'weights').at(-1).total;
    assert.ok(quickBytes * 10 < wholeBytes, `${quickBytes} against ${wholeBytes} bytes`);
  } finally {
    await other.close();
    await shaped.close();
  }
});

test('quickStart: when the whole weights fail to download, the call that needs them says why and the next one tries again', async () => {
  const fresh = await browser.context.newPage();
  let refused = 0;
  await fresh.route('**/weights/unetpp.safetensors', (route) =>
    refused++ ? route.continue() : route.fulfill({ status: 503, body: 'busy' }),
  );
  try {
    await fresh.goto(`${server.base}blank.html`);
    const r = await fresh.evaluate(async () => {
      const { LesionLab } = await import('./www/lesionlab.js');
      const photo = await (await fetch('www/samples/ISIC_0015946.jpg')).blob();
      const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu', quickStart: true });
      const quick = (await lab.segment(photo, { mode: 'fast', level: 2 })).mask.length;
      const first = await lab.segment(photo).then(
        () => null,
        (e) => ({ kind: e.kind, message: e.message }),
      );
      const again = (await lab.segment(photo)).mask.length;
      const after = lab.fastOnly;
      lab.dispose();
      return { quick, first, again, after };
    });
    assert.equal(r.quick, 256 * 256, 'the quick look works without the whole weights');
    assert.equal(r.first?.kind, 'io', JSON.stringify(r.first));
    assert.match(r.first.message, /weights\/unetpp\.safetensors: HTTP 503/);
    assert.equal(r.again, 256 * 256, 'the next call fetched them again and ran');
    assert.equal(r.after, null);
    assert.equal(refused, 2, 'one refused download, one that worked');
  } finally {
    await fresh.close();
  }
});

test('every model and the file pairing share one worker; each file is fetched once', async () => {
  const count = (suffix) => server.requests.filter((p) => p.endsWith(suffix)).length;
  const before = { unetpp: count('weights/unetpp.safetensors'), wasm: count('cpu/lesionlab_core_bg.wasm') };
  const r = await page.evaluate(async () => {
    const labs = [];
    for (const model of ['unet', 'pspnet', 'unetpp']) labs.push(await LesionLab.create({ model, backend: 'cpu' }));
    const masks = [];
    for (const l of labs) masks.push((await l.segment(smallPhoto)).mask);
    const paired = await LesionLab.pairFiles([
      new File([''], 'ISIC_0000001.jpg'),
      new File([''], 'ISIC_0000001_segmentation.png'),
    ]);
    const memory = await labs[0].memory();
    for (const l of labs) l.dispose();
    // The labs still open (window.lab) go on in the same worker.
    const still = (await lab.segment(smallPhoto)).mask.length;
    return { sizes: masks.map((m) => m.length), pairs: paired.pairs, modules: Object.keys(memory.modules), still };
  });
  assert.deepEqual(r.sizes, [256 * 256, 256 * 256, 256 * 256]);
  assert.equal(r.pairs, 1);
  assert.deepEqual(r.modules, ['cpu'], 'one wasm instance');
  assert.equal(r.still, 256 * 256);
  assert.equal(page.workers().length, 1, 'one worker for the page');
  assert.equal(
    count('weights/unetpp.safetensors'),
    before.unetpp,
    'the U-Net++ weights this page had were not fetched again',
  );
  assert.equal(count('cpu/lesionlab_core_bg.wasm'), before.wasm, 'the module was not fetched again');
});

test('file pairing first, then a model: the module the pairing loaded is the one the model uses', async () => {
  const count = () => server.requests.filter((p) => p.endsWith('/pkg/cpu/lesionlab_core_bg.wasm')).length;
  const before = count();
  const fresh = await browser.context.newPage();
  try {
    await fresh.goto(`${server.base}blank.html`);
    const size = await fresh.evaluate(async () => {
      const { LesionLab } = await import('./www/lesionlab.js');
      await LesionLab.pairFiles([new File([''], 'ISIC_0000001.jpg'), new File([''], 'ISIC_0000001_segmentation.png')]);
      const lab = await LesionLab.create({ model: 'unet', backend: 'cpu' });
      const mask = (await lab.segment(await (await fetch('www/samples/ISIC_0015946.jpg')).blob())).mask;
      lab.dispose();
      return mask.length;
    });
    assert.equal(size, 256 * 256);
    assert.equal(count() - before, 1, 'downloaded once, by the worker the pairing started');
  } finally {
    await fresh.close();
  }
});

test('after an 8000x6000 photo the worker gives its memory back once idle, and the next call works', async () => {
  const r = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(8000, 6000);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(
      await createImageBitmap(await (await fetch('www/samples/ISIC_0001126.jpg')).blob()),
      0,
      0,
      8000,
      6000,
    );
    const huge = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
    const seg = await lab.segment(huge, { refine: false });
    const held = (await lab.memory()).wasmBytes;
    // Idle for longer than the engine waits before replacing the worker.
    await new Promise((ok) => setTimeout(ok, 6000));
    const after = (await lab.memory()).wasmBytes;
    const next = await lab.segment(smallPhoto, {});
    return { size: [seg.width, seg.height], held, after, next: next.mask.length };
  });
  assert.deepEqual(r.size, [8000, 6000]);
  console.log(
    `# wasm memory: ${(r.held / 1e6).toFixed(0)} MB holding the 8000x6000 photo, ${(r.after / 1e6).toFixed(0)} MB once idle`,
  );
  assert.ok(r.held > 200e6, `the photo took memory (${r.held})`);
  assert.ok(r.after < 100e6, `given back once idle: ${r.after} bytes`);
  assert.ok(r.next > 0, 'the next call reopens the model and segments');
});

test("nothing was requested outside the page's own folder", async () => {
  const outside = browser.requests.filter((u) => !u.startsWith(server.base) && !/^(blob|data):/.test(u));
  assert.deepEqual(outside, []);
  assert.ok(
    browser.requests.some((u) => u.endsWith('.wasm')),
    "the worker's requests are seen",
  );
  assert.deepEqual(
    server.requests.filter((p) => !p.startsWith('/docs/lesionlab/')),
    [],
  );
});
