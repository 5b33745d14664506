// The worker's evaluation: a folder (or the official zips) of photos and expert masks paired by
// the crate's rules, each pair scored by the crate's Evaluation (the code of `lesionlab eval`),
// and the worst photos kept with their masks for the page's overlays.

import { fail, messageOf } from '../api/errors.js';
import { pairFiles, readEntry } from './files.js';

/** Errors that stop the whole evaluation rather than skip one pair. */
const FATAL = ['internal', 'device', 'weights', 'cancelled'];

/** Keeps the `n` lowest-Jaccard items of `kept` (a short list, sorted worst first). */
function keepWorst(kept, item, n) {
  kept.push(item);
  kept.sort((a, b) => a.row.jaccard - b.row.jaccard);
  kept.length = Math.min(kept.length, n);
}

/** A file's bytes as a Blob the page can draw. */
async function blobOf(entry) {
  const type = /\.png$/i.test(entry.name) ? 'image/png' : 'image/jpeg';
  return new Blob([await entry.read()], { type });
}

/**
 * Scores every pair among `files` with session `s` and segment `options`, reporting `{ done,
 * total, name }` after each. Resolves to the result of `lab.evaluate` and the buffers to transfer.
 */
export async function evaluate(s, core, { files, options, worst }, report) {
  const { entries, pairs, skipped } = await pairFiles(core, files);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const evaluation = new core.Evaluation();
  const images = [];
  const kept = [];
  try {
    for (const [i, [id, image, mask]] of pairs.entries()) {
      const t0 = performance.now();
      try {
        const imageBytes = await readEntry(byName.get(image));
        const maskBytes = await readEntry(byName.get(mask));
        const r = await evaluation.scorePair(s, imageBytes, image, maskBytes, mask, options);
        const row = { name: id, image, mask, ...r.scores, ms: performance.now() - t0 };
        images.push(row);
        keepWorst(kept, { row, prediction: r.mask, width: r.width, height: r.height }, worst);
      } catch (err) {
        if (FATAL.includes(/** @type {any} */ (err)?.kind)) throw err;
        skipped.push({ file: image, reason: messageOf(err) });
      }
      report({ done: i + 1, total: pairs.length, name: id });
    }
    const summary = evaluation.summary();
    if (!summary) {
      const why = skipped
        .slice(0, 3)
        .map((k) => `${k.file}: ${k.reason}`)
        .join('; ');
      throw fail(
        'bad-argument',
        `no image/mask pair could be scored among ${files.length} file(s)${why ? `: ${why}` : ''}`,
      );
    }
    const worstOut = [];
    for (const k of kept) {
      const { name, image, mask, jaccard } = k.row;
      const [photo, truth] = await Promise.all([blobOf(byName.get(image)), blobOf(byName.get(mask))]);
      worstOut.push({ name, jaccard, width: k.width, height: k.height, prediction: k.prediction, photo, truth });
    }
    return {
      result: { images, ...summary, skipped, worst: worstOut },
      transfer: worstOut.map((w) => w.prediction.buffer),
    };
  } finally {
    evaluation.free();
  }
}
