// The page's "Score a folder" section: ISIC photos and expert masks in, every pair segmented and
// scored by the code of `lesionlab eval` (in the worker), then the summary, a sortable table, a
// histogram of the Jaccard, the five worst photos and a CSV. With fine-tuned weights on the page,
// the same files can be scored with the shipped weights too, side by side.
// State for tests and styles: the section's data-state = idle | running | done | error.

import { LesionLab } from '../api/lesionlab.js';
import { download, maskOf, overlay, photoPixels, show, showSkipped } from './render.js';

/** @typedef {import('../api/lesionlab.js').LesionLab} Lab */
/** @typedef {import('../api/lesionlab.js').EvaluateResult} EvaluateResult */
/** @typedef {import('../api/lesionlab.js').EvaluatedImage} EvaluatedImage */
/** @typedef {import('../api/lesionlab.js').WorstImage} WorstImage */
/** @typedef {import('../api/lesionlab.js').Scores} Scores */

/**
 * What the page segments with now (app.js).
 * @typedef {object} Selected
 * @property {string} model
 * @property {string} mode
 * @property {number} level
 * @property {string} backend
 * @property {string} label The model's name for captions.
 * @property {boolean} tuned Whether the page segments with fine-tuned weights for `model`.
 */

/**
 * @typedef {object} Hooks
 * @property {() => Selected} selected
 * @property {() => Promise<Lab>} labFor The page's LesionLab of the chosen model (fine-tuned weights if any).
 * @property {() => Promise<Lab>} shippedLab A new LesionLab with the shipped weights, for the caller to dispose.
 */

/**
 * One scoring of the chosen files.
 * @typedef {object} Run
 * @property {EvaluateResult} result
 * @property {string} label The model as captions name it.
 * @property {string} key Model, mode and level: a comparison needs the same on both sides.
 * @property {boolean} tuned
 * @property {number} seconds
 */

/** @typedef {EvaluatedImage & { delta: number | null }} Row */
/** @typedef {'name' | 'jaccard' | 'dice' | 'thresholdedJaccard' | 'sensitivity' | 'specificity' | 'ms' | 'delta'} SortKey */

/**
 * The page's element of `id`. Untyped: what each is (an input, a canvas...) is index.html's to say.
 * @param {string} id
 * @returns {any}
 */
const $ = (id) => document.getElementById(id);

/** @type {{ key: SortKey, heading: string }[]} */
const COLUMNS = [
  { key: 'name', heading: 'Photo' },
  { key: 'jaccard', heading: 'Jaccard' },
  { key: 'dice', heading: 'Dice' },
  { key: 'thresholdedJaccard', heading: 'Thresholded Jaccard' },
  { key: 'sensitivity', heading: 'Sensitivity' },
  { key: 'specificity', heading: 'Specificity' },
  { key: 'ms', heading: 'Time (ms)' },
];
/** @type {{ key: SortKey, heading: string }} */
const DELTA = { key: 'delta', heading: 'Jaccard change from shipped' };

/** The CSV's columns, as `lesionlab eval` names the scores. */
const CSV_COLUMNS = [
  'name',
  'image',
  'mask',
  'jaccard',
  'dice',
  'thresholded_jaccard',
  'sensitivity',
  'specificity',
  'accuracy',
  'ms',
];
const BINS = 10;

/** @type {Hooks} */
let hooks;
/** @type {File[]} */
let files = [];
let pairsFound = 0; // pairs among `files` by name; Start needs at least one
let busy = false;
/** @type {Run | null} */
let scored = null; // the run on screen, of `files`
/** @type {Run | null} */
let shipped = null; // the shipped weights on the same files, after "Compare"
/** @type {SortKey} */
let sortKey = 'name';
let ascending = true;

/** @param {'idle' | 'running' | 'done' | 'error'} state */
function setState(state) {
  $('evaluate').dataset.state = state;
  busy = state === 'running';
  $('eval-files').disabled = $('eval-folder').disabled = busy;
  $('eval-go').disabled = busy || pairsFound === 0;
  $('eval-csv').disabled = busy;
  refreshCompare();
}

// The page says nothing when its weights change (fine-tuning's "Segment with these weights"),
// so this runs whenever the user comes to the section, as well as after each step here.
function refreshCompare() {
  $('eval-compare').disabled = busy || pairsFound === 0 || !hooks.selected().tuned;
}

/** @param {string} text */
function say(text) {
  $('eval-status').textContent = text;
}

/** @param {unknown} err */
function showError(err) {
  const el = $('eval-error');
  el.textContent = err ? String(/** @type {any} */ (err).message ?? err) : '';
  el.hidden = !err;
}

// Earlier results belong to earlier files: they go, so that Compare and the CSV never mix the two.
/** @param {Iterable<File>} list */
async function takeFiles(list) {
  if (busy) return;
  files = [...list];
  pairsFound = 0;
  scored = shipped = null;
  $('eval-results').hidden = true;
  $('eval-progress-row').hidden = true;
  showError(null);
  say('');
  setState('idle');
  $('eval-found').textContent = `${files.length} file(s): pairing them…`;
  try {
    // Names only: no model is loaded for this.
    const found = await LesionLab.pairFiles(files);
    const inside = found.files !== files.length ? ` (${found.files} files with the zips' contents)` : '';
    pairsFound = found.pairs;
    $('eval-found').textContent = found.pairs
      ? `${files.length} file(s)${inside}: ${found.pairs} photo/mask pair(s) to score.`
      : `${files.length} file(s)${inside}: no photo/mask pair. A photo NAME.jpg needs a mask named NAME_segmentation.png or NAME_mask.png.`;
  } catch (err) {
    $('eval-found').textContent = '';
    showError(new Error(`Cannot read these files: ${/** @type {Error} */ (err).message}`));
  }
  setState('idle');
}

/** @param {Selected} sel */
function keyOf(sel) {
  return `${sel.model}/${sel.mode}/${sel.level}`;
}

/**
 * @param {string} label
 * @param {number} total
 */
function startProgress(label, total) {
  $('eval-progress-row').hidden = false;
  $('eval-progress-label').textContent = label;
  showProgress({ done: 0, total });
}

/** @param {{ done: number, total: number }} p */
function showProgress({ done, total }) {
  const bar = $('eval-progress');
  bar.max = Math.max(1, total);
  bar.value = done;
  $('eval-progress-text').textContent = `${done} of ${total}`;
}

/**
 * `files` scored by `lab` with the page's mode and level.
 * @param {Lab} lab
 * @param {Selected} sel
 * @param {string} label
 * @returns {Promise<Run>}
 */
async function score(lab, sel, label) {
  const t0 = performance.now();
  const result = await lab.evaluate(files, { mode: sel.mode, level: sel.level, onProgress: showProgress });
  return { result, label, key: keyOf(sel), tuned: sel.tuned, seconds: (performance.now() - t0) / 1000 };
}

/** @returns {Promise<Run>} */
async function scoreWithPage() {
  const sel = hooks.selected();
  startProgress(`Photos scored with ${sel.label}`, pairsFound);
  say(`Loading ${sel.label}…`);
  const lab = await hooks.labFor();
  say(`Scoring ${pairsFound} pair(s) with ${sel.label}…`);
  return score(lab, sel, sel.label);
}

/** @returns {Promise<Run>} */
async function scoreWithShipped() {
  const sel = hooks.selected();
  startProgress('Photos scored with the shipped weights', pairsFound);
  say('Loading the shipped weights…');
  const lab = await hooks.shippedLab();
  try {
    say(`Scoring ${pairsFound} pair(s) with the shipped weights…`);
    return await score(lab, { ...sel, tuned: false }, 'the shipped weights');
  } finally {
    lab.dispose();
  }
}

/** @param {() => Promise<void>} work */
async function busyWith(work) {
  if (busy || !pairsFound) return;
  showError(null);
  setState('running');
  try {
    await work();
    setState('done');
  } catch (err) {
    say('Stopped: see the message below.');
    showError(err);
    setState('error');
  }
}

function start() {
  return busyWith(async () => {
    scored = await scoreWithPage();
    shipped = null;
    await showResults();
  });
}

// The fine-tuned side is scored again when what is on screen is not the page's model as chosen
// now (another model, mode or level, or scored before the weights changed).
function compare() {
  return busyWith(async () => {
    const sel = hooks.selected();
    if (!sel.tuned)
      throw new Error('The page segments with the shipped weights: there is nothing to compare them with.');
    if (!scored || scored.key !== keyOf(sel) || !scored.tuned) {
      scored = await scoreWithPage();
      shipped = null;
      await showResults();
    }
    shipped = await scoreWithShipped();
    await showResults();
  });
}

/**
 * Where a run ran, in words.
 * @param {EvaluateResult} result
 */
function where({ backend, threads }) {
  return backend === 'webgpu' ? 'WebGPU' : threads > 1 ? `the CPU (${threads} threads)` : 'the CPU';
}

/** @param {number} seconds */
function duration(seconds) {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} min`;
}

async function showResults() {
  if (!scored) return;
  const { result, label, seconds } = scored;
  const skipped = result.skipped.length;
  $('eval-summary-line').textContent =
    `${result.count} photo(s) scored with ${label} on ${where(result)} in ${duration(seconds)}; ` +
    `${skipped ? `${skipped} file(s) skipped (listed below)` : 'no file skipped'}.` +
    (shipped ? ` The shipped weights: ${duration(shipped.seconds)}.` : '');
  showSummary();
  showSkipped('eval', result.skipped);
  showTable();
  drawHistogram($('eval-histogram'), result.images);
  $('eval-results').hidden = false;
  say(`Done: ${result.count} photo(s) scored.${shipped ? ' The shipped weights beside them.' : ''}`);
  await drawWorst(result.worst, label);
}

/**
 * @param {HTMLTableRowElement} tr
 * @param {'th' | 'td'} tag
 * @param {string} text
 * @param {'col' | 'row' | ''} [scope]
 */
function cell(tr, tag, text, scope = '') {
  const el = document.createElement(tag);
  el.textContent = text;
  if (scope) el.setAttribute('scope', scope);
  tr.append(el);
}

/** Mean, median and pooled Jaccard and Dice; with a comparison, each side's beside the other's. */
function showSummary() {
  if (!scored) return;
  const runs = shipped ? [scored, shipped] : [scored];
  const side = (/** @type {Run} */ run) => (shipped ? ` (${run === shipped ? 'shipped' : 'fine-tuned'})` : '');
  const table = $('eval-summary');
  const head = document.createElement('tr');
  cell(head, 'th', 'Over the photos', 'col');
  for (const metric of ['Jaccard', 'Dice']) for (const run of runs) cell(head, 'th', `${metric}${side(run)}`, 'col');
  table.tHead.replaceChildren(head);
  /** @type {[string, 'mean' | 'median' | 'pooled'][]} */
  const stats = [
    ['Mean (the challenge score)', 'mean'],
    ['Median', 'median'],
    ['Pooled (all pixels as one image)', 'pooled'],
  ];
  table.tBodies[0].replaceChildren(
    ...stats.map(([name, stat]) => {
      const tr = document.createElement('tr');
      cell(tr, 'th', name, 'row');
      for (const metric of /** @type {const} */ (['jaccard', 'dice'])) {
        for (const run of runs) cell(tr, 'td', run.result[stat][metric].toFixed(4));
      }
      return tr;
    }),
  );
}

/**
 * The table's rows, with each photo's change from the shipped weights when compared.
 * @returns {Row[]}
 */
function rows() {
  if (!scored) return [];
  const before = new Map((shipped?.result.images ?? []).map((r) => [r.name, r.jaccard]));
  return scored.result.images.map((r) => {
    const other = before.get(r.name);
    return { ...r, delta: other == null ? null : r.jaccard - other };
  });
}

function columns() {
  return shipped ? [...COLUMNS, DELTA] : COLUMNS;
}

// Headings are rebuilt only with the columns: a click re-sorts the rows and keeps the focus on
// the heading's button.
function showTable() {
  if (!columns().some((c) => c.key === sortKey)) [sortKey, ascending] = ['name', true];
  const tr = document.createElement('tr');
  for (const { key, heading } of columns()) {
    const th = document.createElement('th');
    th.scope = 'col';
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.key = key;
    const mark = document.createElement('span');
    mark.className = 'sort-mark';
    mark.setAttribute('aria-hidden', 'true');
    button.append(heading, mark);
    button.addEventListener('click', () => sortBy(key));
    th.append(button);
    tr.append(th);
  }
  $('eval-table').tHead.replaceChildren(tr);
  showRows();
}

/** @param {SortKey} key */
function sortBy(key) {
  ascending = key === sortKey ? !ascending : true;
  sortKey = key;
  showRows();
}

/**
 * @param {Row} a
 * @param {Row} b
 */
function byKey(a, b) {
  if (sortKey === 'name') return a.name.localeCompare(b.name);
  const [x, y] = [a[sortKey], b[sortKey]];
  // Photos without a value (no comparison for them) stay last either way.
  if (x == null || y == null) return (x == null ? 1 : 0) - (y == null ? 1 : 0);
  return x - y;
}

/**
 * @param {SortKey} key
 * @param {number | null} value
 */
function formatted(key, value) {
  if (value == null) return '–';
  if (key === 'ms') return String(Math.round(value));
  if (key === 'delta') return `${value > 0 ? '+' : ''}${value.toFixed(4)}`;
  return value.toFixed(4);
}

function showRows() {
  const list = rows().sort(byKey);
  if (!ascending) list.reverse();
  for (const th of $('eval-table').tHead.rows[0]?.cells ?? []) {
    const key = th.querySelector('button').dataset.key;
    if (key === sortKey) th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
    th.querySelector('.sort-mark').textContent = key === sortKey ? (ascending ? ' ▲' : ' ▼') : '';
  }
  $('eval-table').tBodies[0].replaceChildren(
    ...list.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.name = r.name;
      for (const { key } of columns()) {
        if (key === 'name') cell(tr, 'th', r.name, 'row');
        else cell(tr, 'td', formatted(key, r[key]));
      }
      return tr;
    }),
  );
}

/**
 * How many photos fall in each tenth of [0, 1] (1 in the last).
 * @param {number[]} values
 */
export function jaccardBins(values) {
  const counts = new Array(BINS).fill(0);
  for (const v of values) counts[Math.min(BINS - 1, Math.max(0, Math.floor(v * BINS)))]++;
  return counts;
}

/**
 * A bar per tenth of the Jaccard, its count on top; the colours are the page's (light or dark).
 * @param {HTMLCanvasElement} canvas
 * @param {EvaluatedImage[]} images
 */
function drawHistogram(canvas, images) {
  const counts = jaccardBins(images.map((r) => r.jaccard));
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const style = getComputedStyle(canvas);
  const colour = (/** @type {string} */ name, /** @type {string} */ fallback) =>
    style.getPropertyValue(name).trim() || fallback;
  const [bg, fg, accent, line] = [
    colour('--panel', '#fff'),
    colour('--fg', '#1b1b1f'),
    colour('--accent', '#b0125b'),
    colour('--line', '#d6d3cf'),
  ];
  const { width, height } = canvas;
  const pad = { left: 16, right: 16, top: 24, bottom: 44 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const most = Math.max(1, ...counts);
  const barW = plotW / BINS;
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, width, height);
  ctx.font = '13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  counts.forEach((n, i) => {
    const h = (n / most) * plotH;
    const x = pad.left + i * barW;
    ctx.fillStyle = accent;
    ctx.fillRect(x + 2, pad.top + plotH - h, barW - 4, h);
    ctx.fillStyle = fg;
    if (n) ctx.fillText(String(n), x + barW / 2, pad.top + plotH - h - 6);
  });
  ctx.strokeStyle = line;
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top + plotH + 0.5);
  ctx.lineTo(pad.left + plotW, pad.top + plotH + 0.5);
  ctx.stroke();
  ctx.fillStyle = fg;
  for (let i = 0; i <= BINS; i += 2) ctx.fillText((i / BINS).toFixed(1), pad.left + i * barW, pad.top + plotH + 16);
  ctx.fillText('Jaccard of each photo (photos per tenth)', pad.left + plotW / 2, height - 8);
  const parts = counts.map((n, i) => `${(i / BINS).toFixed(1)} to ${((i + 1) / BINS).toFixed(1)}: ${n}`);
  canvas.setAttribute(
    'aria-label',
    `Histogram of the Jaccard of ${images.length} photo(s), photos per tenth: ${parts.join(', ')}`,
  );
}

/**
 * `image` at `width` x `height` (masks without smoothing, so they stay 0 or 255).
 * @param {ImageData} image
 * @param {number} width
 * @param {number} height
 * @param {boolean} smooth
 * @returns {ImageData}
 */
function fitted(image, width, height, smooth) {
  if (image.width === width && image.height === height) return image;
  const from = new OffscreenCanvas(image.width, image.height);
  /** @type {OffscreenCanvasRenderingContext2D} */ (from.getContext('2d')).putImageData(image, 0, 0);
  const to = new OffscreenCanvas(width, height);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (to.getContext('2d', { willReadFrequently: true }));
  ctx.imageSmoothingEnabled = smooth;
  ctx.drawImage(from, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

/**
 * One of the worst photos with the model's mask and the expert's outline, as the page draws a
 * photo with its expert mask. The mask is at the scored size, which the files are brought to.
 * @param {WorstImage} w
 * @param {string} label
 */
async function worstFigure(w, label) {
  const figure = document.createElement('figure');
  const caption = document.createElement('figcaption');
  caption.textContent = `${w.name}: Jaccard ${w.jaccard.toFixed(4)}`;
  try {
    const photo = fitted(await photoPixels(w.photo), w.width, w.height, true);
    const truth = maskOf(fitted(await photoPixels(w.truth), w.width, w.height, false));
    const canvas = document.createElement('canvas');
    show(canvas, overlay(photo, w.prediction, { opacity: 0.35, truth }));
    canvas.setAttribute('role', 'img');
    canvas.setAttribute(
      'aria-label',
      `${w.name}: the lesion ${label} found outlined, the expert's outline dashed; Jaccard ${w.jaccard.toFixed(4)}`,
    );
    figure.append(canvas);
  } catch (err) {
    caption.textContent += ` (cannot be drawn: ${/** @type {Error} */ (err).message})`;
  }
  figure.append(caption);
  return figure;
}

/**
 * @param {WorstImage[]} worst
 * @param {string} label
 */
async function drawWorst(worst, label) {
  $('eval-worst-heading').textContent =
    worst.length === 1 ? 'The worst photo' : `The ${worst.length} worst photos (lowest Jaccard first)`;
  const figures = [];
  for (const w of worst) figures.push(await worstFigure(w, label));
  $('eval-worst').replaceChildren(...figures);
}

/**
 * The scores per photo in the order scored, as `lesionlab eval` names them.
 * @param {EvaluatedImage[]} images
 */
export function csvOf(images) {
  const field = (/** @type {string | number} */ v) =>
    typeof v === 'number' ? v.toFixed(4) : /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
  const lines = images.map((r) =>
    [r.name, r.image, r.mask, r.jaccard, r.dice, r.thresholdedJaccard, r.sensitivity, r.specificity, r.accuracy, r.ms]
      .map(field)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

function downloadCsv() {
  if (!scored) return;
  const [model] = scored.key.split('/');
  const name = `lesionlab-eval-${model}${scored.tuned ? '-finetuned' : ''}.csv`;
  download(new Blob([csvOf(scored.result.images)], { type: 'text/csv' }), name);
}

/**
 * Every file of a drop, the files in dropped folders included (a folder's own File cannot be
 * read). The entries are taken before the first await: the drop's data is gone after it.
 * @param {DataTransfer} transfer
 * @returns {Promise<File[]>}
 */
async function droppedFiles(transfer) {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((e) => e != null);
  if (!entries.length) return [...transfer.files];
  /** @type {File[]} */
  const out = [];
  for (const entry of entries) await collect(entry, out);
  return out;
}

/**
 * @param {FileSystemEntry} entry
 * @param {File[]} out
 */
async function collect(entry, out) {
  if (entry.isFile) {
    const file = /** @type {FileSystemFileEntry} */ (entry);
    out.push(await new Promise((ok, no) => file.file(ok, no)));
    return;
  }
  const reader = /** @type {FileSystemDirectoryEntry} */ (entry).createReader();
  // A folder's entries come in batches (100 at a time in Chromium) until an empty one.
  for (;;) {
    /** @type {FileSystemEntry[]} */
    const batch = await new Promise((ok, no) => reader.readEntries(ok, no));
    if (!batch.length) return;
    for (const child of batch) await collect(child, out);
  }
}

// Drops on the section are its own: stopped here, they never reach the page's handler, which
// would open the first file as the photo to segment.
function wireDrop() {
  const section = $('evaluate');
  const zone = $('eval-drop');
  section.addEventListener('dragover', (/** @type {DragEvent} */ e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.add('over');
  });
  section.addEventListener('dragleave', (/** @type {DragEvent} */ e) => {
    if (!section.contains(/** @type {Node | null} */ (e.relatedTarget))) zone.classList.remove('over');
  });
  section.addEventListener('drop', (/** @type {DragEvent} */ e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.remove('over');
    if (!e.dataTransfer) return;
    droppedFiles(e.dataTransfer).then(takeFiles, showError);
  });
}

/**
 * Wires the section.
 * @param {Hooks} options
 */
export function setupEvaluate(options) {
  hooks = options;
  for (const id of ['eval-files', 'eval-folder']) {
    $(id).addEventListener('change', (/** @type {Event} */ e) =>
      takeFiles(/** @type {HTMLInputElement} */ (e.target).files ?? []),
    );
  }
  wireDrop();
  $('eval-go').addEventListener('click', start);
  $('eval-compare').addEventListener('click', compare);
  $('eval-csv').addEventListener('click', downloadCsv);
  for (const event of ['pointerenter', 'focusin']) $('evaluate').addEventListener(event, refreshCompare);
  $('model').addEventListener('change', refreshCompare);
  setState('idle');
}
