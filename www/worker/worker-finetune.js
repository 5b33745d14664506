// The worker's fine-tuning: the user's files opened (zips included) and paired by the crate's
// rules, the pairs handed to the crate's FineTune, then epochs run one at a time with a
// checkpoint in IndexedDB after each; pause and cancel arrive between steps.

import { fail, messageOf } from '../api/errors.js';
import { CONTROL } from '../api/protocol.js';
import { FINE_TUNE_DEFAULTS } from '../api/rules.js';
import { loadRun, saveRun, updateRun } from '../api/store.js';
import { pairFiles, readEntry } from './files.js';

export { pairFiles } from './files.js';

let fine = null; // the FineTune of the last fine-tuning run
// Pause and cancel arrive while a run is in progress, outside the request queue.
const control = { paused: false, cancel: false, waiters: [] };

/** Pause, resume or cancel the run in progress (messages outside the request queue). */
export function steer(action) {
  if (action === CONTROL.pause) control.paused = true;
  if (action === CONTROL.resume || action === CONTROL.cancel) {
    control.paused = false;
    if (action === CONTROL.cancel) control.cancel = true;
    for (const wake of control.waiters.splice(0)) wake();
  }
}

/** The fine-tuning options among `options` (the crate fills in the defaults and checks them). */
function settingsOf(options) {
  return Object.fromEntries(
    Object.keys(FINE_TUNE_DEFAULTS)
      .filter((k) => options[k] != null)
      .map((k) => [k, options[k]]),
  );
}

// Storage can fail (private windows, a full disk): training goes on, and the page says that
// this run cannot be resumed after a reload.
async function keep(report, save) {
  try {
    await save();
    return true;
  } catch (err) {
    report({ kind: 'warning', message: `${messageOf(err)}; training goes on, but a reload would lose this run` });
    return false;
  }
}

export async function finetune(s, core, { files, options }, report) {
  const ft = new core.FineTune(s, settingsOf(options));
  const settings = ft.settings;
  control.cancel = false;
  control.paused = false;
  const { entries, pairs, skipped } = await pairFiles(core, files);
  const byName = new Map(entries.map((e) => [e.name, e]));
  report({ kind: 'paired', pairs: pairs.length, skipped: [...skipped] });
  for (const [i, [id, image, mask]] of pairs.entries()) {
    if (control.cancel) throw fail('cancelled', 'fine-tuning was cancelled while reading the files');
    let imageBytes, maskBytes;
    try {
      imageBytes = await readEntry(byName.get(image));
    } catch (err) {
      skipped.push({ file: image, reason: `unreadable (${messageOf(err)})` });
      continue;
    }
    try {
      maskBytes = await readEntry(byName.get(mask));
    } catch (err) {
      skipped.push({ file: mask, reason: `unreadable (${messageOf(err)})` });
      continue;
    }
    const bad = ft.addPair(id, image, imageBytes, mask, maskBytes);
    if (bad) skipped.push(bad);
    report({ kind: 'loading', done: i + 1, total: pairs.length });
  }
  const paired = ft.count;
  if (paired === 0) {
    const why = skipped
      .slice(0, 3)
      .map((k) => `${k.file}: ${k.reason}`)
      .join('; ');
    throw fail('bad-argument', `no usable image/mask pair among ${files.length} file(s)${why ? `: ${why}` : ''}`);
  }
  const dataset = ft.datasetBytes().buffer;
  const started = await ft.start();
  const info = {
    model: s.model,
    settings,
    paired,
    skipped,
    before: started.before,
    train: started.train,
    val: started.val,
  };
  await keep(report, () => saveRun({ ...info, dataset, checkpoint: null, history: [], status: 'running' }));
  return trainLoop(ft, info, report);
}

export async function resumeFinetune(s, core, report) {
  const run = await loadRun();
  if (!run) throw fail('bad-argument', 'there is no saved fine-tuning run to resume');
  if (run.model !== s.model)
    throw fail(
      'bad-argument',
      `the saved run fine-tunes '${run.model}': create a LesionLab with that model to resume it`,
    );
  control.cancel = false;
  control.paused = false;
  let ft;
  if (run.checkpoint) {
    ft = core.FineTune.restore(s, new Uint8Array(run.checkpoint), new Uint8Array(run.dataset), run.before ?? null);
  } else {
    // Stopped during the first epoch: start again from the saved pairs.
    ft = new core.FineTune(s, run.settings);
    ft.addDataset(new Uint8Array(run.dataset));
    await ft.start();
  }
  await keep(report, () => updateRun({ status: 'running' }));
  const { model, settings, paired, skipped, before, train, val } = run;
  return trainLoop(ft, { model, settings, paired, skipped, before, train, val }, report);
}

async function trainLoop(ft, info, report) {
  fine = ft;
  // Between steps the worker's event loop runs, so pause and cancel arrive: a message through a
  // channel queues behind any message the page sent during the step (the same task source, in
  // order), so a Pause clicked during a step takes effect right after it. Paused, it waits, and
  // says where.
  const yieldToMessages = () =>
    new Promise((/** @type {(value?: unknown) => void} */ done) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        done();
      };
      channel.port2.postMessage(null);
    });
  const between = async () => {
    await yieldToMessages();
    if (!control.paused) return control.cancel;
    if (lastStep) report({ ...lastStep, kind: 'paused' });
    await new Promise((wake) => control.waiters.push(wake));
    return control.cancel;
  };
  let lastStep = null;
  const onProgress = (p) => {
    if (p.kind === 'step') lastStep = p;
    report(p.kind === 'epoch' && lastStep ? { ...lastStep, ...p } : p);
    return control.cancel;
  };
  let outcome;
  for (;;) {
    outcome = await ft.run(onProgress, between);
    if (outcome === 'cancelled') break;
    const history = ft.history();
    const checkpoint = (await ft.checkpoint()).buffer;
    if (await keep(report, () => updateRun({ checkpoint, history }))) report({ kind: 'saved', epoch: history.length });
    if (outcome === 'finished') break;
  }
  if (outcome === 'finished') ft.apply();
  await keep(report, () => updateRun({ status: outcome }));
  return { result: { ...info, outcome, history: ft.history() } };
}

/** Before/after masks of the last run's validation pairs. */
export async function preview(n) {
  if (!fine) throw fail('bad-argument', 'no fine-tuning run in this session');
  return fine.preview(n);
}
