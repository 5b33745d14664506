// A user's corrections of a mask: brush strokes that paint lesion and eraser strokes that
// remove it, kept as strokes so that undo and redo replay them. The edits are a layer over the
// model's mask, not a copy of it: a new threshold or another model's mask of the same photo
// keeps them.

const PAINT = 1;
const ERASE = -1;

export class MaskEdits {
  #strokes = []; // { value, radius, points: [[x, y]] }
  #undone = [];
  #layer;

  /** Edits of a `width` x `height` mask. */
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.#layer = new Int8Array(width * height);
  }

  /** Per pixel: 1 painted by hand, -1 erased, 0 as the model said (read-only, kept current). */
  get layer() {
    return this.#layer;
  }

  /** Whether any stroke is in effect. */
  get edited() {
    return this.#strokes.length > 0;
  }
  get canUndo() {
    return this.#strokes.length > 0;
  }
  get canRedo() {
    return this.#undone.length > 0;
  }

  /** Starts a stroke: `erase` removes lesion, else it paints it; `radius` in pixels. */
  begin(erase, radius) {
    this.#strokes.push({ value: erase ? ERASE : PAINT, radius: Math.max(0.5, radius), points: [] });
    this.#undone = [];
  }

  /** Extends the current stroke to pixel (x, y), filling the gap from its last point. */
  to(x, y) {
    const stroke = this.#strokes[this.#strokes.length - 1];
    if (!stroke) return;
    const last = stroke.points[stroke.points.length - 1] ?? [x, y];
    stroke.points.push([x, y]);
    this.#segment(stroke, last, [x, y]);
  }

  undo() {
    if (!this.canUndo) return;
    this.#undone.push(this.#strokes.pop());
    this.#replay();
  }

  redo() {
    if (!this.canRedo) return;
    this.#strokes.push(this.#undone.pop());
    this.#replay();
  }

  /** Drops every stroke (redo brings them back one by one). */
  reset() {
    while (this.canUndo) this.#undone.push(this.#strokes.pop());
    this.#layer.fill(0);
  }

  /** `mask` (0 or 255 per pixel) with the edits applied, as a new array. */
  apply(mask) {
    const out = new Uint8Array(mask);
    const layer = this.#layer;
    for (let i = 0; i < out.length; i++) {
      if (layer[i] === PAINT) out[i] = 255;
      else if (layer[i] === ERASE) out[i] = 0;
    }
    return out;
  }

  #replay() {
    this.#layer.fill(0);
    for (const stroke of this.#strokes) {
      for (const [i, p] of stroke.points.entries()) this.#segment(stroke, stroke.points[Math.max(0, i - 1)], p);
    }
  }

  /** Discs of the stroke's radius along the segment a → b, a step at most half a radius apart. */
  #segment({ value, radius }, [ax, ay], [bx, by]) {
    const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / Math.max(0.5, radius / 2)));
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      this.#disc(ax + (bx - ax) * t, ay + (by - ay) * t, radius, value);
    }
  }

  #disc(cx, cy, r, value) {
    const { width, height } = this;
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(height - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++) {
      const half = Math.sqrt(Math.max(0, r * r - (y - cy) ** 2));
      const x0 = Math.max(0, Math.ceil(cx - half));
      const x1 = Math.min(width - 1, Math.floor(cx + half));
      this.#layer.fill(value, y * width + x0, x1 >= x0 ? y * width + x1 + 1 : y * width + x0);
    }
  }
}
