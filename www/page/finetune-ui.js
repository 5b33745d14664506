// The page's fine-tuning section: files in, settings, live curves, pause/resume/cancel, resume
// after a reload, before/after view, metrics table, weights download and "segment with these".
// State for tests and styles: document.body.dataset.tune = idle | training | paused | done |
// cancelled | error.

import { correctionFiles, countCorrections, forgetCorrections } from './corrections.js';
import { LesionLab } from '../api/lesionlab.js';
import { drawTrainingChart } from './finetune-chart.js';
import { download, overlay, show, showSkipped } from './render.js';
import { FINE_TUNE_FORM, FINE_TUNE_LIMITS, MODELS } from '../api/rules.js';

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);
const NAMES = Object.fromEntries(MODELS.map((m) => [m.id, m.name]));

let files = [];
let pairsFound = 0; // pairs among `files` by name; Start needs at least one
let lab = null; // the LesionLab that trains (its own session in the page's worker: the page segments between its steps)
let steps = []; // { epoch, step, steps, loss, t }
let epochs = []; // history records
let started = 0;

function tuneState(state) {
  document.body.dataset.tune = state;
  const busy = state === 'training' || state === 'paused';
  // The settings of a run in progress are its own: not editable until it ends.
  $('tune-settings').disabled = busy;
  $('tune-go').disabled = busy || pairsFound === 0;
  $('tune-pause').disabled = !busy;
  $('tune-cancel').disabled = !busy;
  $('tune-pause').textContent = state === 'paused' ? 'Resume' : 'Pause';
}

function say(text) {
  $('tune-status').textContent = text;
}

function settings() {
  return {
    epochs: Number($('tune-epochs').value),
    batchSize: Number($('tune-batch').value),
    lr: Number($('tune-lr').value),
    size: Number($('tune-size').value),
    valFraction: Number($('tune-val').value),
    augment: $('tune-augment').checked,
  };
}

// Pairs by name with the crate's rules at once (zips opened, nothing decoded); what the worker
// later finds unreadable or of the wrong size is added when training reads the files.
async function takeFiles(list) {
  files = [...list];
  // The settings show once there is something to train on (before, they only take room).
  $('tune-more').open = true;
  pairsFound = 0;
  tuneState(
    document.body.dataset.tune === 'training' || document.body.dataset.tune === 'paused'
      ? document.body.dataset.tune
      : 'idle',
  );
  if (lab && lab.model !== $('tune-model').value) {
    lab.dispose();
    lab = null;
  }
  if (document.body.dataset.tune === 'training' || document.body.dataset.tune === 'paused') {
    $('tune-found').textContent = `${files.length} file(s) chosen; they are read when the next run starts.`;
    return;
  }
  $('tune-found').textContent = `${files.length} file(s): pairing them…`;
  try {
    // Names only: no model is loaded for this.
    const found = await LesionLab.pairFiles(files);
    const inside = found.files !== files.length ? ` (${found.files} files with the zips' contents)` : '';
    pairsFound = found.pairs;
    $('tune-found').textContent = found.pairs
      ? `${files.length} file(s)${inside}: ${found.pairs} photo/mask pair(s). Start to read and check them.`
      : `${files.length} file(s)${inside}: no photo/mask pair. A photo NAME.jpg needs a mask named NAME_segmentation.png or NAME_mask.png.`;
    showSkipped('tune', found.skipped);
    tuneState(document.body.dataset.tune);
  } catch (err) {
    $('tune-found').textContent = `Cannot read these files: ${err.message}`;
  }
}

function eta(p) {
  const recent = steps.slice(-20);
  if (recent.length < 2) return '';
  const perStep = (recent[recent.length - 1].t - recent[0].t) / (recent.length - 1);
  const total = Number($('tune-epochs').value) || p.epoch;
  const left = p.steps - p.step + (total - p.epoch) * p.steps;
  const s = Math.round((left * perStep) / 1000);
  return s > 0 ? `, about ${s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`} left` : '';
}

function onProgress(p) {
  if (p.kind === 'paired') {
    $('tune-found').textContent = `${p.pairs} pair(s) found; reading them…`;
    showSkipped('tune', p.skipped);
  } else if (p.kind === 'loading') {
    say(`Reading and checking pair ${p.done} of ${p.total}…`);
  } else if (p.kind === 'step') {
    steps.push({ ...p, t: performance.now() });
    // Paused, the line keeps saying so: a step that was running when Pause came still reports.
    if (document.body.dataset.tune !== 'paused')
      say(`Epoch ${p.epoch}, step ${p.step} of ${p.steps}: loss ${p.loss.toFixed(4)}${eta(p)}`);
    drawChart();
  } else if (p.kind === 'paused') {
    say(`Paused after epoch ${p.epoch}, step ${p.step} of ${p.steps}. Resume goes on from there.`);
  } else if (p.kind === 'validating') {
    say(`Epoch ${p.epoch}: validating…`);
  } else if (p.kind === 'epoch') {
    epochs.push(p);
    drawChart();
  } else if (p.kind === 'saved') {
    say(`Epoch ${p.epoch} done and saved in this browser.`);
  } else if (p.kind === 'warning') {
    $('tune-found').textContent = `Warning: ${p.message}.`;
  }
}

function drawChart() {
  const canvas = $('tune-chart');
  canvas.hidden = false;
  drawTrainingChart(canvas, steps, epochs, Number($('tune-epochs').value) || 1);
}

function fmt(v) {
  return v == null ? '–' : v.toFixed(4);
}

/**
 * What the validation pairs say of the new weights, in words: worse (the page then advises the
 * shipped ones), better, or nothing (no validation pair: with fewer than five pairs every one is
 * trained on, so there is nothing to measure the new weights on).
 */
function verdict(run, last) {
  if (!run.val) {
    return {
      worse: false,
      text:
        'No validation pairs: with so few pairs every one was used for training, so nothing measures ' +
        'the new weights. The images below are training images: they show what the model learnt, not how it does on new photos.',
    };
  }
  const [before, after] = [run.before?.valDice, last.valDice];
  if (before == null || after == null) return { worse: false, text: '' };
  if (after < before) {
    return {
      worse: true,
      text:
        `The fine-tuned weights do worse on your validation pairs (Dice ${before.toFixed(4)} → ${after.toFixed(4)}). ` +
        'Keep the shipped weights, or train again with more pairs, fewer epochs or a lower learning rate.',
    };
  }
  return { worse: false, text: '' };
}

async function showAfter(run) {
  const last = run.history[run.history.length - 1] ?? {};
  const { worse, text } = verdict(run, last);
  $('tune-verdict').hidden = !text;
  $('tune-verdict').textContent = text;
  $('tune-use').textContent = worse ? 'Segment with these weights anyway' : 'Segment with these weights';
  $('tune-preview-heading').textContent = run.val
    ? 'Before and after, on validation images'
    : 'Before and after, on training images';
  const rows = [
    ['Starting weights', run.before ?? {}],
    ['Fine-tuned weights', last],
  ];
  $('tune-table').tBodies[0].replaceChildren(
    ...rows.map(([name, r]) => {
      const tr = document.createElement('tr');
      for (const v of [name, fmt(r.valLoss), fmt(r.valIoU), fmt(r.valDice)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }),
  );
  const items = await lab.finetunePreview(4);
  $('tune-preview').replaceChildren(
    ...items.map((item) => {
      const photo = new ImageData(new Uint8ClampedArray(item.rgba), item.size, item.size);
      const figure = document.createElement('figure');
      for (const [mask, label] of [
        [item.before, 'starting'],
        [item.after, 'fine-tuned'],
      ]) {
        const canvas = document.createElement('canvas');
        show(canvas, overlay(photo, mask, { opacity: 0.35, truth: item.truth }));
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', `${item.id}, ${label} weights`);
        figure.append(canvas);
      }
      const caption = document.createElement('figcaption');
      caption.textContent = item.id;
      figure.append(caption);
      return figure;
    }),
  );
  $('tune-after').hidden = false;
}

async function train(start, earlier = []) {
  steps = [];
  epochs = earlier;
  started = performance.now();
  $('tune-after').hidden = true;
  tuneState('training');
  try {
    const run = await start();
    epochs = run.history.map((h) => ({ ...h }));
    showSkipped('tune', run.skipped);
    $('tune-found').textContent = `${run.paired} pair(s) used: ${run.train} for training, ${run.val} for validation.`;
    drawChart();
    if (run.outcome === 'cancelled') {
      tuneState('cancelled');
      const done = run.history.length;
      say(
        done
          ? `Cancelled. Epoch ${done}, the last one finished, stays saved in this browser: resume it below.`
          : 'Cancelled during the first epoch: no epoch finished, so there is nothing to resume.',
      );
      if (done) offerResume();
      return;
    }
    await showAfter(run);
    tuneState('done');
    const seconds = (performance.now() - started) / 1000;
    const took = seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`;
    say(
      `Done: ${run.history.length} epoch(s), this session's part in ${took} on ${lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}.`,
    );
  } catch (err) {
    tuneState('error');
    say(
      `Stopped: ${err.message}${err.kind === 'internal' ? ' If the page ran out of memory, try a smaller batch size or input size.' : ''}`,
    );
    offerResume();
  }
}

async function trainingLab(model) {
  lab?.dispose();
  lab = null;
  lab = await LesionLab.create({ model, backend: $('backend').value });
  return lab;
}

/** A new run on the chosen files, with the form's settings and `overrides`. */
async function startFresh(overrides = {}) {
  const model = $('tune-model').value;
  say(`Loading ${NAMES[model]}…`);
  try {
    await trainingLab(model);
    if ($('tune-start').value === 'file') {
      const file = $('tune-weights').files[0];
      if (!file) throw new Error('choose a weights file, or start from the shipped weights');
      await lab.loadWeights(file);
    }
  } catch (err) {
    tuneState('error');
    say(`Cannot start: ${err.message}`);
    return;
  }
  $('resume-offer').hidden = true;
  await train(() => lab.finetune(files, { ...settings(), ...overrides, onProgress }));
}

async function offerResume() {
  let run;
  try {
    run = await LesionLab.savedRun();
  } catch {
    return;
  }
  // A run stopped by a reload or a crash ('running'), or cancelled after an epoch finished.
  const resumable = run && (run.status === 'running' || (run.status === 'cancelled' && run.history.length > 0));
  if (!resumable || ['training', 'paused'].includes(document.body.dataset.tune)) return;
  const done = run.history.length;
  $('resume-text').textContent =
    `A fine-tuning run of ${NAMES[run.model]} (${run.paired} pairs, ${run.settings.size} px) stopped ` +
    `${done ? `after epoch ${done} of ${run.settings.epochs}` : 'during its first epoch'}. Resume it?`;
  $('resume-offer').hidden = false;
  $('resume-run').onclick = async () => {
    $('resume-offer').hidden = true;
    $('tune-model').value = run.model;
    $('tune-epochs').value = run.settings.epochs;
    $('tune-batch').value = run.settings.batchSize;
    $('tune-lr').value = run.settings.lr;
    $('tune-size').value = String(run.settings.size);
    $('tune-val').value = run.settings.valFraction;
    $('tune-augment').checked = run.settings.augment;
    say(`Resuming the ${NAMES[run.model]} run…`);
    try {
      await trainingLab(run.model);
    } catch (err) {
      say(`Cannot resume: ${err.message}`);
      return;
    }
    await train(
      () => lab.resumeFinetune({ onProgress }),
      run.history.map((e) => ({ ...e })),
    );
  };
  $('discard-run').onclick = async () => {
    await LesionLab.discardSavedRun();
    $('resume-offer').hidden = true;
  };
}

// "My corrections" (masks corrected on the page, kept in IndexedDB): shown when there are some,
// trained on with one click.
async function showCorrections() {
  const count = await countCorrections().catch(() => 0);
  $('corrections').hidden = count === 0;
  $('corrections-text').textContent =
    `My corrections: ${count} photo(s) with masks you corrected on this page, kept in this ` +
    'browser. Fine-tune the model on them to teach it what you fixed.';
}

async function trainOnCorrections() {
  if (['training', 'paused'].includes(document.body.dataset.tune)) return;
  const button = $('corrections-train');
  button.disabled = true; // one run per click, even while the corrections are read
  try {
    await takeFiles(await correctionFiles());
    // A handful of pairs cannot spare a validation share: train on every one.
    if (pairsFound > 0) await startFresh(pairsFound < 5 ? { valFraction: 0 } : {});
  } catch (err) {
    say(`Cannot read my corrections: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

/** The form's starting values and limits, the crate's (rules.js). */
function fillForm() {
  const fields = { epochs: 'tune-epochs', batchSize: 'tune-batch', lr: 'tune-lr', valFraction: 'tune-val' };
  for (const [key, id] of Object.entries(fields)) {
    [$(id).min, $(id).max] = FINE_TUNE_LIMITS[key].map(String);
    $(id).value = FINE_TUNE_FORM[key];
  }
  $('tune-size').value = FINE_TUNE_FORM.size;
  $('tune-augment').checked = FINE_TUNE_FORM.augment;
}

/** Wires the section. `useWeights(model, bytes)` makes the page segment with `bytes`. */
export function setupFineTune({ useWeights }) {
  fillForm();
  $('tune-model').value = ($('model').value || 'unetpp').split('-')[0];
  $('tune-files').addEventListener('change', (e) => takeFiles(e.target.files));
  $('tune-folder').addEventListener('change', (e) => takeFiles(e.target.files));
  const drop = $('tune-drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    takeFiles(e.dataTransfer.files);
  });
  $('tune-start').addEventListener('change', () => {
    $('tune-weights-field').hidden = $('tune-start').value !== 'file';
  });
  $('tune-go').addEventListener('click', () => startFresh());
  $('tune-pause').addEventListener('click', () => {
    if (document.body.dataset.tune === 'paused') {
      lab.resumeTraining();
      tuneState('training');
      say('Going on…');
    } else {
      lab.pauseTraining();
      tuneState('paused');
      say('Pausing after the step in progress…');
    }
  });
  $('tune-cancel').addEventListener('click', () => {
    lab.cancelTraining();
    say('Cancelling after the current step…');
  });
  $('tune-download').addEventListener('click', async () => {
    const bytes = await lab.exportWeights();
    download(new Blob([bytes], { type: 'application/octet-stream' }), `${lab.model}-finetuned.safetensors`);
  });
  $('tune-use').addEventListener('click', async () => {
    const model = lab.model;
    await useWeights(model, await lab.exportWeights());
    say(`The page now segments with the fine-tuned ${NAMES[model]}.`);
    $('tune-revert-text').textContent = `The page segments with your fine-tuned ${NAMES[model]}.`;
    $('tune-revert').dataset.model = model;
    $('tune-revert-box').hidden = false;
  });
  $('tune-revert').addEventListener('click', async () => {
    const model = $('tune-revert').dataset.model;
    await useWeights(model, null);
    $('tune-revert-box').hidden = true;
    say(`The page segments with the shipped ${NAMES[model]} again.`);
  });
  $('corrections-train').addEventListener('click', trainOnCorrections);
  $('corrections-clear').addEventListener('click', async () => {
    try {
      await forgetCorrections();
    } catch (err) {
      say(`Cannot forget my corrections: ${err.message}`);
    }
    await showCorrections();
  });
  document.addEventListener('lesionlab:corrections', showCorrections);
  tuneState('idle');
  offerResume();
  showCorrections();
}
