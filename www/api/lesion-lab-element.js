// <lesion-lab>: the segmenter as one HTML element, for documentation sites and slides.
//
//   <script type="module" src="www/api/lesion-lab-element.js"></script>  (or www/lesion-lab-element.js, its old path)
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
import { area, overlay, photoPixels, show, threshold as thresholded } from '../page/render.js';
import { MODELS, THRESHOLD } from './rules.js';

const STYLE = new URL('./lesion-lab-element.css', import.meta.url).href;

export class LesionLabElement extends HTMLElement {
  static observedAttributes = ['model', 'backend', 'src', 'threshold'];
  /** @type {Promise<LesionLab> | null} */
  #lab = null;
  #labKey = '';
  #shadow;
  #scheduled = false;
  #run = 0; // answers to an earlier photo or model are dropped
  /** @type {{ result: import('./lesionlab.js').SegmentResult, pixels: ImageData, name: string } | null} */
  #shown = null; // on screen, redrawn when the threshold changes

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
    const input = this.#part('input');
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
      const file = e.dataTransfer?.files[0];
      if (file) this.segment(file, file.name);
    });
  }

  /**
   * The element of this element's own markup (in its shadow tree) that `selector` names.
   * @param {string} selector
   * @returns {any}
   */
  #part(selector) {
    return this.#shadow.querySelector(selector);
  }

  connectedCallback() {
    this.#schedule();
  }

  /**
   * @param {string} name
   * @param {string | null} before
   * @param {string | null} after
   */
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
    this.#status(
      `${name}: lesion ${(area(result.mask) * 100).toFixed(1)}% of the image (threshold ${this.#threshold()})`,
    );
  }

  /**
   * @param {ImageData} pixels
   * @param {Uint8Array} mask
   */
  #draw(pixels, mask) {
    const frame = this.#part('.frame');
    frame.style.aspectRatio = `${pixels.width} / ${pixels.height}`;
    frame.hidden = false;
    show(this.#part('canvas'), overlay(pixels, mask));
  }

  disconnectedCallback() {
    this.#lab?.then(
      (lab) => lab.dispose(),
      () => {},
    );
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
      if (!this.isConnected || !this.getAttribute('src')) return;
      // The photo's place is taken at once, before its bytes arrive: the prose below never jumps.
      this.#part('.frame').hidden = false;
      this.#segmentSrc();
    });
  }

  /** @param {string} text */
  #status(text) {
    this.#part('.status').textContent = text;
  }

  #getLab() {
    // The attributes as written: `create` refuses what is not a model or a backend.
    const model = /** @type {import('./lesionlab.js').ModelId} */ (this.getAttribute('model') || 'unetpp');
    const backend = /** @type {import('./lesionlab.js').BackendChoice} */ (this.getAttribute('backend') || 'auto');
    const key = `${model}/${backend}`;
    if (key !== this.#labKey || !this.#lab) {
      this.#lab?.then(
        (lab) => lab.dispose(),
        () => {},
      );
      this.#labKey = key;
      // U-Net++ shows a quick look from its quick-start file while its whole weights load.
      this.#lab = LesionLab.create({
        model,
        backend,
        quickStart: true,
        onBackend: (e) => {
          if (e.backend === 'webgpu') keepOffline();
        },
      });
    }
    return this.#lab;
  }

  async #segmentSrc() {
    const src = new URL(this.getAttribute('src') ?? '', document.baseURI);
    const name = src.pathname.split('/').pop();
    try {
      const response = await fetch(src);
      if (!response.ok) throw new Error(`${src.pathname}: HTTP ${response.status}`);
      await this.segment(await response.blob(), name);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** @param {any} err */
  #fail(err) {
    this.#status(`Error: ${err.message}`);
    this.dataset.state = 'error';
    this.dispatchEvent(new CustomEvent('error', { detail: err }));
  }

  /**
   * Segments a photo (Blob or File) and draws the overlay; resolves to the segment result (null
   * when it failed, or another photo came first).
   * @param {Blob} blob
   * @param {string} [name]
   * @returns {Promise<import('./lesionlab.js').SegmentResult | null>}
   */
  async segment(blob, name = 'photo') {
    const mine = ++this.#run;
    this.dataset.state = 'busy';
    this.#shown = null;
    // The photo's place stays (a 4:3 box until its size is known): the prose below does not jump.
    const canvas = this.#part('canvas');
    canvas.width = canvas.height = 0;
    this.#part('.frame').hidden = false;
    this.#part('.warning').hidden = true;
    this.#status(`Segmenting ${name}…`);
    try {
      const lab = await this.#getLab();
      const threshold = this.#threshold();
      let pixels = null;
      const level = lab.quickStartLevel;
      if (level) {
        // A quick look (one of U-Net++'s heads alone) while the whole weights load; the whole
        // model's mask replaces it. `data-first-mask` says which came first.
        const quick = await lab.segment(blob, { threshold, mode: 'head', level, refine: false });
        pixels = await photoPixels(blob);
        if (mine !== this.#run) return null;
        this.#draw(pixels, quick.mask);
        this.dataset.firstMask ??= 'quick';
        this.#status(`${name}: a quick look (head ${level} alone); the whole model's mask follows…`);
      }
      const r = await lab.segment(blob, { threshold });
      pixels ??= await photoPixels(blob);
      if (mine !== this.#run) return null;
      this.#draw(pixels, r.mask);
      this.#shown = { result: r, pixels, name };
      const legend = this.#part('.legend');
      legend.querySelector('.legend-text').textContent =
        `the lesion outline found by ${MODELS.find((m) => m.id === lab.model)?.name ?? lab.model}`;
      legend.hidden = false;
      this.dataset.firstMask ??= 'whole';
      const warning = this.#part('.warning');
      warning.textContent = r.check.warning ?? '';
      warning.hidden = !r.check.warning;
      this.#status(
        `${name}: lesion ${(area(r.mask) * 100).toFixed(1)}% of the image (${r.backend === 'webgpu' ? 'WebGPU' : 'CPU'}, ${Math.round(r.ms.model)} ms)`,
      );
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
