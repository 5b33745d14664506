// The LesionLab page: pick a photo, see the mask, CAM and Grad-CAM, compare the models.
// Query parameters make links for a classroom: ?model=unet|unetpp|unetpp-fast|pspnet,
// &level=1-4, &backend=auto|webgpu|cpu, &sample=ISIC_0001126 (segments that sample on load).

import { setupFineTune } from './finetune-ui.js';
import { LesionLab } from './lesionlab.js';
import {
  area, dice, download, downloadNames, heatmapOverlay, isicId, maskImage, overlay, photoPixels, pngBlob, show, threshold,
} from './render.js';

const SAMPLES = ['ISIC_0001126', 'ISIC_0014640', 'ISIC_0013169', 'ISIC_0015946', 'ISIC_0001152', 'ISIC_0013652'];
const NAMES = { unet: 'U-Net', unetpp: 'U-Net++', pspnet: 'PSPNet' };

const $ = (id) => document.getElementById(id);
const labs = new Map(); // "model/backend" -> Promise<LesionLab>
let photo = null; // { blob, name, pixels: ImageData, truth: Uint8Array | null }
let result = null; // what lab.segment gave for `photo`
let run = 0; // ignores answers for a photo or model that has since changed

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
  if (err) setState('error');
}

function selection() {
  const choice = $('model').value;
  const model = choice === 'unetpp-fast' ? 'unetpp' : choice;
  const mode = choice === 'unetpp-fast' ? 'fast' : 'accurate';
  return { model, mode, level: Number($('level').value), backend: $('backend').value };
}

function modelLabel({ model, mode, level }) {
  return model === 'unetpp' ? `U-Net++ (${mode === 'fast' ? `fast, level ${level}` : 'accurate'})` : NAMES[model];
}

function getLab(model, backend) {
  const key = `${model}/${backend}`;
  if (!labs.has(key)) {
    const created = LesionLab.create({ model, backend });
    labs.set(key, created);
    created.catch(() => labs.delete(key));
  }
  return labs.get(key);
}

async function currentLab() {
  const sel = selection();
  status(`Loading ${NAMES[sel.model]}…`);
  const lab = await getLab(sel.model, sel.backend);
  const where = lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU';
  status(`${NAMES[sel.model]} ready on ${where}.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`);
  fillLayers(lab);
  return lab;
}

function fillLayers(lab) {
  const names = lab.layers();
  for (const select of [$('cam-layer'), $('gradcam-layer')]) {
    if ([...select.options].map((o) => o.value).join() === ['', ...names].join()) continue;
    const keep = select.value;
    select.replaceChildren(new Option('default', ''), ...names.map((n) => new Option(n, n)));
    select.value = names.includes(keep) ? keep : '';
  }
}

async function loadPhoto(blob, name, truthUrl = null) {
  showError(null);
  const pixels = await photoPixels(blob).catch(() => null); // the worker names decoding errors
  let truth = null;
  if (truthUrl && pixels) {
    const t = await photoPixels(await (await fetch(truthUrl)).blob());
    truth = new Uint8Array(t.width * t.height);
    for (let i = 0; i < truth.length; i++) truth[i] = t.data[i * 4] > 127 ? 255 : 0;
  }
  photo = { blob, name, pixels, truth };
  await segmentPhoto();
}

async function segmentPhoto() {
  if (!photo) return;
  const mine = ++run;
  const sel = selection();
  setState('segmenting');
  try {
    const lab = await currentLab();
    status(`Segmenting ${photo.name} with ${modelLabel(sel)} on ${lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}…`);
    const r = await lab.segment(photo.blob, { threshold: Number($('threshold').value), mode: sel.mode, level: sel.level });
    if (mine !== run) return;
    if (!photo.pixels) photo.pixels = await photoPixels(photo.blob);
    result = { ...r, backend: lab.backend, label: modelLabel(sel) };
    draw();
    $('result').hidden = false;
    $('explain').hidden = false;
    $('compare').hidden = false;
    status(`${modelLabel(sel)} on ${lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: done.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`);
    setState('segmented');
    // For the benchmark: milliseconds from opening the page to the first mask on screen.
    if (window.__firstMaskMs === undefined) window.__firstMaskMs = performance.now();
    await explainPhoto(mine);
  } catch (err) {
    if (mine === run) showError(err);
  }
}

function draw() {
  if (!result || !photo?.pixels) return;
  const t = Number($('threshold').value);
  const mask = threshold(result.probability, t);
  result.mask = mask;
  const image = overlay(photo.pixels, mask, { opacity: Number($('opacity').value), outlineOnly: $('outline').checked });
  show($('overlay'), image);
  $('caption').textContent = `${photo.name}, ${result.width}×${result.height}, ${result.label}`;
  $('area').textContent = `${(area(mask) * 100).toFixed(1)}% of the image`;
  const hasTruth = !!photo.truth && photo.truth.length === mask.length;
  $('dice-term').hidden = $('dice').hidden = !hasTruth;
  if (hasTruth) $('dice').textContent = dice(mask, photo.truth).toFixed(3);
  $('backend-used').textContent = result.backend === 'webgpu' ? 'WebGPU' : 'CPU (WebAssembly)';
  const ms = result.ms;
  $('timing').textContent = `${Math.round(ms.preprocess)} ms preprocess, ${Math.round(ms.model)} ms model, ${Math.round(ms.postprocess)} ms postprocess`;
}

async function explainOne(lab, method, layerSelect, canvas, mine) {
  const sel = selection();
  const h = await lab.explain(photo.blob, { method, layer: layerSelect.value || undefined, mode: sel.mode, level: sel.level });
  if (mine !== run) return;
  show(canvas, heatmapOverlay(photo.pixels, h.heatmap, 0.55));
  if (canvas.id === 'cam') $('cam-blank').hidden = !(method === 'cam' && h.heatmap.every((v) => v === 0));
  canvas.setAttribute('aria-label', `${method === 'gradcam' ? 'Grad-CAM' : method === 'cam' ? 'CAM' : 'Mean activation'} heatmap at layer ${h.layer}`);
  canvas.dataset.layer = h.layer;
}

async function explainPhoto(mine = run, which = ['cam', 'gradcam']) {
  const lab = await currentLab();
  setState('explaining');
  try {
    if (which.includes('cam')) await explainOne(lab, $('cam-method').value, $('cam-layer'), $('cam'), mine);
    if (which.includes('gradcam')) await explainOne(lab, 'gradcam', $('gradcam-layer'), $('gradcam'), mine);
    if (mine === run) {
      setState('done');
      const where = lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU';
      status(`${modelLabel(selection())} on ${where}: mask, CAM and Grad-CAM shown.${lab.backendNote ? ` ${lab.backendNote}.` : ''}`);
    }
  } catch (err) {
    if (mine === run) showError(err);
  }
}

async function compareAll() {
  if (!photo) return;
  const mine = run;
  const out = $('compare-results');
  out.replaceChildren();
  const backend = $('backend').value;
  setState('comparing');
  try {
    for (const model of ['unet', 'unetpp', 'pspnet']) {
      status(`Comparing: ${NAMES[model]}…`);
      const lab = await getLab(model, backend);
      const r = await lab.segment(photo.blob, { threshold: Number($('threshold').value) });
      if (mine !== run) return;
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${NAMES[model]} overlay`);
      show(canvas, overlay(photo.pixels, r.mask, { opacity: Number($('opacity').value), outlineOnly: $('outline').checked }));
      const caption = document.createElement('figcaption');
      const score = photo.truth && photo.truth.length === r.mask.length ? `, Dice ${dice(r.mask, photo.truth).toFixed(3)}` : '';
      caption.textContent = `${NAMES[model]}: ${(area(r.mask) * 100).toFixed(1)}% lesion${score}, ${Math.round(r.ms.model)} ms`;
      figure.append(canvas, caption);
      out.append(figure);
    }
    status('Compared all three models.');
    setState('compared');
  } catch (err) {
    showError(err);
  }
}

function addSamples() {
  const list = $('samples');
  for (const id of SAMPLES) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sample';
    button.dataset.sample = id;
    const img = document.createElement('img');
    img.src = `www/samples/${id}.jpg`;
    img.alt = '';
    img.width = img.height = 96;
    button.append(img, document.createTextNode(id));
    button.setAttribute('aria-label', `Segment sample ${id}`);
    button.addEventListener('click', () => openSample(id));
    li.append(button);
    list.append(li);
  }
}

async function openSample(id) {
  try {
    const blob = await (await fetch(`www/samples/${id}.jpg`)).blob();
    await loadPhoto(blob, `${id}.jpg`, `www/samples/${id}_segmentation.png`);
  } catch (err) {
    showError(err);
  }
}

function openFile(file) {
  if (file) loadPhoto(file, file.name || 'pasted image').catch(showError);
}

function wire() {
  $('file').addEventListener('change', (e) => {
    openFile(e.target.files[0]);
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    openFile(e.dataTransfer.files[0]);
  });
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
  const modelChanged = () => {
    $('level-label').hidden = $('model').value !== 'unetpp-fast';
    $('compare-results').replaceChildren();
    if (photo) segmentPhoto();
    else currentLab().then(() => setState('ready'), showError);
  };
  $('model').addEventListener('change', modelChanged);
  $('level').addEventListener('change', modelChanged);
  $('backend').addEventListener('change', modelChanged);
  $('cam-layer').addEventListener('change', () => explainPhoto(run, ['cam']));
  $('cam-method').addEventListener('change', () => explainPhoto(run, ['cam']));
  $('gradcam-layer').addEventListener('change', () => explainPhoto(run, ['gradcam']));
  $('compare-run').addEventListener('click', compareAll);
  $('download-mask').addEventListener('click', async () => {
    if (!result) return;
    download(await pngBlob(maskImage(result.mask, result.width, result.height)), downloadNames(photo.name).mask);
  });
  $('download-overlay').addEventListener('click', async () => {
    if (!result) return;
    download(await pngBlob(overlay(photo.pixels, result.mask, { opacity: Number($('opacity').value), outlineOnly: $('outline').checked })), downloadNames(photo.name).overlay);
  });
}

function applyQuery() {
  const q = new URLSearchParams(location.search);
  const model = q.get('model');
  if (model && [...$('model').options].some((o) => o.value === model)) $('model').value = model;
  if (q.get('level')) $('level').value = q.get('level');
  if (q.get('backend')) $('backend').value = q.get('backend');
  $('level-label').hidden = $('model').value !== 'unetpp-fast';
  return q.get('sample');
}

// "Segment with these weights" after fine-tuning: that model's segmenter takes them.
async function useWeights(model, bytes) {
  const lab = await getLab(model, $('backend').value);
  await lab.loadWeights(bytes);
  NAMES[model] = `${NAMES[model].replace(/ \(fine-tuned\)$/, '')} (fine-tuned)`;
  if (selection().model !== model) $('model').value = model;
  $('level-label').hidden = $('model').value !== 'unetpp-fast';
  if (photo) await segmentPhoto();
  else status(`${NAMES[model]} ready.`);
}

addSamples();
wire();
setupFineTune({ useWeights });
const sample = applyQuery();
if (sample && isicId(sample)) {
  openSample(isicId(sample));
} else {
  currentLab().then(() => setState('ready'), showError);
}
