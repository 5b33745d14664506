// The awkward-input corpus (tests/corpus/make.mjs) through both surfaces a user has: the
// command line (`segment`, `eval`, `--weights`) and the page's JS API (`segment`, `loadWeights`,
// `pairFiles`, `finetune`). For every item: the exact outcome, a message that names the file
// and the problem, good inputs beside it still processed, and the next call still working.
// Then memory: 200 segmentations in a row must not keep growing the worker's wasm memory.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeCorpus } from '../corpus/make.mjs';
import { OUTPUT, ROOT, launch, open, serve } from './harness.mjs';

const DIR = path.join(OUTPUT, 'corpus');
const corpus = makeCorpus(DIR, { weightsOf: (model) => path.join(ROOT, 'weights', `${model}.safetensors`) });
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
const CLI = path.join(TARGET, 'debug', 'lesionlab');
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function cli(...args) {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run \`cargo test\` first (pkg-scripts/test does)`);
  const r = spawnSync(CLI, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

/** Files of a corpus folder as the page's File objects. */
function filesOf(sub) {
  return fs
    .readdirSync(path.join(DIR, sub))
    .sort()
    .map((name) => ({ name, b64: fs.readFileSync(path.join(DIR, sub, name)).toString('base64') }));
}

let server, browser, page;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: false });
  page = await open(browser.context, `${server.base}blank.html`);
  await page.evaluate(
    async (sets) => {
      const { LesionLab } = await import('./www/lesionlab.js');
      window.LesionLab = LesionLab;
      const file = (f) => new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name);
      window.corpus = Object.fromEntries(Object.entries(sets).map(([k, files]) => [k, files.map(file)]));
      window.lab = await LesionLab.create({ model: 'unet', backend: 'cpu' });
      await LesionLab.discardSavedRun();
    },
    { photos: filesOf('photos'), pairs: filesOf('pairs'), weights: filesOf('weights') },
  );
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (browser?.log.length) console.log(browser.log.join('\n'));
});

test('the command line: every photo segments or fails by name, and the good ones are written', () => {
  const out = path.join(DIR, 'cli-masks');
  fs.rmSync(out, { recursive: true, force: true });
  const photos = corpus.photos.map((p) => path.join(DIR, 'photos', p.file));
  const r = cli('segment', '--model', 'pspnet', '--size', '64', '--out', out, ...photos);
  const bad = corpus.photos.filter((p) => !p.ok);
  assert.equal(r.ok, false);
  assert.match(r.err, new RegExp(`${bad.length} of ${photos.length} photos could not be segmented`));
  for (const p of corpus.photos) {
    const stem = p.file.replace(/\.[^.]*$/, '');
    if (p.ok) {
      assert.ok(fs.existsSync(path.join(out, `${stem}_segmentation.png`)), `${p.file}: no mask written\n${r.err}`);
    } else {
      assert.match(r.err, new RegExp(`${escapeRe(p.file)}: ${p.problem.source}`), `${p.file}\n${r.err}`);
    }
  }
});

test('the command line: eval skips every bad pair and zip by name and scores the good pairs', () => {
  const r = cli('eval', '--model', 'pspnet', '--data', path.join(DIR, 'pairs'), '--json');
  assert.ok(r.ok, r.err);
  for (const p of corpus.pairs) {
    assert.match(r.err, new RegExp(`skipped ${escapeRe(p.file)}: .*${p.problem.source}`), `${p.file}\n${r.err}`);
  }
  const scores = JSON.parse(r.out);
  assert.equal(scores.images, corpus.good.length, r.out);
});

test('the command line: every weights file loads or is refused by name', () => {
  const photo = path.join(DIR, 'photos', 'rgb.png');
  for (const w of corpus.weights) {
    const file = path.join(DIR, 'weights', w.file);
    const out = path.join(DIR, 'cli-weights');
    const r = cli('segment', '--model', 'unet', '--weights', file, '--out', out, '--overwrite', photo);
    if (w.ok) {
      assert.ok(r.ok, `${w.file}: ${r.err}`);
    } else {
      assert.equal(r.ok, false, w.file);
      assert.match(r.err, new RegExp(`${escapeRe(file)}'?: .*${w.problem.source}`), `${w.file}\n${r.err}`);
    }
  }
});

test('the page: every photo segments or fails with its kind and file named, and the next call works', async () => {
  const results = await page.evaluate(async () => {
    const out = {};
    for (const f of corpus.photos) {
      out[f.name] = await lab.segment(f).then(
        (r) => ({ ok: r.width > 0 }),
        (e) => ({ kind: e.kind, message: e.message }),
      );
    }
    out.next = await lab.segment(corpus.photos.find((f) => f.name === 'whole.jpg')).then((r) => r.width);
    return out;
  });
  for (const p of corpus.photos) {
    const r = results[p.file];
    if (p.ok) {
      assert.deepEqual(r, { ok: true }, p.file);
    } else {
      assert.equal(r.kind, p.kind, `${p.file}: ${r.message}`);
      assert.match(r.message, new RegExp(`^${escapeRe(p.file)}: ${p.problem.source}`), p.file);
    }
  }
  assert.equal(results.next, 256, 'a good photo still segments after every bad one');
});

test('the page: pairFiles and fine-tuning skip every bad pair and zip by name and train on the good ones', async () => {
  const r = await page.evaluate(async () => {
    const paired = await lab.pairFiles(corpus.pairs);
    const run = await lab.finetune(corpus.pairs, { epochs: 1, batchSize: 2, size: 64, valFraction: 0, augment: false });
    return { paired, run: { paired: run.paired, skipped: run.skipped, history: run.history.length } };
  });
  assert.equal(r.run.paired, corpus.good.length, JSON.stringify(r.run.skipped));
  assert.equal(r.run.history, 1);
  for (const p of corpus.pairs) {
    const hit = r.run.skipped.find((s) => s.file === p.file);
    assert.ok(hit, `${p.file} is not reported: ${JSON.stringify(r.run.skipped)}`);
    assert.match(hit.reason, p.problem, p.file);
  }
  const zips = ['cut.zip', 'fake.zip'];
  assert.deepEqual(
    zips.filter((z) => !r.paired.skipped.some((s) => s.file === z)),
    [],
    'pairFiles names the unreadable zips',
  );
});

test('the page: every weights file loads or is refused by name, and the weights in use stay', async () => {
  const r = await page.evaluate(async () => {
    const photo = corpus.photos.find((f) => f.name === 'whole.jpg');
    await lab.loadWeights('weights/unet.safetensors');
    const before = (await lab.segment(photo)).mask;
    const out = {};
    for (const f of corpus.weights) {
      if (f.name === 'copy.safetensors') continue;
      out[f.name] = await lab.loadWeights(f).then(
        () => ({ ok: true }),
        (e) => ({ kind: e.kind, message: e.message }),
      );
    }
    const after = (await lab.segment(photo)).mask;
    out.kept = after.every((v, i) => v === before[i]);
    out['copy.safetensors'] = await lab.loadWeights(corpus.weights.find((f) => f.name === 'copy.safetensors')).then(
      () => ({ ok: true }),
      (e) => ({ message: e.message }),
    );
    return out;
  });
  for (const w of corpus.weights) {
    const got = r[w.file];
    if (w.ok) {
      assert.deepEqual(got, { ok: true }, w.file);
    } else {
      assert.equal(got.kind, w.kind, `${w.file}: ${got.message}`);
      assert.match(got.message, new RegExp(`${escapeRe(w.file)}'?: .*${w.problem.source}`), w.file);
    }
  }
  assert.ok(r.kept, 'after every refused file the weights in use still give the same mask');
});

test("memory: 200 segmentations in a row do not keep growing the worker's wasm memory", async () => {
  const r = await page.evaluate(async () => {
    const photo = corpus.photos.find((f) => f.name === 'rgb.png');
    const samples = [];
    for (let i = 1; i <= 200; i++) {
      // A new Blob each time, so that every call decodes and prepares the photo again.
      await lab.segment(new File([photo], `photo-${i}.png`));
      if (i === 20 || i === 200)
        samples.push({ i, ...(await lab.memory()), page: performance.memory?.usedJSHeapSize ?? null });
    }
    return samples;
  });
  const [at20, at200] = r;
  assert.ok(at20.wasmBytes > 0, JSON.stringify(r));
  assert.equal(at200.wasmBytes, at20.wasmBytes, `the wasm memory grew after the 20th call: ${JSON.stringify(r)}`);
  if (at20.page !== null)
    assert.ok(at200.page < at20.page * 2 + 20e6, `the page's JS heap keeps growing: ${JSON.stringify(r)}`);
});
