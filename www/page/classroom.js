// Classroom mode (`?present=1`): one sample at a time in large type for a projector (1280x720),
// the photo and the three models side by side, revealed step by step: photo → the expert's
// outline → each model's mask → where the models disagree → what U-Net++ looks at. Keys: → or
// Space (or a presenter's clicker) next step, then the next sample; ← back; ↑ ↓ another sample;
// 1-6 a sample. The models run ahead while the class looks at the photo.
//
// For tests: the section carries data-sample, data-step (the step's name) and data-ready
// ('true' once the step is drawn).

import { LesionLab } from '../api/lesionlab.js';
import { dice, heatmapOverlay, maskOf, overlay, photoPixels, show } from './render.js';
import { MASK_SUFFIXES, MODELS } from '../api/rules.js';

// How each network works, in one sentence for the class.
const IDEAS = {
  unet: 'an encoder shrinks the photo to see the whole lesion, a decoder grows it back, and skip connections carry the fine detail across.',
  unetpp:
    "U-Net with nested skip paths between encoder and decoder, trained with four outputs of growing depth; the mask shown is the deepest one's.",
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
  const yours = el('input', {
    type: 'file',
    multiple: true,
    accept: 'image/jpeg,image/png',
    className: 'visually-hidden',
    id: 'cl-files',
  });
  const add = el('label', { className: 'button', textContent: 'Your photos…' }, yours);
  const section = el(
    'section',
    { id: 'classroom', className: 'classroom' },
    el(
      'div',
      { className: 'cl-top' },
      el('h1', { id: 'cl-title' }),
      el('p', { id: 'cl-step', role: 'status' }),
      el('nav', { className: 'cl-nav' }, back, next, other, add, leave),
    ),
    el('div', { className: 'cl-panels' }, panel('stage', 'Photo'), ...NETWORKS.map((m) => panel(m.id, m.name))),
    el('p', { id: 'cl-text', className: 'cl-text' }),
    el('p', {
      className: 'cl-keys',
      textContent:
        '→ or Space: next  ·  ←: back  ·  ↑ ↓: another photo  ·  1–6: photo 1 to 6  ·  for teaching, not diagnosis',
    }),
  );
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
    id: `yours:${file.name}`,
    label: file.name,
    photo: file,
    truth: masks.get(stem(file.name).toLowerCase()) ?? null,
  }));
}

/**
 * @typedef {object} Sample
 * @property {string} id
 * @property {string} label
 * @property {string | Blob} photo A URL or the teacher's file.
 * @property {string | Blob | null} truth The expert's mask, or null.
 */

/**
 * Classroom mode's state: the samples, where the class is, the models and what they answered.
 * @typedef {object} Room
 * @property {HTMLElement} section
 * @property {Record<string, HTMLElement>} panels
 * @property {{ back: HTMLButtonElement, next: HTMLButtonElement, other: HTMLButtonElement, yours: HTMLInputElement }} controls
 * @property {import('../api/lesionlab.js').BackendChoice} backend
 * @property {Sample[]} samples
 * @property {Map<string, Promise<LesionLab>>} labs model -> LesionLab
 * @property {Map<string, any>} photos sample id -> { blob, pixels, truth }, Promises made once
 * @property {Map<string, any>} answers sample id -> the models' answers, Promises made once
 * @property {number} index The sample on screen.
 * @property {number} step The step on screen (of `STEPS`).
 * @property {number} drawn The draw the screen waits for.
 */

/** The section's element of `id`. */
const part = (/** @type {Room} */ room, /** @type {string} */ id) =>
  /** @type {HTMLElement} */ (room.section.querySelector(`#${id}`));

/** The LesionLab of `model`, made once (again after a failure: the next step tries again). */
function labOf(/** @type {Room} */ room, /** @type {string} */ model) {
  if (!room.labs.has(model)) {
    const created = LesionLab.create({ model: /** @type {any} */ (model), backend: room.backend });
    room.labs.set(model, created);
    created.catch(() => room.labs.delete(model));
  }
  return /** @type {Promise<LesionLab>} */ (room.labs.get(model));
}

/** A URL's or a file's Blob. */
const blobOf = (/** @type {string | Blob} */ source) =>
  typeof source === 'string' ? fetch(source).then((r) => r.blob()) : Promise.resolve(source);

/**
 * A sample's photo and expert mask (null when the teacher gave none): cheap, read as soon as
 * the sample shows; fetched again when opened again after a failure.
 */
function photoOf(/** @type {Room} */ room, /** @type {string} */ id) {
  if (!room.photos.has(id)) {
    const sample = /** @type {Sample} */ (room.samples.find((s) => s.id === id));
    const blob = blobOf(sample.photo);
    const pixels = blob.then(photoPixels);
    const truth = sample.truth ? blobOf(sample.truth).then(photoPixels).then(maskOf) : Promise.resolve(null);
    room.photos.set(id, { blob, pixels, truth });
    Promise.all([pixels, truth]).catch(() => room.photos.delete(id));
  }
  return room.photos.get(id);
}

/**
 * A sample's answers, computed once and in the order they show: the three masks, where they
 * disagree, Grad-CAM. A failure shows on its step, and the sample is computed afresh when it is
 * opened again.
 */
function answersOf(/** @type {Room} */ room, /** @type {string} */ id) {
  if (room.answers.has(id)) return room.answers.get(id);
  const { blob } = photoOf(room, id);
  /** @type {Record<string, Promise<any>>} */
  const masks = {};
  /** @type {Promise<any>} */
  let chain = Promise.resolve();
  for (const m of NETWORKS) {
    masks[m.id] = chain = chain.then(async () => (await labOf(room, m.id)).segment(await blob));
  }
  const unetpp = () => labOf(room, 'unetpp');
  const uncertainty = chain.then(async () => (await unetpp()).uncertainty(await blob, { method: 'models' }));
  const gradcam = uncertainty.then(async () => (await unetpp()).explain(await blob, { method: 'gradcam' }));
  const data = { masks, uncertainty, gradcam };
  Promise.all([...Object.values(masks), uncertainty, gradcam]).catch(() => room.answers.delete(id));
  room.answers.set(id, data);
  return data;
}

/** A panel's caption and its canvas's name. */
function label(/** @type {Room} */ room, /** @type {string} */ panel, /** @type {string} */ text) {
  /** @type {HTMLElement} */ (room.panels[panel].querySelector('figcaption')).textContent = text;
  /** @type {HTMLElement} */ (room.panels[panel].querySelector('canvas')).setAttribute('aria-label', text);
}

/** A model's panel before its step: empty. */
function blank(/** @type {Room} */ room, /** @type {string} */ panel, /** @type {string} */ name) {
  const canvas = /** @type {HTMLCanvasElement} */ (room.panels[panel].querySelector('canvas'));
  canvas.width = canvas.height = 0;
  room.panels[panel].classList.add('cl-hidden');
  label(room, panel, `${name}: ?`);
}

/** The stage's canvas, where the step's own picture shows large. */
const stage = (/** @type {Room} */ room) =>
  /** @type {HTMLCanvasElement} */ (room.panels.stage.querySelector('canvas'));

/** The uncertainty step: where the three models disagree. Resolves to its text, or null if superseded. */
async function drawUncertainty(
  /** @type {Room} */ room,
  /** @type {string} */ id,
  /** @type {ImageData} */ pixels,
  /** @type {number} */ mine,
) {
  part(room, 'cl-text').textContent = 'Running the three models on the photo…';
  const u = await answersOf(room, id).uncertainty;
  if (mine !== room.drawn) return null;
  show(
    stage(room),
    heatmapOverlay(
      pixels,
      u.spread.map((/** @type {number} */ v) => Math.min(1, 2 * v)),
      0.6,
    ),
  );
  const share = `${(u.disagreement * 100).toFixed(1)}%`;
  label(room, 'stage', `Disagreement: ${share} of the photo`);
  return (
    'Red where the three models give different lesion probabilities, blue where they agree: they disagree about ' +
    `the mask on ${share} of the photo. Disagreement marks the hard parts, often the border.`
  );
}

/** The explanation step: Grad-CAM of U-Net++. Resolves to its text, or null if superseded. */
async function drawExplanation(
  /** @type {Room} */ room,
  /** @type {string} */ id,
  /** @type {ImageData} */ pixels,
  /** @type {number} */ mine,
) {
  part(room, 'cl-text').textContent = 'Computing Grad-CAM…';
  const h = await answersOf(room, id).gradcam;
  if (mine !== room.drawn) return null;
  show(stage(room), heatmapOverlay(pixels, h.heatmap, 0.55));
  label(room, 'stage', `Grad-CAM of U-Net++ at layer ${h.layer}`);
  return (
    "Grad-CAM: red where the features that raise U-Net++'s lesion score are. It shows what the model uses, " +
    'not why a lesion would be dangerous. That needs a doctor.'
  );
}

/** The photo steps (and the stage under a model's step): the photo, with the expert's outline from step 2. */
function drawPhoto(
  /** @type {Room} */ room,
  /** @type {Sample} */ sample,
  /** @type {ImageData} */ pixels,
  /** @type {Uint8Array | null} */ truth,
) {
  const name = STEPS[room.step];
  const withTruth = room.step >= 1 ? truth : null;
  show(stage(room), overlay(pixels, new Uint8Array(pixels.width * pixels.height), { truth: withTruth }));
  label(room, 'stage', withTruth ? "Photo with the dermatologist's outline (dashed)" : 'Photo');
  const where = sample.id.startsWith('yours:')
    ? 'Your photo.'
    : 'A dermoscopy photo from ISIC 2018, which the models never saw in training.';
  if (name === 'photo') return `${where} Where does the lesion end? Decide before the next step.`;
  if (truth) return "A dermatologist's outline (white and black dashes): the answer each model is scored against.";
  return "No expert outline was given with this photo: the models' masks follow, without a score.";
}

/**
 * The models' panels revealed so far, each mask with its Dice; on a model's own step its mask
 * shows large too. Resolves to that step's text (else `text`), or null if superseded.
 */
async function drawMasks(
  /** @type {Room} */ room,
  /** @type {string} */ id,
  /** @type {ImageData} */ pixels,
  /** @type {Uint8Array | null} */ truth,
  /** @type {string} */ text,
  /** @type {number} */ mine,
) {
  const name = STEPS[room.step];
  for (const [k, m] of NETWORKS.entries()) {
    if (room.step < 2 + k) {
      blank(room, m.id, m.name);
      continue;
    }
    if (name === m.id) part(room, 'cl-text').textContent = `Running ${m.name}…`;
    const r = await answersOf(room, id).masks[m.id];
    if (mine !== room.drawn) return null;
    room.panels[m.id].classList.remove('cl-hidden');
    show(
      /** @type {HTMLCanvasElement} */ (room.panels[m.id].querySelector('canvas')),
      overlay(pixels, r.mask, { opacity: 0, truth }),
    );
    const score = truth ? dice(r.mask, truth) : null;
    const scored = score === null ? '' : `: Dice ${score.toFixed(2)}`;
    label(room, m.id, `${m.name}${scored}`);
    if (name !== m.id) continue;
    // The step's own picture, large: the model's mask over the photo, the expert's outline dashed.
    show(stage(room), overlay(pixels, r.mask, { opacity: 0, truth }));
    label(room, 'stage', truth ? `${m.name}'s mask (the expert's outline dashed)${scored}` : `${m.name}'s mask`);
    const against = score === null ? '' : ` Dice ${score.toFixed(2)} against the expert (1 would be the same outline).`;
    text = `${m.name}: ${m.idea}${against}`;
  }
  return text;
}

/** The header of the step on screen: the sample's name, where the class is, the Back button. */
function drawHeader(/** @type {Room} */ room, /** @type {Sample} */ sample) {
  const name = STEPS[room.step];
  room.section.dataset.sample = sample.id;
  room.section.dataset.step = name;
  room.section.dataset.ready = 'false';
  part(room, 'cl-title').textContent = `${sample.label}`;
  part(room, 'cl-step').textContent =
    `Photo ${room.index + 1} of ${room.samples.length} (${sample.id}) · ` +
    `step ${room.step + 1} of ${STEPS.length}: ${TITLES[/** @type {keyof typeof TITLES} */ (name)]}`;
  room.controls.back.disabled = room.step === 0 && room.index === 0;
}

/** Draws the step on screen (a later draw supersedes this one). */
async function draw(/** @type {Room} */ room) {
  const mine = ++room.drawn;
  const sample = room.samples[room.index];
  const name = STEPS[room.step];
  drawHeader(room, sample);
  const photo = photoOf(room, sample.id);
  // The models start on a photo the class stays on (not on each one skipped past with ↓), and
  // on the next photo during the last step.
  setTimeout(() => room.samples[room.index].id === sample.id && answersOf(room, sample.id), DWELL_MS);
  if (room.step === STEPS.length - 1) answersOf(room, room.samples[(room.index + 1) % room.samples.length].id);
  try {
    const [pixels, truth] = await Promise.all([photo.pixels, photo.truth]);
    if (mine !== room.drawn) return;
    let text;
    if (name === 'uncertainty') text = await drawUncertainty(room, sample.id, pixels, mine);
    else if (name === 'explanation') text = await drawExplanation(room, sample.id, pixels, mine);
    else text = drawPhoto(room, sample, pixels, truth);
    if (text === null) return;
    text = await drawMasks(room, sample.id, pixels, truth, text, mine);
    if (text === null) return;
    part(room, 'cl-text').textContent = text;
    room.section.dataset.ready = 'true';
  } catch (err) {
    if (mine !== room.drawn) return;
    part(room, 'cl-text').textContent = `Stopped: ${/** @type {Error} */ (err).message}`;
    room.section.dataset.ready = 'error';
  }
}

/** Shows sample `i` (wrapping around) at step `s`. */
function go(/** @type {Room} */ room, /** @type {number} */ i, s = 0) {
  room.index = (i + room.samples.length) % room.samples.length;
  room.step = s;
  draw(room);
}

/** The next step, or the next sample's first. */
function forward(/** @type {Room} */ room) {
  if (room.step < STEPS.length - 1) go(room, room.index, room.step + 1);
  else go(room, room.index + 1);
}

/** The step before, or the previous sample's last. */
function backward(/** @type {Room} */ room) {
  if (room.step > 0) go(room, room.index, room.step - 1);
  else if (room.index > 0) go(room, room.index - 1, STEPS.length - 1);
}

/** What a key does in classroom mode, or null. */
function keyAction(/** @type {Room} */ room, /** @type {KeyboardEvent} */ e) {
  /** @type {Record<string, () => void>} */
  const keys = {
    ArrowRight: () => forward(room),
    ' ': () => forward(room),
    PageDown: () => forward(room),
    Enter: () => forward(room),
    ArrowLeft: () => backward(room),
    PageUp: () => backward(room),
    Backspace: () => backward(room),
    ArrowDown: () => go(room, room.index + 1),
    ArrowUp: () => go(room, room.index - 1),
  };
  const digit = Number(e.key);
  return keys[e.key] ?? (digit >= 1 && digit <= room.samples.length ? () => go(room, digit - 1) : null);
}

/** The buttons, the teacher's own photos and the keys (a presenter's clicker among them). */
function wire(/** @type {Room} */ room) {
  const { back, next, other, yours } = room.controls;
  yours.addEventListener('change', () => {
    const own = ownSamples([...(yours.files ?? [])]);
    yours.value = '';
    if (!own.length) return;
    room.samples = [...own, ...room.samples.filter((s) => !s.id.startsWith('yours:'))];
    go(room, 0);
  });
  next.addEventListener('click', () => forward(room));
  back.addEventListener('click', () => backward(room));
  other.addEventListener('click', () => go(room, room.index + 1));
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const action = keyAction(room, e);
    // A clicker sends Space, Enter or →: always the next step, even when a button clicked with the
    // mouse still has the focus (it would press that button again). Only the link keeps Enter.
    const target = /** @type {Element} */ (e.target);
    if (!action || (target.closest?.('a') && e.key === 'Enter')) return;
    e.preventDefault();
    action();
  });
}

/**
 * Starts classroom mode on `samples` ([{ id, label }]), at `first` (an id) or the first.
 * @param {{ samples: { id: string, label: string }[], first?: string | null,
 *   backend?: import('../api/lesionlab.js').BackendChoice }} options
 */
export function startClassroom({ samples: shipped, first, backend = 'auto' }) {
  document.body.classList.add('present');
  const { section, back, next, other, yours } = layout();
  document.body.append(section);
  /** @type {Room} */
  const room = {
    section,
    panels: Object.fromEntries(
      [...section.querySelectorAll('.cl-panel')].map((f) => [
        /** @type {HTMLElement} */ (f).dataset.panel,
        /** @type {HTMLElement} */ (f),
      ]),
    ),
    controls: { back, next, other, yours },
    backend,
    // The shipped samples (www/samples, with their expert masks), or the teacher's own first.
    samples: shipped.map((s) => ({
      ...s,
      photo: `www/samples/${s.id}.jpg`,
      truth: `www/samples/${s.id}_segmentation.png`,
    })),
    labs: new Map(),
    photos: new Map(),
    answers: new Map(),
    index: 0,
    step: 0,
    drawn: 0,
  };
  wire(room);
  go(
    room,
    Math.max(
      0,
      room.samples.findIndex((s) => s.id === first),
    ),
  );
}
