// <lesion-lab>: the segmenter as one HTML element, for documentation sites and slides.
//
//   <script type="module" src="www/lesion-lab-element.js"></script>
//   <lesion-lab model="unetpp" src="www/samples/ISIC_0001126.jpg"></lesion-lab>
//
// Attributes: model (unet | unetpp | pspnet, default unetpp), backend (auto | webgpu | cpu),
// threshold (default 0.5; a change redraws the mask without running the model again), src (a
// photo to segment at once, optional). Readers can drop or pick their own photo. Events:
// `segmented` (detail: the segment result) and `error` (detail: Error). Its text takes the page's
// colour (`color` of the element), so it reads on light and dark documentation themes; the photo's
// place is kept while the mask is computed, so the text below does not jump.
// After its first mask it registers LesionLab's service worker (`sw.js` beside www/), which
// keeps LesionLab's own files, and only those, for offline use.

import { LesionLab } from './lesionlab.js';
import { keepOffline } from './offline.js';
import { area, overlay, photoPixels, show, threshold as thresholded } from './render.js';
import { MODELS, THRESHOLD } from './rules.js';

const STYLE = new URL('./lesion-lab-element.css', import.meta.url).href;

class LesionLabElement extends HTMLElement {
  static observedAttributes = ['model', 'backend', 'src', 'threshold'];
  #lab = null;
  #labKey = '';
  #shadow;
  #scheduled = false;
  #run = 0; // answers to an earlier photo or model are dropped
  #shown = null; // { result, pixels, name } on screen, redrawn when the threshold changes

  constructor() {
    super();
    this.#shadow = this.attachShadow({ mode: 'open' });
    this.#shadow.innerHTML = `
      <link rel="stylesheet" href="${STYLE}">
      <label class="drop" part="drop">Drop a photo or <u>choose one</u>
        <input type="file" accept="image/jpeg,image/png,image/*" aria-label="Photo to segment"></label>
      <div class="frame" part="frame" hidden><canvas part="canvas" role="img" aria-label="Segmentation overlay"></canvas></div>
      <p class="legend" part="legend" hidden><span class="swatch" aria-hidden="true"></span> <span class="legend-text"></span></p>
      <p class="warning" part="warning" hidden></p>
      <p class="status" part="status" role="status" aria-live="polite"></p>
      <p class="disclaimer" part="disclaimer">For teaching and research only: not a diagnosis.</p>`;
    const input = this.#shadow.querySelector('input');
    input.addEventListener('change', () => input.files[0] && this.segment(input.files[0], input.files[0].name));
    // A photo dropped anywhere on the element, the result included.
    this.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.classList.add('dragging');
    });
    this.addEventListener('dragleave', () => this.classList.remove('dragging'));
    this.addEventListener('drop', (e) => {
      e.preventDefault();
      this.classList.remove('dragging');
      const file = e.dataTransfer.files[0];
      if (file) this.segment(file, file.name);
    });
  }

  connectedCallback() {
    this.#schedule();
  }

  attributeChangedCallback(name, before, after) {
    if (before === after) return;
    if (name === 'threshold') this.#redraw();
    else this.#schedule();
  }

  #threshold() {
    const t = Number(this.getAttribute('threshold') || THRESHOLD);
    return t >= 0 && t <= 1 ? t : THRESHOLD;
  }

  /** The mask on screen again at the threshold the attribute now says. */
  #redraw() {
    if (!this.#shown) return;
    const { result, pixels, name } = this.#shown;
    result.mask = thresholded(result.probability, this.#threshold());
    this.#draw(pixels, result.mask);
    this.#status(`${name}: lesion ${(area(result.mask) * 100).toFixed(1)}% of the image (threshold ${this.#threshold()})`);
  }

  #draw(pixels, mask) {
    const frame = this.#shadow.querySelector('.frame');
    frame.style.aspectRatio = `${pixels.width} / ${pixels.height}`;
    frame.hidden = false;
    show(this.#shadow.querySelector('canvas'), overlay(pixels, mask));
  }

  disconnectedCallback() {
    this.#lab?.then((lab) => lab.dispose(), () => {});
    this.#lab = null;
    this.#labKey = '';
  }

  // The parser sets every attribute and connects the element in one go: one segmentation for
  // all of it, after the current task, not one per callback.
  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.isConnected && this.getAttribute('src')) this.#segmentSrc();
    });
  }

  #status(text) {
    this.#shadow.querySelector('.status').textContent = text;
  }

  #getLab() {
    const model = this.getAttribute('model') || 'unetpp';
    const backend = this.getAttribute('backend') || 'auto';
    const key = `${model}/${backend}`;
    if (key !== this.#labKey) {
      this.#lab?.then((lab) => lab.dispose(), () => {});
      this.#labKey = key;
      // U-Net++ shows a quick look from its quick-start file while its whole weights load.
      this.#lab = LesionLab.create({ model, backend, quickStart: true, onBackend: (e) => e.backend === 'webgpu' && keepOffline() });
    }
    return this.#lab;
  }

  async #segmentSrc() {
    const src = new URL(this.getAttribute('src'), document.baseURI);
    const name = src.pathname.split('/').pop();
    try {
      const response = await fetch(src);
      if (!response.ok) throw new Error(`${src.pathname}: HTTP ${response.status}`);
      await this.segment(await response.blob(), name);
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err) {
    this.#status(`Error: ${err.message}`);
    this.dataset.state = 'error';
    this.dispatchEvent(new CustomEvent('error', { detail: err }));
  }

  /** Segments a photo (Blob or File) and draws the overlay; resolves to the segment result. */
  async segment(blob, name = 'photo') {
    const mine = ++this.#run;
    this.dataset.state = 'busy';
    this.#shown = null;
    // The photo's place stays (a 4:3 box until its size is known): the prose below does not jump.
    const canvas = this.#shadow.querySelector('canvas');
    canvas.width = canvas.height = 0;
    this.#shadow.querySelector('.frame').hidden = false;
    this.#shadow.querySelector('.warning').hidden = true;
    this.#status(`Segmenting ${name}…`);
    try {
      const lab = await this.#getLab();
      const threshold = this.#threshold();
      let pixels = null;
      if (lab.fastOnly) {
        // A quick look (U-Net++'s fast mode) while the whole weights load; the whole model's
        // mask replaces it. `data-first-mask` says which came first.
        const quick = await lab.segment(blob, { threshold, mode: 'fast', level: lab.fastOnly, refine: false });
        pixels = await photoPixels(blob);
        if (mine !== this.#run) return null;
        this.#draw(pixels, quick.mask);
        this.dataset.firstMask ??= 'quick';
        this.#status(`${name}: a quick look (fast mode, level ${lab.fastOnly}); the whole model's mask follows…`);
      }
      const r = await lab.segment(blob, { threshold });
      pixels ??= await photoPixels(blob);
      if (mine !== this.#run) return null;
      this.#draw(pixels, r.mask);
      this.#shown = { result: r, pixels, name };
      const legend = this.#shadow.querySelector('.legend');
      legend.querySelector('.legend-text').textContent = `the lesion outline found by ${MODELS.find((m) => m.id === lab.model)?.name ?? lab.model}`;
      legend.hidden = false;
      this.dataset.firstMask ??= 'whole';
      const warning = this.#shadow.querySelector('.warning');
      warning.textContent = r.check.warning ?? '';
      warning.hidden = !r.check.warning;
      this.#status(`${name}: lesion ${(area(r.mask) * 100).toFixed(1)}% of the image (${r.backend === 'webgpu' ? 'WebGPU' : 'CPU'}, ${Math.round(r.ms.model)} ms)`);
      this.dataset.state = 'done';
      keepOffline();
      this.dispatchEvent(new CustomEvent('segmented', { detail: r }));
      return r;
    } catch (err) {
      if (mine === this.#run) this.#fail(err);
      return null;
    }
  }
}

if (!customElements.get('lesion-lab')) customElements.define('lesion-lab', LesionLabElement);
