// <lesion-lab>: the segmenter as one HTML element, for documentation sites and slides.
//
//   <script type="module" src="www/lesion-lab-element.js"></script>
//   <lesion-lab model="unetpp" src="www/samples/ISIC_0001126.jpg"></lesion-lab>
//
// Attributes: model (unet | unetpp | pspnet, default unetpp), backend (auto | webgpu | cpu),
// threshold (default 0.5), src (a photo to segment at once, optional). Readers can drop or pick
// their own photo. Events: `segmented` (detail: the segment result) and `error` (detail: Error).
// After its first mask it registers LesionLab's service worker (`sw.js` beside www/), which
// keeps LesionLab's own files, and only those, for offline use.

import { LesionLab } from './lesionlab.js';
import { keepOffline } from './offline.js';
import { area, overlay, photoPixels, show } from './render.js';
import { THRESHOLD } from './rules.js';

const STYLE = new URL('./lesion-lab-element.css', import.meta.url).href;

class LesionLabElement extends HTMLElement {
  static observedAttributes = ['model', 'backend', 'src'];
  #lab = null;
  #labKey = '';
  #shadow;
  #scheduled = false;
  #run = 0; // answers to an earlier photo or model are dropped

  constructor() {
    super();
    this.#shadow = this.attachShadow({ mode: 'open' });
    this.#shadow.innerHTML = `
      <link rel="stylesheet" href="${STYLE}">
      <label class="drop" part="drop">Drop a photo or <u>choose one</u>
        <input type="file" accept="image/jpeg,image/png,image/*" aria-label="Photo to segment"></label>
      <canvas part="canvas" role="img" aria-label="Segmentation overlay" hidden></canvas>
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
    if (before !== after) this.#schedule();
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
    this.#shadow.querySelector('canvas').hidden = true;
    this.#shadow.querySelector('.warning').hidden = true;
    this.#status(`Segmenting ${name}…`);
    try {
      const lab = await this.#getLab();
      const threshold = Number(this.getAttribute('threshold') || THRESHOLD);
      const canvas = this.#shadow.querySelector('canvas');
      let pixels = null;
      if (lab.fastOnly) {
        // A quick look (U-Net++'s fast mode) while the whole weights load; the whole model's
        // mask replaces it. `data-first-mask` says which came first.
        const quick = await lab.segment(blob, { threshold, mode: 'fast', level: lab.fastOnly });
        pixels = await photoPixels(blob);
        if (mine !== this.#run) return null;
        show(canvas, overlay(pixels, quick.mask));
        canvas.hidden = false;
        this.dataset.firstMask ??= 'quick';
        this.#status(`${name}: a quick look (fast mode, level ${lab.fastOnly}); the whole model's mask follows…`);
      }
      const r = await lab.segment(blob, { threshold });
      pixels ??= await photoPixels(blob);
      if (mine !== this.#run) return null;
      show(canvas, overlay(pixels, r.mask));
      canvas.hidden = false;
      this.dataset.firstMask ??= 'whole';
      const warning = this.#shadow.querySelector('.warning');
      warning.textContent = r.check.warning ?? '';
      warning.hidden = r.check.looksLikeDermoscopy;
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
