// Every core the visitor has: on a cross-origin isolated page (the headers pkg-scripts/serve
// sends) the CPU runs the threaded module, and its masks, test-time augmentation and fine-tuning
// agree with the single-threaded module's; a host that sends no headers gets the single-threaded
// module, and says so.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixtureInPage, launch, open, serve } from './harness.mjs';

const SAMPLE = 'www/samples/ISIC_0013169.jpg';
const TUNE = { epochs: 1, batchSize: 2, lr: 1e-3, size: 64, valFraction: 0.25, augment: false, seed: 7 };

let isolated, plain, browser;

before(async () => {
  isolated = await serve({ isolated: true });
  plain = await serve();
  browser = await launch({ webgpu: false });
});

after(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
});

/**
 * In a fresh page of `server`: for each thread count, every model's probabilities on a sample
 * (U-Net++ also with test-time augmentation), and what each result says ran it.
 */
async function everyModel(server, counts) {
  const page = await open(browser.context, `${server.base}blank.html`);
  await page.reload();
  return page.evaluate(
    async ({ sample, counts }) => {
      const { LesionLab } = await import('./www/lesionlab.js');
      const photo = await (await fetch(sample)).blob();
      const out = { isolated: crossOriginIsolated, runs: {} };
      for (const threads of counts) {
        const run = {};
        for (const model of ['unet', 'unetpp', 'pspnet']) {
          // Each LesionLab is the page's only one, so each starts the worker with its choice.
          const lab = await LesionLab.create({ model, backend: 'cpu', threads });
          const r = await lab.segment(photo, model === 'unetpp' ? { tta: true } : {});
          run[model] = { labThreads: lab.threads, threads: r.threads, probability: Array.from(r.probability) };
          lab.dispose();
        }
        out.runs[threads] = run;
      }
      return out;
    },
    { sample: SAMPLE, counts },
  );
}

test('an isolated page runs the threaded module on the threads asked for, with the single-threaded masks', async () => {
  const { isolated: coi, runs } = await everyModel(isolated, [2, 1]);
  assert.equal(coi, true);
  for (const model of ['unet', 'unetpp', 'pspnet']) {
    const [two, one] = [runs[2][model], runs[1][model]];
    assert.equal(two.labThreads, 2, `${model}: lab.threads`);
    assert.equal(two.threads, 2, `${model}: r.threads`);
    assert.equal(one.threads, 1, `${model}: threads: 1 runs the single-threaded module`);
    assert.equal(two.probability.length, one.probability.length);
    let worst = 0;
    for (let i = 0; i < one.probability.length; i++)
      worst = Math.max(worst, Math.abs(two.probability[i] - one.probability[i]));
    assert.ok(worst <= 1e-5, `${model}: probabilities differ by up to ${worst}`);
  }
});

test('a host without isolation headers gets the single-threaded module, whatever is asked', async () => {
  const { isolated: coi, runs } = await everyModel(plain, [4]);
  assert.equal(coi, false);
  for (const model of ['unet', 'unetpp', 'pspnet']) {
    assert.equal(runs[4][model].labThreads, 1, model);
    assert.equal(runs[4][model].threads, 1, model);
  }
});

test('fine-tuning on two threads computes what one thread does', async () => {
  const page = await open(browser.context, `${isolated.base}blank.html`);
  await page.reload();
  await fixtureInPage(page);
  const runs = await page.evaluate(async (settings) => {
    const { LesionLab } = await import('./www/lesionlab.js');
    await LesionLab.discardSavedRun();
    const out = [];
    for (const threads of [2, 1]) {
      const lab = await LesionLab.create({ model: 'unet', backend: 'cpu', threads });
      const r = await lab.finetune(fixture, settings);
      out.push({ threads: r.threads, labThreads: lab.threads, history: r.history, outcome: r.outcome });
      lab.dispose();
      await LesionLab.discardSavedRun();
    }
    return out;
  }, TUNE);
  const [two, one] = runs;
  assert.equal(two.threads, 2);
  assert.equal(one.threads, 1);
  assert.equal(two.outcome, 'finished');
  const [a, b] = [two.history[0], one.history[0]];
  assert.ok(Number.isFinite(a.trainLoss) && Number.isFinite(a.valLoss));
  // The same seed, data and steps; only the order of the weight gradients' sums differs.
  assert.ok(
    Math.abs(a.trainLoss - b.trainLoss) <= 1e-4 * Math.max(1, Math.abs(b.trainLoss)),
    `${a.trainLoss} vs ${b.trainLoss}`,
  );
  assert.ok(Math.abs(a.valLoss - b.valLoss) <= 1e-3 * Math.max(1, Math.abs(b.valLoss)), `${a.valLoss} vs ${b.valLoss}`);
});

test('a panic on a pool thread reaches the page as an error, and the next call works on threads again', async () => {
  const page = await open(browser.context, `${isolated.base}blank.html`);
  await page.reload();
  const r = await page.evaluate(async (sample) => {
    const { LesionLab } = await import('./www/lesionlab.js');
    const lab = await LesionLab.create({ model: 'unet', backend: 'cpu', threads: 2 });
    // The calling worker is blocked while the pool works: without the page's channel this
    // call would never settle.
    const timeout = new Promise((ok) => setTimeout(() => ok('no answer within 60 s'), 60_000));
    const panic = await Promise.race([
      lab._panicForTest(true).then(
        () => 'resolved',
        (e) => `${e.kind}: ${e.message}`,
      ),
      timeout,
    ]);
    const next = await lab.segment(await (await fetch(sample)).blob());
    return { panic, threads: next.threads, pixels: next.mask.length };
  }, SAMPLE);
  assert.match(r.panic, /^internal: [\s\S]*deliberate panic on a pool thread/);
  assert.equal(r.threads, 2);
  assert.ok(r.pixels > 0);
});
