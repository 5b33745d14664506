// Fine-tuning in the browser on the CPU path: one epoch on the eight real fixture pairs (files
// and a zip) lowers the loss and reports validation scores; skipped files are named; weights
// export, reload and are checked; a reload of the page mid-run offers to resume, and does.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT, ROOT, fixtureFiles, fixtureInPage, launch, open, serve } from './harness.mjs';

const FIXTURE = path.join(ROOT, 'tests/data/isic-fixture');
const SETTINGS = { epochs: 1, batchSize: 2, lr: 1e-3, size: 64, valFraction: 0.25, augment: false };

/** The fixture as one deflated zip in the official layout (Python's zipfile writes it). */
function fixtureZip() {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const zip = path.join(OUTPUT, 'fixture.zip');
  execFileSync('python3', [
    '-c',
    `
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for d in sorted(os.listdir(root)):
        for f in sorted(os.listdir(os.path.join(root, d))):
            z.write(os.path.join(root, d, f), f'{d}/{f}')
`,
    FIXTURE,
    zip,
  ]);
  return fs.readFileSync(zip);
}

let server, browser, page;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: false });
  page = await open(browser.context, `${server.base}blank.html`);
  await fixtureInPage(page);
  await page.evaluate(async (zip) => {
    const { LesionLab } = await import('./www/lesionlab.js');
    window.LesionLab = LesionLab;
    window.fixtureZip = new File([Uint8Array.from(atob(zip), (c) => c.charCodeAt(0))], 'ISIC2018_fixture.zip', {
      type: 'application/zip',
    });
    await LesionLab.discardSavedRun();
  }, fixtureZip().toString('base64'));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
});

test('three epochs on 8 real pairs lower the loss, reports validation scores and names skipped files', async () => {
  const r = await page.evaluate(async (settings) => {
    window.lab = await LesionLab.create({ model: 'unet', backend: 'cpu' });
    const extra = [
      new File(['not a photo'], 'notes.txt', { type: 'text/plain' }),
      new File([await fixture[0].arrayBuffer()], 'ISIC_0099999.jpg', { type: 'image/jpeg' }),
      new File([new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3])], 'ISIC_0088888.jpg', { type: 'image/jpeg' }),
      new File([await fixture.find((f) => f.name.endsWith('.png')).arrayBuffer()], 'ISIC_0088888_segmentation.png', {
        type: 'image/png',
      }),
    ];
    const progress = [];
    const run = await lab.finetune([...fixture, ...extra], {
      ...settings,
      epochs: 3,
      onProgress: (p) => progress.push(p),
    });
    const photo = fixture.find((f) => f.name.endsWith('.jpg'));
    const shipped = await LesionLab.create({ model: 'unet', backend: 'cpu' });
    const a = await lab.segment(photo);
    const b = await shipped.segment(photo);
    let diff = 0;
    for (let i = 0; i < a.probability.length; i++) diff = Math.max(diff, Math.abs(a.probability[i] - b.probability[i]));
    const saved = await LesionLab.savedRun();
    return {
      run,
      steps: progress.filter((p) => p.kind === 'step'),
      kinds: [...new Set(progress.map((p) => p.kind))],
      diff,
      saved,
    };
  }, SETTINGS);
  const { run, steps } = r;
  assert.equal(run.paired, 8);
  assert.equal(run.train + run.val, 8);
  assert.ok(run.val >= 1, 'some pairs held out');
  const why = Object.fromEntries(run.skipped.map((s) => [s.file, s.reason]));
  assert.match(why['notes.txt'], /not a photo/);
  assert.match(why['ISIC_0099999.jpg'], /no mask/);
  assert.match(why['ISIC_0088888.jpg'], /unreadable|corrupt/i);
  assert.deepEqual(r.kinds, ['paired', 'loading', 'step', 'validating', 'epoch', 'saved']);
  assert.equal(steps.length, 3 * Math.ceil(run.train / 2));
  assert.equal(run.history.length, 3);
  for (const h of run.history) {
    for (const k of ['valIoU', 'valDice']) {
      assert.ok(h[k] >= 0 && h[k] <= 1, `${k} ${h[k]}`);
      assert.ok(run.before[k] >= 0 && run.before[k] <= 1, `starting ${k} ${run.before[k]}`);
    }
    assert.ok(h.valDice >= h.valIoU, 'Dice >= IoU');
  }
  // The starting weights were trained at 176 px; epochs at 64 px adapt them. An epoch's loss is
  // taken in training mode (batch statistics of two photos), the starting loss in evaluation
  // mode, so the test compares the last epoch with the first.
  const [first, , h] = run.history;
  assert.ok(
    h.trainLoss < first.trainLoss,
    `training loss ${first.trainLoss} over the first epoch, ${h.trainLoss} over the third`,
  );
  // Each step's loss is on its own batch, so one step against another says little with
  // weights that already fit these pairs well; the first epoch's loss against the third is the test.
  assert.ok(
    steps.every((s) => Number.isFinite(s.loss) && s.loss > 0),
    `step losses ${steps.map((s) => s.loss.toFixed(4)).join(', ')}`,
  );
  assert.ok(r.diff > 1e-3, 'segment now uses the fine-tuned weights');
  assert.equal(r.saved.status, 'finished');
  assert.equal(r.saved.hasCheckpoint, true);
  console.log(
    `# CPU fine-tune: before ${JSON.stringify(run.before)}; epoch ${JSON.stringify(h)}; steps ${steps.map((s) => s.loss.toFixed(4)).join(' ')}`,
  );
});

test('the official zip layout pairs the same 8 pairs', async () => {
  const run = await page.evaluate(async (settings) => {
    const zipLab = await LesionLab.create({ model: 'pspnet', backend: 'cpu' });
    const run = await zipLab.finetune([fixtureZip], settings);
    zipLab.dispose();
    return run;
  }, SETTINGS);
  assert.equal(run.paired, 8);
  assert.deepEqual(run.skipped, []);
  assert.equal(run.history.length, 1);
});

test("settings outside the crate's limits are refused by name before any file is read", async () => {
  const r = await page.evaluate(async (settings) => {
    const why = (options) =>
      lab.finetune(fixture, options).then(
        () => 'accepted',
        (e) => `${e.kind}: ${e.message}`,
      );
    return {
      epochs: await why({ ...settings, epochs: 0 }),
      fraction: await why({ ...settings, epochs: 2.5 }),
      lr: await why({ ...settings, lr: Number.NaN }),
      unknown: await why({ ...settings, size: 1024 }),
    };
  }, SETTINGS);
  assert.match(r.epochs, /^bad-argument: .*epochs is 0: use 1 to 500/);
  assert.match(r.fraction, /^bad-argument: fine-tuning settings: .*2\.5/);
  assert.match(r.lr, /^bad-argument: .*lr is NaN/);
  assert.match(r.unknown, /^bad-argument: .*1024/);
});

test("exported weights load again; another model's weights are refused and nothing is lost", async () => {
  const r = await page.evaluate(async () => {
    const bytes = await lab.exportWeights();
    const again = await LesionLab.create({ model: 'unet', backend: 'cpu', weights: bytes });
    const photo = fixture.find((f) => f.name.endsWith('.jpg'));
    const a = (await lab.segment(photo)).probability;
    const b = (await again.segment(photo)).probability;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    const refused = await lab.loadWeights('weights/pspnet.safetensors').then(
      () => 'loaded',
      (e) => e.message,
    );
    const c = (await lab.segment(photo)).probability;
    let kept = 0;
    for (let i = 0; i < a.length; i++) kept = Math.max(kept, Math.abs(a[i] - c[i]));
    return {
      size: bytes.byteLength,
      magic: new TextDecoder().decode(new Uint8Array(bytes, 8, 2)),
      diff,
      refused,
      kept,
    };
  });
  assert.ok(r.size > 100_000, `${r.size} bytes`);
  assert.equal(r.magic, '{"', 'a safetensors header');
  assert.ok(r.diff < 1e-5, `the reloaded weights segment the same (max diff ${r.diff})`);
  assert.match(r.refused, /pspnet\.safetensors.*PSPNet weights, not U-Net weights/);
  assert.equal(r.kept, 0, 'the fine-tuned weights stay after a refused file');
});

test('the page: a reload mid-run offers to resume, and the resumed run finishes', async () => {
  await page.evaluate(() => LesionLab.discardSavedRun());
  const ui = await browser.context.newPage();
  await ui.goto(`${server.base}index.html?backend=cpu`);
  await ui.waitForSelector('body[data-tune="idle"]');
  await ui.setInputFiles('#tune-files', fixtureFiles());
  await ui.waitForFunction(() => /photo\/mask pair\(s\)\./.test(document.getElementById('tune-found').textContent));
  assert.match(await ui.textContent('#tune-found'), /16 file\(s\): 8 photo\/mask pair\(s\)/);
  await ui.selectOption('#tune-model', 'unet');
  await ui.fill('#tune-epochs', '3');
  await ui.fill('#tune-batch', '2');
  await ui.selectOption('#tune-size', '64');
  await ui.fill('#tune-val', '0.25');
  await ui.click('#tune-go');
  await ui.waitForFunction(
    () => /Epoch 1 done and saved/.test(document.getElementById('tune-status').textContent),
    null,
    { timeout: 120_000 },
  );
  await ui.click('#tune-pause');
  await ui.waitForSelector('body[data-tune="paused"]');
  // The run stops after the step in progress and says where; the line is not overwritten.
  await ui.waitForFunction(
    () => /^Paused after epoch [23], step \d+ of 3\./.test(document.getElementById('tune-status').textContent),
    null,
    { timeout: 60_000 },
  );
  const pausedAt = await ui.textContent('#tune-status');
  assert.equal(await ui.isDisabled('#tune-epochs'), true, 'the settings of a run in progress cannot change');
  await ui.waitForTimeout(1500);
  assert.equal(await ui.textContent('#tune-status'), pausedAt, 'no step ran after the pause');
  await ui.reload();
  await ui.waitForSelector('#resume-offer:not([hidden])', { timeout: 60_000 });
  assert.match(await ui.textContent('#resume-text'), /U-Net \(8 pairs, 64 px\) stopped after epoch 1 of 3/);
  await ui.click('#resume-run');
  await ui.waitForSelector('body[data-tune="done"]', { timeout: 300_000 });
  const rows = await ui.$$eval('#tune-table tbody tr', (trs) =>
    trs.map((tr) => [...tr.cells].map((c) => c.textContent)),
  );
  assert.equal(rows.length, 2);
  assert.equal(rows[0][0], 'Starting weights');
  for (const row of rows) for (const v of row.slice(1)) assert.match(v, /^\d\.\d{4}$/);
  assert.equal(await ui.$$eval('#tune-preview figure', (f) => f.length), 2, 'before/after of the 2 validation pairs');
  const saved = await ui.evaluate(async () => (await import('./www/lesionlab.js')).LesionLab.savedRun());
  assert.deepEqual(
    saved.history.map((h) => h.epoch),
    [1, 2, 3],
    'epoch 1 from before the reload, 2 and 3 after',
  );
  await ui.screenshot({ path: path.join(OUTPUT, 'finetune.png'), fullPage: true });
  const [file] = await Promise.all([ui.waitForEvent('download'), ui.click('#tune-download')]);
  assert.equal(file.suggestedFilename(), 'unet-finetuned.safetensors');
  // "Segment with these weights": from then on the page's captions name the fine-tuned model.
  await ui.click('#tune-use');
  await ui.waitForFunction(() => /fine-tuned U-Net/.test(document.getElementById('tune-status').textContent));
  await ui.click('button[data-sample="ISIC_0014640"]');
  await ui.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  assert.match(await ui.textContent('#caption'), /ISIC_0014640\.jpg, 256×256, U-Net, fine-tuned$/);
  // And back to the shipped weights, without a reload.
  await ui.click('#tune-revert');
  await ui.waitForFunction(() => /shipped U-Net again/.test(document.getElementById('tune-status').textContent));
  await ui.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  assert.match(await ui.textContent('#caption'), /ISIC_0014640\.jpg, 256×256, U-Net$/);
  await ui.close();
});
