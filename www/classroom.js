// Classroom mode (`?present=1`): one sample at a time in large type for a projector (1280x720),
// the photo and the three models side by side, revealed step by step: photo → the expert's
// outline → each model's mask → where the models disagree → what U-Net++ looks at. Keys: → or
// Space (or a presenter's clicker) next step, then the next sample; ← back; ↑ ↓ another sample;
// 1-6 a sample. The models run ahead while the class looks at the photo.
//
// For tests: the section carries data-sample, data-step (the step's name) and data-ready
// ('true' once the step is drawn).

import { LesionLab } from './lesionlab.js';
import { dice, heatmapOverlay, maskOf, overlay, photoPixels, show } from './render.js';
import { MASK_SUFFIXES, MODELS } from './rules.js';

// How each network works, in one sentence for the class.
const IDEAS = {
  unet: 'an encoder shrinks the photo to see the whole lesion, a decoder grows it back, and skip connections carry the fine detail across.',
  unetpp: 'U-Net with nested skip paths between encoder and decoder, trained with four outputs of growing depth; the mask shown is the deepest one\'s.',
  pspnet: 'pools its features over 1, 2, 3 and 6 regions, so it sees the layout of the photo at four scales at once.',
};
const NETWORKS = MODELS.map((m) => ({ ...m, idea: IDEAS[m.id] }));
// How long a photo stays on screen before the models start on it.
const DWELL_MS = 400;
const STEPS = ['photo', 'expert', 'unet', 'unetpp', 'pspnet', 'uncertainty', 'explanation'];
const TITLES = {
  photo: 'The photo',
  expert: "The dermatologist's outline",
  unet: "U-Net's mask",
  unetpp: "U-Net++'s mask",
  pspnet: "PSPNet's mask",
  uncertainty: 'Where the models disagree',
  explanation: 'What U-Net++ looks at',
};

const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};

function layout() {
  const panel = (id, name) => {
    const canvas = el('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${name}: not shown yet`);
    const figure = el('figure', { className: 'cl-panel' }, canvas, el('figcaption', { textContent: name }));
    figure.dataset.panel = id;
    return figure;
  };
  const back = el('button', { type: 'button', textContent: '◀ Back', id: 'cl-back' });
  const next = el('button', { type: 'button', textContent: 'Next ▶', id: 'cl-next' });
  const other = el('button', { type: 'button', textContent: 'Next photo ▼', id: 'cl-sample' });
  const leave = el('a', { textContent: 'Leave classroom mode', href: location.pathname });
  const yours = el('input', { type: 'file', multiple: true, accept: 'image/jpeg,image/png', className: 'visually-hidden', id: 'cl-files' });
  const add = el('label', { className: 'button', textContent: 'Your photos…' }, yours);
  const section = el('section', { id: 'classroom', className: 'classroom' },
    el('div', { className: 'cl-top' },
      el('h1', { id: 'cl-title' }),
      el('p', { id: 'cl-step', role: 'status' }),
      el('nav', { className: 'cl-nav' }, back, next, other, add, leave)),
    el('div', { className: 'cl-panels' }, panel('stage', 'Photo'), ...NETWORKS.map((m) => panel(m.id, m.name))),
    el('p', { id: 'cl-text', className: 'cl-text' }),
    el('p', { className: 'cl-keys', textContent: '→ or Space: next  ·  ←: back  ·  ↑ ↓: another photo  ·  1–6: photo 1 to 6  ·  for teaching, not diagnosis' }));
  section.setAttribute('aria-label', 'Classroom mode');
  // The page's own <main> is hidden in classroom mode: this is the one main landmark now.
  section.setAttribute('role', 'main');
  return { section, back, next, other, yours };
}

/**
 * The teacher's own photos as classroom samples: each photo (NAME.jpg or .png) with its expert
 * mask when one is among the files (NAME_segmentation.png or NAME_mask.png, the crate's names,
 * MASK_SUFFIXES), first in the order chosen.
 */
export function ownSamples(files) {
  const stem = (name) => name.replace(/\.[^.]*$/, '');
  const masks = new Map();
  const photos = [];
  for (const file of files) {
    const base = stem(file.name);
    const suffix = MASK_SUFFIXES.find((s) => base.toLowerCase().endsWith(s));
    if (suffix && /\.png$/i.test(file.name)) masks.set(base.slice(0, -suffix.length).toLowerCase(), file);
    else if (/\.(jpe?g|png)$/i.test(file.name)) photos.push(file);
  }
  return photos.map((file) => ({
    id: `yours:${file.name}`, label: file.name, photo: file, truth: masks.get(stem(file.name).toLowerCase()) ?? null,
  }));
}

/** Starts classroom mode on `samples` ([{ id, label }]), at `first` (an id) or the first. */
export function startClassroom({ samples: shipped, first, backend = 'auto' }) {
  document.body.classList.add('present');
  const { section, back, next, other, yours } = layout();
  // The shipped samples (www/samples, with their expert masks), or the teacher's own first.
  let samples = shipped.map((s) => ({ ...s, photo: `www/samples/${s.id}.jpg`, truth: `www/samples/${s.id}_segmentation.png` }));
  document.body.append(section);
  const $ = (id) => section.querySelector(`#${id}`);
  const panels = Object.fromEntries([...section.querySelectorAll('.cl-panel')].map((f) => [f.dataset.panel, f]));
  const labs = new Map();
  const lab = (model) => {
    if (!labs.has(model)) {
      const created = LesionLab.create({ model, backend });
      labs.set(model, created);
      created.catch(() => labs.delete(model)); // the next step tries again
    }
    return labs.get(model);
  };
  const photos = new Map(); // sample id -> { blob, pixels, truth }, Promises made once
  const answers = new Map(); // sample id -> the models' answers, Promises made once

  // A sample's photo and expert mask (null when the teacher gave none): cheap, read as soon as
  // the sample shows.
  const blobOf = (source) => (typeof source === 'string' ? fetch(source).then((r) => r.blob()) : Promise.resolve(source));
  function photoOf(id) {
    if (!photos.has(id)) {
      const sample = samples.find((s) => s.id === id);
      const blob = blobOf(sample.photo);
      const pixels = blob.then(photoPixels);
      const truth = sample.truth ? blobOf(sample.truth).then(photoPixels).then(maskOf) : Promise.resolve(null);
      photos.set(id, { blob, pixels, truth });
      Promise.all([pixels, truth]).catch(() => photos.delete(id)); // opened again, fetched again
    }
    return photos.get(id);
  }

  // A sample's answers, computed once and in the order they show: the three masks, where they
  // disagree, Grad-CAM. A failure shows on its step, and the sample is computed afresh when it is
  // opened again.
  function answersOf(id) {
    if (answers.has(id)) return answers.get(id);
    const { blob } = photoOf(id);
    const masks = {};
    let chain = Promise.resolve();
    for (const m of NETWORKS) {
      masks[m.id] = chain = chain.then(async () => (await lab(m.id)).segment(await blob));
    }
    const uncertainty = chain.then(async () => (await lab('unetpp')).uncertainty(await blob, { method: 'models' }));
    const gradcam = uncertainty.then(async () => (await lab('unetpp')).explain(await blob, { method: 'gradcam' }));
    const data = { masks, uncertainty, gradcam };
    Promise.all([...Object.values(masks), uncertainty, gradcam]).catch(() => answers.delete(id));
    answers.set(id, data);
    return data;
  }

  let index = Math.max(0, samples.findIndex((s) => s.id === first));
  let step = 0;
  let drawn = 0; // the draw the screen waits for

  const label = (panel, text) => {
    panels[panel].querySelector('figcaption').textContent = text;
    panels[panel].querySelector('canvas').setAttribute('aria-label', text);
  };
  const blank = (panel, name) => {
    const canvas = panels[panel].querySelector('canvas');
    canvas.width = canvas.height = 0;
    panels[panel].classList.add('cl-hidden');
    label(panel, `${name}: ?`);
  };

  async function draw() {
    const mine = ++drawn;
    const sample = samples[index];
    const name = STEPS[step];
    section.dataset.sample = sample.id;
    section.dataset.step = name;
    section.dataset.ready = 'false';
    $('cl-title').textContent = `${sample.label}`;
    $('cl-step').textContent = `Photo ${index + 1} of ${samples.length} (${sample.id}) · step ${step + 1} of ${STEPS.length}: ${TITLES[name]}`;
    back.disabled = step === 0 && index === 0;
    const photo = photoOf(sample.id);
    // The models start on a photo the class stays on (not on each one skipped past with ↓), and
    // on the next photo during the last step.
    setTimeout(() => samples[index].id === sample.id && answersOf(sample.id), DWELL_MS);
    if (step === STEPS.length - 1) answersOf(samples[(index + 1) % samples.length].id);
    try {
      const [pixels, truth] = await Promise.all([photo.pixels, photo.truth]);
      if (mine !== drawn) return;
      const stage = panels.stage.querySelector('canvas');
      const withTruth = step >= 1 ? truth : null;
      let text;
      if (name === 'uncertainty') {
        $('cl-text').textContent = 'Running the three models on the photo…';
        const u = await answersOf(sample.id).uncertainty;
        if (mine !== drawn) return;
        show(stage, heatmapOverlay(pixels, u.spread.map((v) => Math.min(1, 2 * v)), 0.6));
        label('stage', `Disagreement: ${(u.disagreement * 100).toFixed(1)}% of the photo`);
        text = `Red where the three models give different lesion probabilities, blue where they agree: they disagree about the `
          + `mask on ${(u.disagreement * 100).toFixed(1)}% of the photo. Disagreement marks the hard parts, often the border.`;
      } else if (name === 'explanation') {
        $('cl-text').textContent = 'Computing Grad-CAM…';
        const h = await answersOf(sample.id).gradcam;
        if (mine !== drawn) return;
        show(stage, heatmapOverlay(pixels, h.heatmap, 0.55));
        label('stage', `Grad-CAM of U-Net++ at layer ${h.layer}`);
        text = "Grad-CAM: red where the features that raise U-Net++'s lesion score are. It shows what the model uses, "
          + 'not why a lesion would be dangerous. That needs a doctor.';
      } else {
        show(stage, overlay(pixels, new Uint8Array(pixels.width * pixels.height), { truth: withTruth }));
        label('stage', withTruth ? "Photo with the dermatologist's outline (dashed)" : 'Photo');
        const where = sample.id.startsWith('yours:') ? 'Your photo.' : 'A dermoscopy photo from ISIC 2018, which the models never saw in training.';
        if (name === 'photo') text = `${where} Where does the lesion end? Decide before the next step.`;
        else if (truth) text = "A dermatologist's outline (white and black dashes): the answer each model is scored against.";
        else text = 'No expert outline was given with this photo: the models\' masks follow, without a score.';
      }
      for (const [k, m] of NETWORKS.entries()) {
        const revealed = step >= 2 + k;
        if (!revealed) {
          blank(m.id, m.name);
          continue;
        }
        if (name === m.id) $('cl-text').textContent = `Running ${m.name}…`;
        const r = await answersOf(sample.id).masks[m.id];
        if (mine !== drawn) return;
        panels[m.id].classList.remove('cl-hidden');
        show(panels[m.id].querySelector('canvas'), overlay(pixels, r.mask, { opacity: 0, truth }));
        const score = truth ? dice(r.mask, truth) : null;
        const scored = score === null ? '' : `: Dice ${score.toFixed(2)}`;
        label(m.id, `${m.name}${scored}`);
        if (name === m.id) {
          // The step's own picture, large: the model's mask over the photo, the expert's outline dashed.
          show(stage, overlay(pixels, r.mask, { opacity: 0, truth }));
          label('stage', truth ? `${m.name}'s mask (the expert's outline dashed)${scored}` : `${m.name}'s mask`);
          text = `${m.name}: ${m.idea}${score === null ? '' : ` Dice ${score.toFixed(2)} against the expert (1 would be the same outline).`}`;
        }
      }
      $('cl-text').textContent = text;
      section.dataset.ready = 'true';
    } catch (err) {
      if (mine !== drawn) return;
      $('cl-text').textContent = `Stopped: ${err.message}`;
      section.dataset.ready = 'error';
    }
  }

  const go = (i, s = 0) => {
    index = (i + samples.length) % samples.length;
    step = s;
    draw();
  };
  const forward = () => (step < STEPS.length - 1 ? go(index, step + 1) : go(index + 1));
  const backward = () => {
    if (step > 0) go(index, step - 1);
    else if (index > 0) go(index - 1, STEPS.length - 1);
  };
  yours.addEventListener('change', () => {
    const own = ownSamples([...yours.files]);
    yours.value = '';
    if (!own.length) return;
    samples = [...own, ...samples.filter((s) => !s.id.startsWith('yours:'))];
    go(0);
  });
  next.addEventListener('click', forward);
  back.addEventListener('click', backward);
  other.addEventListener('click', () => go(index + 1));
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      ArrowRight: forward, ' ': forward, PageDown: forward, Enter: forward,
      ArrowLeft: backward, PageUp: backward, Backspace: backward,
      ArrowDown: () => go(index + 1), ArrowUp: () => go(index - 1),
    };
    const digit = Number(e.key);
    const action = keys[e.key] ?? (digit >= 1 && digit <= samples.length ? () => go(digit - 1) : null);
    // A clicker sends Space, Enter or →: always the next step, even when a button clicked with the
    // mouse still has the focus (it would press that button again). Only the link keeps Enter.
    if (!action || (e.target.closest?.('a') && e.key === 'Enter')) return;
    e.preventDefault();
    action();
  });
  go(index);
}
