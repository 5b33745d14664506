// A whole folder scored in the page: `lab.evaluate` on 20 real ISIC pairs gives the numbers of
// the native `lesionlab eval` (same crate code), names what it skips and scores the rest; the
// page's "Score a folder" panel shows the table, the histogram, the worst photos and the CSV.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { OUTPUT, ROOT, closePage, openPage } from './harness.mjs';

const FOLDER = path.join(ROOT, 'tests/data/isic-folder20');
const CLI = path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug/lesionlab');
const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

let server, browser, page;

/** The folder's 40 files as { name, mimeType, buffer } (Playwright's file form). */
function folderFiles() {
  return ['images', 'masks'].flatMap((dir) =>
    fs
      .readdirSync(path.join(FOLDER, dir))
      .sort()
      .map((name) => ({
        name,
        mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
        buffer: fs.readFileSync(path.join(FOLDER, dir, name)),
      })),
  );
}

/**
 * `lesionlab eval --json` on the folder. The weights are named so that a binary built in
 * another checkout still reads this one's.
 */
async function cliScores() {
  // In CI `cargo test` has built it before the browser tests.
  if (!fs.existsSync(CLI)) execFileSync('cargo', ['build', '--locked'], { cwd: ROOT, stdio: 'inherit' });
  const args = ['eval', '--model', 'unetpp', '--weights', 'weights/unetpp.safetensors', '--data', FOLDER, '--json'];
  const { stdout } = await promisify(execFile)(CLI, args, { cwd: ROOT, maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}

before(async () => {
  ({ server, browser, page } = await openPage('blank.html'));
  const files = folderFiles().map((f) => ({ name: f.name, type: f.mimeType, b64: f.buffer.toString('base64') }));
  await page.evaluate(async (files) => {
    const { LesionLab } = await import('./www/lesionlab.js');
    window.LesionLab = LesionLab;
    window.folder = files.map(
      (f) => new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }),
    );
  }, files);
});

after(() => closePage({ server, browser }));

test('lab.evaluate on 20 real pairs matches `lesionlab eval`, and names a file it cannot read', async (t) => {
  const cli = cliScores();
  const r = await page.evaluate(async () => {
    const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu' });
    const progress = [];
    const out = await lab.evaluate(folder, { onProgress: (p) => progress.push(p) });
    // A "photo" that is text, with a real mask: skipped by name, while two real pairs are scored.
    const mask = folder.find((f) => f.name.endsWith('_segmentation.png'));
    const bad = [
      new File(['not a photo'], 'ISIC_0099999.jpg', { type: 'image/jpeg' }),
      new File([await mask.arrayBuffer()], 'ISIC_0099999_segmentation.png', { type: 'image/png' }),
    ];
    const two = folder.filter((f) => /ISIC_(0000026|0000140)/.test(f.name));
    const withBad = await lab.evaluate([...two, ...bad], { worst: 0 });
    lab.dispose();
    return {
      count: out.count,
      mean: out.mean,
      names: out.images.map((i) => i.name),
      jaccards: out.images.map((i) => i.jaccard),
      worst: out.worst.map((w) => ({
        name: w.name,
        jaccard: w.jaccard,
        pixels: w.prediction.length,
        w: w.width * w.height,
      })),
      skipped: out.skipped,
      backend: out.backend,
      progress,
      withBad: { count: withBad.count, names: withBad.images.map((i) => i.name), skipped: withBad.skipped },
    };
  });
  const expected = await cli;
  assert.equal(r.count, 20);
  assert.equal(r.backend, 'cpu');
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(
    r.names,
    expected.per_image.map((p) => p.name),
  );
  const gap = Math.abs(r.mean.jaccard - expected.mean.jaccard);
  assert.ok(gap <= 0.002, `mean Jaccard ${r.mean.jaccard} in the page, ${expected.mean.jaccard} from the CLI`);
  assert.ok(Math.abs(r.mean.dice - expected.mean.dice) <= 0.002, `mean Dice ${r.mean.dice} vs ${expected.mean.dice}`);
  const gaps = expected.per_image.map((p, i) => Math.abs(r.jaccards[i] - p.scores.jaccard));
  t.diagnostic(
    `mean Jaccard ${r.mean.jaccard.toFixed(5)} in the page, ${expected.mean.jaccard.toFixed(5)} from the CLI; ` +
      `largest gap on one photo ${Math.max(...gaps).toFixed(5)}`,
  );
  for (const [i, p] of expected.per_image.entries()) {
    assert.ok(Math.abs(r.jaccards[i] - p.scores.jaccard) <= 0.02, `${p.name}: ${r.jaccards[i]} vs ${p.scores.jaccard}`);
  }
  assert.equal(r.progress.length, 20);
  assert.deepEqual(r.progress.at(-1), { done: 20, total: 20, name: r.names.at(-1) });
  assert.deepEqual(
    r.progress.map((p) => p.done),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.equal(r.worst.length, 5);
  const lowest = [...r.jaccards].sort((a, b) => a - b).slice(0, 5);
  assert.deepEqual(
    r.worst.map((w) => w.jaccard),
    lowest,
  );
  for (const w of r.worst) assert.equal(w.pixels, w.w, `${w.name}: one mask value per pixel`);
  assert.equal(r.withBad.count, 2);
  assert.deepEqual(r.withBad.names, ['ISIC_0000026', 'ISIC_0000140']);
  assert.equal(r.withBad.skipped.length, 1, JSON.stringify(r.withBad.skipped));
  assert.match(r.withBad.skipped[0].file, /ISIC_0099999\.jpg$/);
  assert.ok(r.withBad.skipped[0].reason.length > 0);
});

/** Whether a canvas shows more than one colour. */
async function drawn(selector) {
  return page.$eval(selector, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lo = 255,
      hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      lo = Math.min(lo, d[i], d[i + 1], d[i + 2]);
      hi = Math.max(hi, d[i], d[i + 1], d[i + 2]);
    }
    return hi - lo > 50;
  });
}

/** The Jaccard column's numbers, top to bottom. */
function jaccardColumn() {
  return page.$$eval('#eval-table tbody tr', (rows) => rows.map((tr) => Number(tr.cells[1].textContent)));
}

test('the page scores a folder: table, histogram, worst photos, sorting and the CSV', async () => {
  await page.goto(`${server.base}index.html?backend=cpu`, { timeout: 60_000 });
  await page.setInputFiles('#eval-files', folderFiles());
  await page.waitForFunction(() => /20 photo\/mask pair/.test(document.getElementById('eval-found').textContent));
  // Nothing fine-tuned on this page: there is nothing to compare the shipped weights with.
  assert.equal(await page.isDisabled('#eval-compare'), true);
  await page.click('#eval-go');
  await page.waitForSelector('#evaluate[data-state="done"]', { timeout: 240_000 });
  assert.equal(await page.isHidden('#eval-error'), true);
  assert.equal(await page.textContent('#eval-progress-text'), '20 of 20');
  assert.match(
    await page.textContent('#eval-summary-line'),
    /^20 photo\(s\) scored with U-Net\+\+ .* no file skipped\.$/,
  );
  const summary = await page.$$eval('#eval-summary tbody tr', (rows) => rows.map((tr) => tr.cells[0].textContent));
  assert.deepEqual(
    summary.map((s) => s.split(' ')[0]),
    ['Mean', 'Median', 'Pooled'],
  );

  assert.equal(await page.locator('#eval-table tbody tr').count(), 20);
  assert.equal(await page.getAttribute('#eval-table th:first-child', 'aria-sort'), 'ascending');
  assert.ok(await drawn('#eval-histogram'), 'the histogram has bars');
  const label = await page.getAttribute('#eval-histogram', 'aria-label');
  const counts = [...label.matchAll(/: (\d+)(?=,|$)/g)].map((m) => Number(m[1]));
  assert.equal(counts.length, 10, label);
  assert.equal(
    counts.reduce((a, b) => a + b),
    20,
    label,
  );
  await page.waitForFunction(() => document.querySelectorAll('#eval-worst canvas').length === 5);
  for (let i = 1; i <= 5; i++) assert.ok(await drawn(`#eval-worst figure:nth-child(${i}) canvas`), `worst photo ${i}`);

  await page.click('#eval-table th button[data-key="jaccard"]');
  assert.equal(await page.getAttribute('#eval-table th:has(button[data-key="jaccard"])', 'aria-sort'), 'ascending');
  assert.equal(await page.getAttribute('#eval-table th:first-child', 'aria-sort'), null);
  const up = await jaccardColumn();
  assert.equal(up[0], Math.min(...up));
  assert.deepEqual(
    up,
    [...up].sort((a, b) => a - b),
  );
  const worstFirst = await page.textContent('#eval-worst figure:first-child figcaption');
  assert.ok(worstFirst.startsWith(await page.textContent('#eval-table tbody tr:first-child th')), worstFirst);
  // Again: the other way, and the focus stays on the heading's button.
  await page.focus('#eval-table th button[data-key="jaccard"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#eval-table th:has(button[data-key="jaccard"])', 'aria-sort'), 'descending');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.key), 'jaccard');
  const down = await jaccardColumn();
  assert.equal(down[0], Math.max(...down));

  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#eval-csv')]);
  assert.equal(csv.suggestedFilename(), 'lesionlab-eval-unetpp.csv');
  const lines = fs
    .readFileSync(await csv.path(), 'utf8')
    .trimEnd()
    .split('\n');
  assert.equal(lines.length, 21);
  assert.equal(lines[0], 'name,image,mask,jaccard,dice,thresholded_jaccard,sensitivity,specificity,accuracy,ms');
  assert.match(lines[1], /^ISIC_0000026,ISIC_0000026\.jpg,ISIC_0000026_segmentation\.png(,\d+\.\d{4}){7}$/);

  assert.equal(await page.isDisabled('#eval-compare'), true);
  // Evaluated by the test driver, not loaded by the page: the page's CSP allows only its own files.
  await page.evaluate(`${AXE}\n;0`);
  const violations = await page.evaluate(async () =>
    (await window.axe.run('#evaluate')).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  );
  assert.deepEqual(violations, []);
  fs.mkdirSync(OUTPUT, { recursive: true });
  await page.locator('#evaluate').screenshot({ path: path.join(OUTPUT, 'evaluate.png') });
});
