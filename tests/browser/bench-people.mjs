// The benchmark of the camera and of scoring a folder (not a test): frames per second of live
// masks from Chromium's fake 640x480 camera (a video of a real photo), one thread and every
// thread, and the wall time per image of `lab.evaluate` against `lesionlab eval` on the same
// folder, both on one thread. Prints Markdown tables.
// Usage: pkg-scripts/bench-people [FOLDER] (default: the first 100 pairs of the wide-field
// development set, pkg-scripts/dev-sets); BENCH_PARTS=live,evaluate; FRAMES=N live frames.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, open, ROOT, serve } from './harness.mjs';
import { cameraVideo } from './camera.mjs';

const PARTS = (process.env.BENCH_PARTS || 'live,evaluate').split(',');
const FRAMES = Number(process.env.FRAMES || 40);
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');

/** Live frames per second with `threads` threads (an isolated page for more than one). */
async function liveFps(camera, threads, mode) {
  const server = await serve({ isolated: threads > 1 });
  const browser = await launch({ camera });
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    return await page.evaluate(
      async ({ threads, frames, mode }) => {
        const { LesionLab } = await import('./www/api/lesionlab.js');
        const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu', threads });
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
        const times = [];
        let done;
        const finished = new Promise((resolve) => {
          done = resolve;
        });
        const live = await lab.live(stream, {
          ...mode,
          onResult: (r) => {
            times.push({ at: performance.now(), model: r.ms.model });
            r.frame.close();
            if (times.length === frames) done();
          },
        });
        await finished;
        await live.stop();
        // The first five frames warm up.
        const kept = times.slice(5);
        const fps = (1000 * (kept.length - 1)) / (kept[kept.length - 1].at - kept[0].at);
        const model = kept.map((t) => t.model).sort((a, b) => a - b)[Math.floor(kept.length / 2)];
        return { fps, model, threads: lab.threads };
      },
      { threads, frames: FRAMES, mode },
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

async function printLive() {
  const photo = path.join(ROOT, 'tests/data/isic-fixture/ISIC2018_Task1-2_Training_Input/ISIC_0000122.jpg');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-bench-camera-'));
  const camera = await cameraVideo(photo, path.join(dir, 'camera.y4m'));
  console.log('\n### Live camera (640x480, U-Net++, CPU path)\n');
  console.log('| live mode | threads | frames per second | model ms per frame (median) |');
  console.log('|---|---:|---:|---:|');
  const modes = [
    ['quick look: the quick-start file, head 2 alone at 128x128, one pass (the default)', {}],
    ['deepest head of the whole weights at 176x176, one pass', { mode: 'head', level: 4 }],
  ];
  for (const [name, mode] of modes) {
    for (const threads of [1, os.availableParallelism()]) {
      const r = await liveFps(camera, threads, mode);
      console.log(`| ${name} | ${r.threads} | ${r.fps.toFixed(1)} | ${r.model.toFixed(0)} |`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The folder's files as Playwright file payloads. */
function folderFiles(folder) {
  const out = [];
  for (const name of fs.readdirSync(folder).sort()) {
    if (!/\.(jpe?g|png)$/i.test(name)) continue;
    out.push({
      name,
      mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
      buffer: fs.readFileSync(path.join(folder, name)),
    });
  }
  return out;
}

async function printEvaluate() {
  const source = process.argv[2] ?? path.join(os.homedir(), '.cache/lesionlab/devsets/wide-field');
  // The first 100 pairs, in a folder of their own so that both sides see the same files.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-bench-folder-'));
  const photos = fs
    .readdirSync(source)
    .filter((n) => /^ISIC_\d{7}\.jpg$/.test(n))
    .sort()
    .slice(0, 100);
  for (const p of photos) {
    fs.copyFileSync(path.join(source, p), path.join(dir, p));
    const mask = p.replace('.jpg', '_segmentation.png');
    fs.copyFileSync(path.join(source, mask), path.join(dir, mask));
  }
  const cli = path.join(TARGET, 'release/lesionlab');
  if (!fs.existsSync(cli)) execFileSync('cargo', ['build', '--release', '--locked'], { stdio: 'inherit', cwd: ROOT });
  const t0 = performance.now();
  const out = execFileSync(cli, ['eval', '--model', 'unetpp', '--data', dir, '--json'], {
    env: { ...process.env, RAYON_NUM_THREADS: '1' },
    maxBuffer: 1 << 26,
  });
  const cliMs = performance.now() - t0;
  const cliMean = JSON.parse(out.toString()).mean.jaccard;

  const server = await serve();
  const browser = await launch();
  try {
    const page = await open(browser.context, `${server.base}blank.html`);
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'file';
      input.multiple = true;
      input.id = 'files';
      document.body.append(input);
    });
    await page.setInputFiles('#files', folderFiles(dir));
    const r = await page.evaluate(async () => {
      const { LesionLab } = await import('./www/api/lesionlab.js');
      const lab = await LesionLab.create({ model: 'unetpp', backend: 'cpu' });
      const files = [...document.getElementById('files').files];
      const t0 = performance.now();
      const result = await lab.evaluate(files);
      return { ms: performance.now() - t0, count: result.count, mean: result.mean.jaccard, threads: lab.threads };
    });
    console.log(`\n### Scoring a folder (${r.count} pairs of ${path.basename(source)}, U-Net++, one thread)\n`);
    console.log('| | wall ms per image | mean Jaccard |');
    console.log('|---|---:|---:|');
    console.log(
      `| \`lesionlab eval\` (native, RAYON_NUM_THREADS=1) | ${(cliMs / photos.length).toFixed(0)} | ${cliMean.toFixed(4)} |`,
    );
    console.log(
      `| \`lab.evaluate\` (page, CPU path, ${r.threads} thread) | ${(r.ms / r.count).toFixed(0)} | ${r.mean.toFixed(4)} |`,
    );
    console.log(`\npage / CLI: ${(r.ms / r.count / (cliMs / photos.length)).toFixed(2)}x`);
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (PARTS.includes('live')) await printLive();
if (PARTS.includes('evaluate')) await printEvaluate();
