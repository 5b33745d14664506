// The WebGPU path on the software adapter (SwiftShader): the same mask as the CPU path, and
// finite heatmaps. The smallest model at its shipped 128x128 input keeps this quick.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixtureInPage, launch, open, serve } from './harness.mjs';

let server, browser, page;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
  page = await open(browser.context, `${server.base}blank.html`);
  await page.evaluate(async () => {
    const { LesionLab } = await import('./www/lesionlab.js');
    window.LesionLab = LesionLab;
    window.photo = await (await fetch('www/samples/ISIC_0015946.jpg')).blob();
  });
  await fixtureInPage(page);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
});

test('WebGPU and CPU give the same PSPNet mask up to 1% of pixels', async () => {
  const r = await page.evaluate(async () => {
    const gpu = await LesionLab.create({ model: 'pspnet', backend: 'webgpu' });
    const cpu = await LesionLab.create({ model: 'pspnet', backend: 'cpu' });
    const a = await gpu.segment(photo);
    const b = await cpu.segment(photo);
    let differ = 0,
      maxDiff = 0,
      lesion = 0;
    for (let i = 0; i < a.mask.length; i++) {
      if (a.mask[i] !== b.mask[i]) differ++;
      if (b.mask[i]) lesion++;
      maxDiff = Math.max(maxDiff, Math.abs(a.probability[i] - b.probability[i]));
    }
    window.gpu = gpu;
    cpu.dispose();
    return {
      backend: gpu.backend,
      cpuBackend: cpu.backend,
      share: differ / a.mask.length,
      maxDiff,
      lesion,
      n: a.mask.length,
      ms: a.ms,
    };
  });
  assert.equal(r.backend, 'webgpu');
  assert.equal(r.cpuBackend, 'cpu');
  assert.ok(r.lesion > 0.01 * r.n, 'the mask is not empty, so agreeing means something');
  assert.ok(r.share <= 0.01, `${(r.share * 100).toFixed(3)}% of pixels differ`);
  console.log(
    `# WebGPU vs CPU: ${(r.share * 100).toFixed(3)}% of pixels differ, max |dp| ${r.maxDiff.toExponential(2)}; WebGPU ms ${JSON.stringify(r.ms)}`,
  );
});

test('auto: the first mask comes from the CPU while WebGPU loads; WebGPU then takes over and no call is lost', async () => {
  const r = await page.evaluate(async () => {
    const t0 = performance.now();
    const events = [];
    const lab = await LesionLab.create({
      model: 'pspnet',
      backend: 'auto',
      takeover: 'ready',
      onBackend: (e) => events.push({ ...e, at: performance.now() - t0 }),
    });
    const created = lab.backend;
    const first = await lab.segment(photo);
    const firstAt = performance.now() - t0;
    // Calls keep coming while WebGPU warms up: every one is answered, by one backend or the other.
    const during = [];
    while (!events.length && during.length < 400) during.push((await lab.segment(photo)).backend);
    const next = await lab.segment(photo);
    let differ = 0;
    for (let i = 0; i < first.mask.length; i++) if (first.mask[i] !== next.mask[i]) differ++;
    lab.dispose();
    // The default policy measures both on the same input and keeps the faster one.
    const measured = await new Promise((done) => {
      LesionLab.create({ model: 'pspnet', backend: 'auto', onBackend: done }).then((l) => {
        window.measuredLab = l;
      });
    });
    const after = (await measuredLab.segment(photo)).backend;
    measuredLab.dispose();
    return {
      created,
      first: first.backend,
      firstAt,
      events,
      during,
      next: next.backend,
      labBackend: lab.backend,
      share: differ / first.mask.length,
      measured,
      after,
    };
  });
  assert.equal(r.created, 'cpu');
  assert.equal(r.first, 'cpu', "the first mask is the CPU's");
  assert.equal(r.events.length, 1, JSON.stringify(r.events));
  assert.equal(r.events[0].backend, 'webgpu', r.events[0].reason);
  assert.ok(r.firstAt < r.events[0].at, `first mask at ${r.firstAt} ms, WebGPU ready at ${r.events[0].at} ms`);
  assert.ok(
    r.during.every((b) => b === 'cpu' || b === 'webgpu'),
    JSON.stringify(r.during),
  );
  assert.equal(r.next, 'webgpu');
  assert.equal(r.labBackend, 'webgpu');
  assert.ok(r.share <= 0.01, `after the switch ${(r.share * 100).toFixed(3)}% of pixels differ from the CPU's mask`);
  const { cpu, webgpu } = r.measured.ms;
  assert.ok(cpu > 0 && webgpu > 0, JSON.stringify(r.measured));
  assert.equal(r.measured.backend, webgpu < cpu ? 'webgpu' : 'cpu', r.measured.reason);
  assert.equal(r.after, r.measured.backend);
  console.log(
    `# auto: first mask (CPU) at ${r.firstAt.toFixed(0)} ms, WebGPU ready at ${r.events[0].at.toFixed(0)} ms (software adapter), ${r.during.length} calls answered meanwhile; 'faster': ${r.measured.reason}`,
  );
});

test('CAM and Grad-CAM on WebGPU are finite and in [0, 1]', async () => {
  const r = await page.evaluate(async () => {
    const check = (h) => ({
      n: h.heatmap.length,
      bad: h.heatmap.filter((v) => !(v >= 0 && v <= 1)).length,
      max: Math.max(...h.heatmap),
      layer: h.layer,
    });
    return {
      cam: check(await gpu.explain(photo, { method: 'activation' })),
      gradcam: check(await gpu.explain(photo, { method: 'gradcam' })),
    };
  });
  for (const [name, h] of Object.entries(r)) {
    assert.equal(h.n, 256 * 256, name);
    assert.equal(h.bad, 0, `${name}: finite, in [0, 1]`);
    assert.ok(h.max > 0.9, `${name}: normalised, peak ${h.max}`);
  }
  assert.equal(r.gradcam.layer, 'ppm');
});

test("one epoch of fine-tuning on WebGPU gives the CPU path's losses", async () => {
  const r = await page.evaluate(async () => {
    const settings = { epochs: 1, batchSize: 2, lr: 1e-3, size: 64, valFraction: 0.25, augment: false };
    const losses = async (backend) => {
      const lab = await LesionLab.create({ model: 'unet', backend });
      const steps = [];
      const run = await lab.finetune(fixture, {
        ...settings,
        onProgress: (p) => p.kind === 'step' && steps.push(p.loss),
      });
      const weights = await lab.exportWeights();
      lab.dispose();
      return { backend: lab.backend, steps, history: run.history, before: run.before, weights: weights.byteLength };
    };
    const gpu = await losses('webgpu');
    const cpu = await losses('cpu');
    await LesionLab.discardSavedRun();
    return { gpu, cpu };
  });
  assert.equal(r.gpu.backend, 'webgpu');
  assert.equal(r.gpu.steps.length, r.cpu.steps.length);
  const worst = Math.max(...r.gpu.steps.map((l, i) => Math.abs(l - r.cpu.steps[i]) / r.cpu.steps[i]));
  assert.ok(worst < 1e-2, `step losses differ by up to ${(worst * 100).toFixed(3)}%: ${r.gpu.steps} vs ${r.cpu.steps}`);
  const dv = Math.abs(r.gpu.history[0].valLoss - r.cpu.history[0].valLoss) / r.cpu.history[0].valLoss;
  assert.ok(dv < 1e-2, `validation loss ${r.gpu.history[0].valLoss} vs ${r.cpu.history[0].valLoss}`);
  assert.ok(r.gpu.weights > 100_000, 'weights export from WebGPU (asynchronous readback)');
  console.log(
    `# WebGPU vs CPU fine-tune: worst step-loss difference ${(worst * 100).toFixed(4)}%, val loss ${dv.toExponential(2)} relative`,
  );
});
