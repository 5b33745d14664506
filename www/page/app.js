// The LesionLab page: pick a photo, see the mask, the heatmaps, compare the models.
// Query parameters make links for a classroom: ?model=unet|unetpp|unetpp-accurate|unetpp-fast|pspnet,
// &level=1-4, &backend=auto|webgpu|cpu, &sample=ISIC_0001126 (segments that sample on load).
//
// One rule holds everything together: what the page shows and downloads belongs to the photo
// and the model on screen. A new photo or model clears the old result at once (the photo is
// shown alone until its mask arrives), and every answer carries the number of the request it
// answers (`run`), so a late answer for an earlier photo or model is dropped.

import { setupBox } from './box-ui.js';
import { setupCamera } from './camera-ui.js';
import { setupCorrections } from './correct-ui.js';
import { setupEvaluate } from './evaluate-ui.js';
import { setupFineTune } from './finetune-ui.js';
import { setupPoints } from './points-ui.js';
import { drawFeatureMaps, drawHeads, maskFigure, shapeText } from './inside.js';
import { LesionLab } from '../api/lesionlab.js';
import { keepOffline } from '../api/offline.js';
import { modeId } from '../api/modes.js';
import { DEFAULT_MODE, LARGE_MASK_SHARE, METHODS, MODELS } from '../api/rules.js';
import {
  area,
  dice,
  download,
  drawPoints,
  downloadNames,
  drawColorbar,
  heatmapOverlay,
  isicId,
  maskImage,
  maskOf,
  overlay,
  photoPixels,
  pngBlob,
  show,
  strokeBox,
  threshold,
} from './render.js';

const SAMPLES = [
  { id: 'ISIC_0001126', label: 'Irregular, pink and brown, with hairs' },
  { id: 'ISIC_0014640', label: 'Oval and olive brown, smooth border' },
  { id: 'ISIC_0013169', label: 'Large and pale: fills the photo' },
  { id: 'ISIC_0015946', label: 'Small dark-brown spot beside a ruler' },
  { id: 'ISIC_0001152', label: 'Many colours: brown, blue-grey, pink' },
  { id: 'ISIC_0013652', label: 'Faint pink spot, hard to see' },
];
const NAMES = Object.fromEntries(MODELS.map((m) => [m.id, m.name]));
/** Each heatmap method's name on the page (the methods are the crate's: `METHODS`). */
const METHOD_NAMES = Object.fromEntries(
  METHODS.map((m) => [m, { activation: 'Mean activation', cam: 'CAM' }[m] ?? 'Grad-CAM']),
);

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);
const labs = new Map(); // "model/backend" -> Promise<LesionLab>
const tuned = new Map(); // model -> fine-tuned weights the page segments with
let photo = null; // { blob, name, pixels: ImageData | null, truth: Uint8Array | null, box: the user's box or null, points: the user's clicks }
let shown = null; // { photo, result, label }: the result on screen, always of `photo`
let run = 0; // the request the screen waits for; answers to earlier ones are dropped
let layerList = []; // [{ name, description }] of the model and mode on screen
let corrections = null; // the mask correction tools (correct-ui.js)
let boxTool = null; // the box prompt (box-ui.js)
let pointsTool = null; // clicks on the lesion (points-ui.js)

function setState(state) {
  document.body.dataset.state = state;
}

function status(text) {
  $('status').textContent = text;
}

function showError(err) {
  const el = $('error');
  el.textContent = err ? String(err.message ?? err) : '';
  el.hidden = !err;
  if (err) {
    // Nothing is in progress any more: no "Segmenting…" or "Loading…" left behind, and nothing
    // of an earlier photo (its expert-outline toggle) beside this one.
    status('Stopped: see the message below.');
    setState('error');
    if (photo && (!shown || shown.photo !== photo)) {
      $('caption').textContent = `${photo.name}: not segmented (see the message below)`;
      $('truth-toggle').hidden = $('truth-legend').hidden = true;
    }
  }
}

// The model menu's U-Net++ entries (and the links' `model`): 'unetpp' runs the default mode (its
// deepest head alone, which scores best), 'unetpp-accurate' the report's mean of the four heads
// (mode 'mean'), 'unetpp-fast' the head of the chosen level alone (mode 'head'): the API takes
// these earlier spellings of the modes too.
function selection() {
  const [model, variant] = $('model').value.split('-');
  return { model, mode: variant ?? DEFAULT_MODE, level: Number($('level').value), backend: $('backend').value };
}

/** @param {{ model: string, mode: string, level?: number }} selected */
function modelLabel({ model, mode, level }) {
  const names = { mean: 'mean of the four heads', [DEFAULT_MODE]: 'deepest head' };
  const how = mode === 'fast' ? `head ${level}` : (names[modeId(mode) ?? ''] ?? mode);
  const name = model === 'unetpp' ? `U-Net++ (${how})` : NAMES[model];
  return tuned.has(model) ? `${name}, fine-tuned` : name;
}

/** Where a LesionLab's next call, or a result, runs or ran. */
function where({ backend, threads }) {
  return backend === 'webgpu' ? 'WebGPU' : threads > 1 ? `the CPU (${threads} threads)` : 'the CPU';
}

function getLab(model, backend) {
  const key = `${model}/${backend}`;
  if (!labs.has(key)) {
    // The downloads' progress, on the status line while this model is the one chosen.
    const bytes = {};
    const onProgress = (p) => {
      bytes[p.what] = p;
      if (selection().model !== model || !$('status').textContent.startsWith('Loading')) return;
      const mb = (n) => (n / 1e6).toFixed(1);
      // A host that sends no length gives no total until the end: the bytes so far, not "x of x".
      const amount = (b) => {
        if (b.total == null) return `${mb(b.done)} MB so far`;
        return b.done >= b.total ? `${mb(b.total)} MB, downloaded` : `${mb(b.done)} of ${mb(b.total)} MB`;
      };
      const parts = Object.values(bytes).map((b) => `${b.what.replace('-', ' ')} ${amount(b)}`);
      status(`Loading ${NAMES[model]}: ${parts.join(', ')}…`);
    };
    // 'auto': WebGPU may take over later; the page says so, and keeps its module for offline use.
    const onBackend = (e) => {
      // For the benchmark: when the backend was settled, milliseconds from opening the page.
      window.__backendSettledMs ??= performance.now();
      if (e.backend === 'webgpu') keepOffline();
      const idle = ['ready', 'done', 'segmented', 'compared'].includes(document.body.dataset.state);
      if (selection().model === model && idle) status(`${NAMES[model]}: ${e.reason}.`);
    };
    // The shipped U-Net++ starts from its quick-start file: a first mask from its fast mode
    // while the rest of its weights download (segmentPhoto shows it as a quick look).
    const created = LesionLab.create({
      model,
      backend,
      weights: tuned.get(model),
      quickStart: !tuned.has(model),
      onProgress,
      onBackend,
    });
    labs.set(key, created);
    created.catch(() => labs.delete(key));
  }
  return labs.get(key);
}

async function currentLab() {
  const sel = selection();
  status(`Loading ${NAMES[sel.model]}…`);
  const lab = await getLab(sel.model, sel.backend);
  fillLayers(lab, sel);
  return lab;
}

// The layer menus list only what the chosen model and mode compute, each with what it does;
// a choice that still exists is kept, else the method's default is selected.
function fillLayers(lab, sel) {
  const options = { mode: sel.mode, level: sel.level };
  const layers = lab.layerInfo(options);
  layerList = layers;
  for (const [id, method] of [
    ['cam-layer', $('cam-method').value],
    ['gradcam-layer', 'gradcam'],
    ['fm-layer', 'activation'],
  ]) {
    const select = $(id);
    const fallback = lab.defaultLayer(method, options);
    const keep = select.dataset.model === lab.model ? select.value : '';
    select.replaceChildren(
      ...layers.map((l) => {
        const label = `${l.name}: ${l.description.split(':')[0]}${l.name === fallback ? ' (default)' : ''}`;
        return new Option(label, l.name);
      }),
    );
    select.dataset.model = lab.model;
    select.value = layers.some((l) => l.name === keep) ? keep : fallback;
    describeLayer(select);
  }
}

function describeLayer(select) {
  $(`${select.id}-info`).textContent = layerList.find((l) => l.name === select.value)?.description ?? '';
}

function clearHeatmaps(text = '') {
  for (const id of ['cam', 'gradcam']) {
    const canvas = $(id);
    canvas.width = canvas.height = 0;
    canvas.dataset.layer = '';
    canvas.setAttribute('aria-label', text || 'No heatmap yet');
    $(`${id}-blank`).hidden = true;
  }
}

// A new photo or model: the old result goes at once, whatever is still running.
function clearResult(text) {
  shown = null;
  $('describe').hidden = $('sure').hidden = true;
  $('sure-map').width = $('sure-map').height = 0;
  $('sure-summary').textContent = '';
  setState('segmenting');
  $('download-mask').disabled = $('download-overlay').disabled = true;
  $('result').setAttribute('aria-busy', 'true');
  for (const id of ['area', 'timing', 'backend-used']) $(id).textContent = '–';
  $('dice-term').hidden = $('dice-value').hidden = true;
  $('check-warning').hidden = true;
  $('compare-results').replaceChildren();
  $('heads-results').replaceChildren();
  $('heads').hidden = true;
  $('fm-grid').replaceChildren();
  $('fm-grid').dataset.layer = '';
  $('fm-shape').textContent = '';
  corrections?.update();
  boxTool?.update();
  pointsTool?.update();
  clearHeatmaps('Computing…');
  status(text);
  draw();
}

function scrollToResult() {
  const box = $('result').getBoundingClientRect();
  if (box.top > innerHeight * 0.6 || box.bottom < 0) $('result').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function loadTruth(url) {
  return maskOf(await photoPixels(await (await fetch(url)).blob()));
}

async function loadPhoto(blob, name, truthUrl = null, { focus = false } = {}) {
  const mine = ++run;
  showError(null);
  photo = { blob, name, pixels: null, truth: null, box: null, points: [] };
  clearResult(`Reading ${name}…`);
  const pixels = await photoPixels(blob).catch(() => null); // the worker names decoding errors
  const truth = pixels && truthUrl ? await loadTruth(truthUrl).catch(() => null) : null;
  if (mine !== run) return;
  Object.assign(photo, { pixels, truth });
  // A file the browser cannot show leaves nothing of the previous photo on screen.
  $('result').hidden = !pixels;
  if (!pixels) $('explain').hidden = $('compare').hidden = $('heads').hidden = true;
  draw();
  if (pixels) scrollToResult();
  if (pixels && focus) $('result').focus({ preventScroll: true });
  await segmentPhoto();
}

async function segmentPhoto() {
  if (!photo) return;
  const mine = ++run;
  const sel = selection();
  const clicks = photo.points?.length ?? 0;
  const label = `${modelLabel(sel)}${photo.box ? ', inside the box you drew' : ''}${
    clicks ? `, with your ${clicks === 1 ? 'click' : `${clicks} clicks`}` : ''
  }`;
  clearResult(`Loading ${NAMES[sel.model]}…`);
  setState('segmenting');
  try {
    const lab = await currentLab();
    if (mine !== run) return;
    const quick = !lab.runsNow({ mode: sel.mode, level: sel.level });
    if (quick) await quickLook(lab, sel, mine);
    if (mine !== run) return;
    if (quick && lab.quickStartLevel)
      status(`Loading the whole ${NAMES[sel.model]} (a quick look from one of its heads is shown)…`);
    else status(`Segmenting ${photo.name} with ${label} on ${where(lab)}…`);
    const r = await lab.segment(photo.blob, {
      threshold: Number($('threshold').value),
      mode: sel.mode,
      level: sel.level,
      box: photo.box ?? undefined,
      points: clicks ? photo.points : undefined,
    });
    if (mine !== run) return;
    if (!photo.pixels) photo.pixels = await photoPixels(photo.blob);
    shown = { photo, result: r, label };
    showError(null);
    $('result').hidden = $('explain').hidden = $('compare').hidden = $('sure').hidden = false;
    $('heads').hidden = sel.model !== 'unetpp';
    $('result').removeAttribute('aria-busy');
    $('download-mask').disabled = $('download-overlay').disabled = false;
    draw();
    // For the benchmark: milliseconds from opening the page to the first mask on screen (drawn
    // just now; the panels below it follow).
    if (window.__firstMaskMs === undefined) window.__firstMaskMs = performance.now();
    if (window.__wholeMaskMs === undefined && !lab.quickStartLevel) window.__wholeMaskMs = performance.now();
    corrections.update();
    boxTool.update();
    pointsTool.update();
    status(`${label} on ${where(r)}: done.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`);
    setState('segmented');
    await describeShown(lab, mine);
    keepOffline();
    await explainPhoto(mine);
  } catch (err) {
    if (mine === run) showError(err);
  }
}

// While only U-Net++'s quick-start weights are in: its fast mode's mask, drawn and labelled
// as a quick look; the chosen mode's mask replaces it when the whole weights have loaded.
async function quickLook(lab, sel, mine) {
  const level = lab.quickStartLevel;
  status(`A quick look with ${NAMES[sel.model]}'s head ${level} alone while the rest of its weights load…`);
  const r = await lab.segment(photo.blob, {
    threshold: Number($('threshold').value),
    mode: 'head',
    level,
    refine: false,
    box: photo.box ?? undefined,
  });
  if (mine !== run) return;
  if (!photo.pixels) photo.pixels = await photoPixels(photo.blob);
  shown = {
    photo,
    result: r,
    label: `quick look: ${NAMES[sel.model]} head ${level} alone; the mask of ${modelLabel(sel)} follows`,
  };
  $('result').hidden = false;
  draw();
  // For the benchmark: the first mask on screen, and that it was the quick look.
  if (window.__firstMaskMs === undefined) {
    window.__firstMaskMs = performance.now();
    window.__firstMaskQuick = true;
  }
}

function draw() {
  const canvas = $('overlay');
  if (!photo?.pixels) {
    canvas.width = canvas.height = 0;
    $('caption').textContent = photo ? `${photo.name}: reading…` : '';
    return;
  }
  if (!shown || shown.photo !== photo) {
    show(canvas, photo.pixels);
    if (photo.box) strokeBox(canvas, photo.box);
    if (photo.points?.length) drawPoints(canvas, photo.points);
    $('caption').textContent = `${photo.name}, ${photo.pixels.width}×${photo.pixels.height}: segmenting…`;
    canvas.setAttribute('aria-label', `${photo.name}, waiting for its mask`);
    return;
  }
  const { result, label } = shown;
  // The user's corrections, if any, over the model's mask at this threshold.
  const thresholded = threshold(result.probability, Number($('threshold').value));
  const mask = photo.edits ? photo.edits.apply(thresholded) : thresholded;
  result.mask = mask;
  const hasTruth = !!photo.truth && photo.truth.length === mask.length;
  $('truth-toggle').hidden = $('truth-legend').hidden = !hasTruth;
  const truth = hasTruth && $('truth').checked ? photo.truth : null;
  const painted = photo.edits?.edited ? photo.edits.layer : null;
  show(canvas, overlay(photo.pixels, mask, { ...look(), truth, painted }));
  if (photo.box) strokeBox(canvas, photo.box);
  if (photo.points?.length) drawPoints(canvas, photo.points);
  $('painted-legend').hidden = !painted;
  canvas.setAttribute('aria-label', `${photo.name} with the lesion ${label} found outlined`);
  $('caption').textContent =
    `${photo.name}, ${result.width}×${result.height}, ${label}${photo.edits?.edited ? ', corrected by hand' : ''}`;
  const check = result.check;
  showCheck(check, area(mask));
  const share = `${(area(mask) * 100).toFixed(1)}% of the image`;
  $('area').textContent = check.looksLikeDermoscopy ? share : `${share} (not meaningful: see the warning)`;
  $('dice-term').hidden = $('dice-value').hidden = !hasTruth;
  if (hasTruth) $('dice').textContent = dice(mask, photo.truth).toFixed(3);
  $('backend-used').textContent =
    result.backend === 'webgpu'
      ? 'WebGPU (graphics card)'
      : `CPU (WebAssembly, ${result.threads} thread${result.threads > 1 ? 's' : ''})`;
  const ms = result.ms;
  // A photo the worker already holds (after the quick look, say) is not prepared again.
  const prepared = result.decoded
    ? `${Math.round(ms.preprocess)} ms to prepare the photo`
    : 'the photo prepared earlier';
  $('timing').textContent =
    `${prepared}, ${Math.round(ms.model)} ms in the network, ` +
    `${Math.round(ms.postprocess)} ms to clean the mask and scale it back`;
}

/**
 * The photo check's warning, and for a mask that covers much of a photo that is not dermoscopy
 * (an arm, a hand, a face: the model takes the skin for the lesion) the box offered. The ABCD
 * panel says the same (one caveat for both places).
 */
function showCheck(check, share) {
  $('check-warning').hidden = !check.warning;
  $('check-text').textContent = check.warning ?? '';
  const skin = !check.looksLikeDermoscopy && share > LARGE_MASK_SHARE;
  $('skin-text').hidden = !skin;
  $('skin-text').textContent = skin
    ? `The mask covers ${(share * 100).toFixed(0)}% of the photo: on a photo of an arm, a hand or a face the model takes ` +
      'the skin itself for the lesion. Draw a box around the mole and it looks there only.'
    : '';
  $('check-box').hidden = check.looksLikeDermoscopy;
  let caveat = null;
  if (!check.looksLikeDermoscopy)
    caveat =
      'The photo check above says this is not a dermoscopy photo: these figures describe the mask, which means nothing here.';
  else if (check.grey)
    caveat = 'This photo is almost grey: the colours below (C) mean nothing; the shape figures follow the mask.';
  $('abcd-caveat').hidden = !caveat;
  $('abcd-caveat').textContent = caveat ?? '';
}

/** The overlay's look as the controls set it. */
const look = () => ({ opacity: Number($('opacity').value), outlineOnly: $('outline').checked });

const percent = (x) => `${(x * 100).toFixed(1)}%`;

/** The ABCD panel for the mask on screen (at the threshold chosen). */
async function describeShown(lab, mine = run) {
  if (!shown || shown.photo !== photo) return;
  const mm = Number($('mm-per-pixel').value);
  try {
    const d = await lab.describe(shown.result, photo.blob, { mmPerPixel: mm > 0 ? mm : undefined });
    if (mine !== run) return;
    $('abcd-area').textContent = `${d.areaPx.toLocaleString('en')} pixels, ${percent(d.areaShare)} of the photo`;
    $('abcd-asymmetry').textContent =
      `${percent(d.asymmetry[0])} and ${percent(d.asymmetry[1])} of the lesion miss their mirror image ` +
      'about its long and its short axis (0% for a symmetric outline)';
    $('abcd-border').textContent =
      `compactness ${d.compactness.toFixed(2)} (1 for a circle, lower for ragged or elongated outlines); ` +
      `the outline is ${d.roughness.toFixed(2)} times as long as its convex hull (1 for a smooth, convex border)`;
    const colours = d.colours.filter((c) => c.present).map((c) => `${c.name} ${percent(c.share)}`);
    $('abcd-colours').textContent = colours.length
      ? `${colours.length} of 6: ${colours.join(', ')}`
      : 'none covers 5% of the lesion';
    $('abcd-diameter').textContent =
      `${Math.round(d.diameterPx)} pixels${d.diameterMm ? `, ${d.diameterMm.toFixed(1)} mm` : ' (give a scale for millimetres)'}`;
    $('describe').hidden = false;
  } catch (err) {
    if (mine !== run) return;
    // An empty mask (nothing found at this threshold) has nothing to describe.
    $('describe').hidden = true;
    if (err.kind !== 'bad-mask') showError(err);
  }
}

/** The uncertainty map of the photo on screen, over it, with its two numbers. */
async function showUncertainty() {
  if (!shown || shown.photo !== photo) return;
  const mine = run;
  const sel = selection();
  const method = $('sure-method').value;
  $('sure-run').disabled = true;
  $('sure-summary').textContent = method === 'tta' ? 'Running the model on 8 views…' : 'Running the three models…';
  try {
    const lab = await getLab(sel.model, sel.backend);
    const u = await lab.uncertainty(photo.blob, { method, mode: sel.mode, level: sel.level });
    if (mine !== run) return;
    // The spread is at most 0.5: doubled, the colour scale spans it.
    show(
      $('sure-map'),
      heatmapOverlay(
        photo.pixels,
        u.spread.map((v) => Math.min(1, 2 * v)),
        0.6,
      ),
    );
    const what = method === 'tta' ? `${modelLabel(sel)} on 8 views of the photo` : 'U-Net, U-Net++ and PSPNet';
    $('sure-summary').textContent =
      `${what}: they disagree about the mask on ${(u.disagreement * 100).toFixed(1)}% of the photo; ` +
      `mean spread of the probability ${u.meanSpread.toFixed(3)} (0 when all agree, 0.5 at most).`;
    $('sure-map').setAttribute('aria-label', `Uncertainty map: ${$('sure-summary').textContent}`);
  } catch (err) {
    if (mine === run) showError(err);
  } finally {
    $('sure-run').disabled = false;
  }
}

async function explainOne(lab, method, layerSelect, canvas, mine) {
  const sel = selection();
  const h = await lab.explain(photo.blob, {
    method,
    layer: layerSelect.value || undefined,
    mode: sel.mode,
    level: sel.level,
  });
  if (mine !== run) return;
  show(canvas, heatmapOverlay(photo.pixels, h.heatmap, 0.55));
  const blank = $(`${canvas.id}-blank`);
  blank.textContent = h.blankNote ?? '';
  blank.hidden = !h.blankNote;
  canvas.setAttribute(
    'aria-label',
    `${METHOD_NAMES[method]} heatmap at layer ${h.layer}${h.blankNote ? ' (blank)' : ''}`,
  );
  canvas.dataset.layer = h.layer;
  canvas.dataset.method = method;
}

/** The layer explorer: the chosen layer's most active feature maps for the photo on screen. */
async function showFeatureMaps(lab, mine) {
  const sel = selection();
  const maps = await lab.featureMaps(photo.blob, {
    layer: $('fm-layer').value || undefined,
    count: Number($('fm-count').value),
    mode: sel.mode,
    level: sel.level,
  });
  if (mine !== run) return;
  drawFeatureMaps($('fm-grid'), maps);
  $('fm-shape').textContent = shapeText(maps);
  $('fm-grid').dataset.layer = maps.layer;
}

/** U-Net++'s four heads, each alone, on the photo on screen. */
async function showHeads() {
  if (!shown || shown.photo !== photo) return;
  const mine = run;
  const sel = selection();
  $('heads-run').disabled = true;
  status(`${NAMES.unetpp}: running each head alone…`);
  try {
    const lab = await getLab('unetpp', sel.backend);
    // In the mode on screen, so the pass the heatmaps and feature maps reuse stays that mode's.
    const r = await lab.segment(photo.blob, {
      threshold: Number($('threshold').value),
      mode: sel.mode,
      level: sel.level,
      heads: true,
    });
    if (mine !== run) return;
    drawHeads($('heads-results'), photo.pixels, r.heads, {
      truth: photo.truth,
      showTruth: $('truth').checked,
      look: look(),
    });
    status(`${NAMES.unetpp}: the four heads shown.`);
  } catch (err) {
    if (mine === run) showError(err);
  } finally {
    $('heads-run').disabled = false;
  }
}

async function explainPhoto(mine = run, which = ['cam', 'gradcam', 'features']) {
  if (!shown || shown.photo !== photo) return;
  const lab = await currentLab();
  if (mine !== run) return;
  setState('explaining');
  status(`${shown.label}: computing the heatmaps…`);
  try {
    if (which.includes('cam')) await explainOne(lab, $('cam-method').value, $('cam-layer'), $('cam'), mine);
    if (which.includes('gradcam')) await explainOne(lab, 'gradcam', $('gradcam-layer'), $('gradcam'), mine);
    if (which.includes('features')) await showFeatureMaps(lab, mine);
    if (mine === run) {
      setState('done');
      status(
        `${shown.label} on ${where(lab)}: mask and heatmaps shown.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`,
      );
    }
  } catch (err) {
    if (mine === run) showError(err);
  }
}

async function compareAll() {
  if (!shown) return;
  const mine = run;
  const out = $('compare-results');
  out.replaceChildren();
  const backend = $('backend').value;
  const truth = photo.truth;
  setState('comparing');
  try {
    for (const model of ['unet', 'unetpp', 'pspnet']) {
      status(`Comparing: ${NAMES[model]}…`);
      const lab = await getLab(model, backend);
      const r = await lab.segment(photo.blob, { threshold: Number($('threshold').value), box: photo.box ?? undefined });
      if (mine !== run) return;
      out.append(
        maskFigure(photo.pixels, r.mask, {
          label: `${NAMES[model]} overlay`,
          truth,
          showTruth: $('truth').checked,
          look: look(),
          text: `${modelLabel({ model, mode: DEFAULT_MODE })}: ${(area(r.mask) * 100).toFixed(1)}% lesion, ${Math.round(r.ms.model)} ms`,
        }),
      );
    }
    status('Compared all three models.');
    setState('compared');
  } catch (err) {
    if (mine === run) showError(err);
  }
}

function addSamples() {
  const list = $('samples');
  for (const { id, label } of SAMPLES) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sample';
    button.dataset.sample = id;
    const img = document.createElement('img');
    img.src = `www/samples/${id}.jpg`;
    img.alt = '';
    img.width = img.height = 96;
    // The button's name is its text (a hidden "Segment sample:" first), so what a speech user
    // reads on it is what it is called.
    const verb = document.createElement('span');
    verb.className = 'visually-hidden';
    verb.textContent = 'Segment sample: ';
    const name = document.createElement('span');
    name.textContent = label;
    const small = document.createElement('span');
    small.className = 'sample-id';
    small.textContent = id;
    button.append(img, verb, name, small);
    // Chosen with the keyboard (a click without a pointer), the focus follows to the result.
    button.addEventListener('click', (e) => openSample(id, { focus: e.detail === 0 }));
    li.append(button);
    list.append(li);
  }
}

async function openSample(id, { focus = false } = {}) {
  const mine = ++run;
  photo = null;
  clearResult(`Opening sample ${id}…`);
  try {
    const blob = await (await fetch(`www/samples/${id}.jpg`)).blob();
    if (mine === run) await loadPhoto(blob, `${id}.jpg`, `www/samples/${id}_segmentation.png`, { focus });
  } catch (err) {
    if (mine === run) showError(err);
  }
}

function openFile(file) {
  if (file) loadPhoto(file, file.name || 'pasted image').catch(showError);
}

// A photo dropped anywhere (on the drop zone, the result, a heatmap) opens it; the
// fine-tuning section takes its own drops. Without this the browser opens the file in the tab.
function wireDrops() {
  const mine = (e) => !e.target.closest?.('#tune') && [...(e.dataTransfer?.types ?? [])].includes('Files');
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (mine(e)) document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    if (mine(e)) openFile(e.dataTransfer.files[0]);
  });
}

function wire() {
  $('file').addEventListener('change', (e) => {
    openFile(e.target.files[0]);
    e.target.value = '';
  });
  wireDrops();
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === 'file');
    if (item) openFile(item.getAsFile());
  });
  let pending = 0;
  const redraw = () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(draw);
  };
  $('opacity').addEventListener('input', (e) => {
    $('opacity-value').textContent = `${Math.round(e.target.value * 100)}%`;
    redraw();
  });
  $('threshold').addEventListener('input', (e) => {
    $('threshold-value').textContent = Number(e.target.value).toFixed(2);
    redraw();
  });
  $('outline').addEventListener('change', redraw);
  // Drawn at once, not at the next frame: the panel reads the mask the drawing makes.
  const redescribe = () => {
    const sel = selection();
    if (!shown) return;
    draw();
    getLab(sel.model, sel.backend).then((lab) => describeShown(lab, run), showError);
  };
  $('threshold').addEventListener('change', redescribe);
  corrections = setupCorrections({
    current: () => (shown && shown.photo === photo ? { photo, result: shown.result } : null),
    edited: redescribe,
  });
  boxTool = setupBox({
    current: () => (shown && shown.photo === photo ? photo : null),
    boxed: (box) => {
      photo.box = box;
      segmentPhoto();
    },
  });
  pointsTool = setupPoints({
    // Clicks go on while the last one is segmented: a new click replaces that run.
    current: () => (photo?.pixels ? photo : null),
    clicked: (points) => {
      photo.points = points;
      segmentPhoto();
    },
  });
  $('mm-per-pixel').addEventListener('change', redescribe);
  // The warning's offer: start drawing a box on the photo.
  $('check-box').addEventListener('click', () => {
    if ($('box-toggle').getAttribute('aria-pressed') !== 'true') $('box-toggle').click();
    $('overlay').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  });
  $('truth').addEventListener('change', redraw);
  // The user's own expert mask for the photo on screen: its outline and the Dice against it.
  $('truth-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file || !photo?.pixels) return;
    try {
      const image = await photoPixels(file);
      const { width, height } = photo.pixels;
      if (image.width !== width || image.height !== height) {
        throw new Error(
          `${file.name}: the mask is ${image.width}x${image.height}, the photo ${width}x${height}: give the mask of this photo`,
        );
      }
      photo.truth = maskOf(image);
      $('truth').checked = true;
      draw();
    } catch (err) {
      showError(err);
    }
  });
  const modelChanged = () => {
    $('level-field').hidden = $('model').value !== 'unetpp-fast';
    if (photo) segmentPhoto();
    else {
      const mine = ++run;
      currentLab().then(
        (lab) => {
          if (mine === run) {
            status(`${NAMES[lab.model]} ready on ${where(lab)}.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`);
            setState('ready');
          }
        },
        (err) => mine === run && showError(err),
      );
    }
  };
  $('model').addEventListener('change', modelChanged);
  $('level').addEventListener('change', modelChanged);
  $('backend').addEventListener('change', modelChanged);
  const relayer = (select, which) => {
    describeLayer(select);
    explainPhoto(run, which);
  };
  $('cam-layer').addEventListener('change', () => relayer($('cam-layer'), ['cam']));
  $('gradcam-layer').addEventListener('change', () => relayer($('gradcam-layer'), ['gradcam']));
  $('cam-method').addEventListener('change', () => relayer($('cam-layer'), ['cam']));
  $('fm-layer').addEventListener('change', () => relayer($('fm-layer'), ['features']));
  $('fm-count').addEventListener('change', () => explainPhoto(run, ['features']));
  $('heads-run').addEventListener('click', showHeads);
  $('compare-run').addEventListener('click', compareAll);
  $('sure-run').addEventListener('click', showUncertainty);
  $('download-mask').addEventListener('click', async () => {
    if (!shown) return;
    const { photo: p, result } = shown;
    download(await pngBlob(maskImage(result.mask, result.width, result.height)), downloadNames(p.name).mask);
  });
  $('download-overlay').addEventListener('click', async () => {
    if (!shown) return;
    const { photo: p, result } = shown;
    const truth = p.truth && $('truth').checked && p.truth.length === result.mask.length ? p.truth : null;
    const image = overlay(p.pixels, result.mask, { ...look(), truth });
    download(await pngBlob(image), downloadNames(p.name).overlay);
  });
}

function applyQuery() {
  const q = new URLSearchParams(location.search);
  const pick = (id, value) => {
    if (value !== null && [...$(id).options].some((o) => o.value === value)) $(id).value = value;
  };
  pick('model', q.get('model'));
  pick('level', q.get('level'));
  pick('backend', q.get('backend'));
  $('level-field').hidden = $('model').value !== 'unetpp-fast';
  return q.get('sample');
}

// "Segment with these weights" after fine-tuning: the page segments with them from now on,
// on any backend, and says so in every caption; "Back to the shipped weights" gives null.
async function useWeights(model, bytes) {
  // null: back to the shipped weights.
  if (bytes) tuned.set(model, bytes);
  else tuned.delete(model);
  for (const key of [...labs.keys()].filter((k) => k.startsWith(`${model}/`))) {
    labs.get(key).then(
      (lab) => lab.dispose(),
      () => {},
    );
    labs.delete(key);
  }
  if (selection().model !== model) $('model').value = model;
  $('level-field').hidden = $('model').value !== 'unetpp-fast';
  if (photo) await segmentPhoto();
  else status(`${modelLabel(selection())} ready.`);
}

const sample = applyQuery();
if (new URLSearchParams(location.search).get('present') === '1') {
  // Classroom mode's code loads only for it.
  import('./classroom.js').then(
    ({ startClassroom }) =>
      startClassroom({ samples: SAMPLES, first: isicId(sample ?? ''), backend: $('backend').value }),
    showError,
  );
} else {
  addSamples();
  wire();
  drawColorbar($('colorbar'));
  drawColorbar($('sure-colorbar'));
  setupFineTune({ useWeights });
  setupCamera({
    labFor: currentLab,
    frozen: (blob, name) => loadPhoto(blob, name, null, { focus: true }).catch(showError),
    failed: showError,
  });
  setupEvaluate({
    selected: () => {
      const sel = selection();
      return { ...sel, label: modelLabel(sel), tuned: tuned.has(sel.model) };
    },
    labFor: () => {
      const sel = selection();
      return getLab(sel.model, sel.backend);
    },
    // The shipped weights beside fine-tuned ones ("compare"): a LesionLab of its own, which the
    // caller disposes.
    shippedLab: () => {
      const sel = selection();
      return LesionLab.create({ model: sel.model, backend: sel.backend });
    },
  });
  start();
}

/** The page as opened: a sample from the link segmented, or the default model loaded. */
function start() {
  if (sample && isicId(sample)) {
    // The model starts loading now, while the sample downloads (errors show when it is used).
    const sel = selection();
    getLab(sel.model, sel.backend).catch(() => {});
    openSample(isicId(sample));
    return;
  }
  const mine = run;
  currentLab().then(
    (lab) => {
      keepOffline();
      if (mine !== run) return;
      status(`${NAMES[lab.model]} ready on ${where(lab)}.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`);
      setState('ready');
    },
    (err) => mine === run && showError(err),
  );
}
