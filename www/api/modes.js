// A call's mode, from whatever spelling it uses: the ids of `MODES` (U-Net++'s head N alone,
// `head1`..`head4`, or `mean`, the mean of the four heads), the spellings of earlier releases
// (`MODE_ALIASES`: `accurate`, `fast`, `fast1`..`fast4`), or the options `{ mode: 'head' | 'fast',
// level }`. Every table keyed by mode is keyed by id: look a mode up through `modeId`.

import { DEFAULT_MODE, MODE_ALIASES, MODES } from './rules.js';

/** @typedef {'head1' | 'head2' | 'head3' | 'head4' | 'mean'} ModeId One of `MODES`. */

/** The level `{ mode: 'head' }` runs when no level is given: the deepest head. */
const HEAD_LEVEL = 4;

/**
 * A mode's id, or null when `mode` names none. No mode is `DEFAULT_MODE`; `head` with a level
 * is that head (without one, the deepest), `fast` with a level the same head (without one, the
 * `fast` of earlier releases: level 2).
 * @param {string | null | undefined} mode
 * @param {number | null} [level]
 * @returns {ModeId | null}
 */
export function modeId(mode, level = null) {
  let name = String(mode ?? DEFAULT_MODE).toLowerCase();
  if (name === 'head') name = `head${level ?? HEAD_LEVEL}`;
  else if (name === 'fast' && level != null) name = `fast${level}`;
  const aliases = /** @type {Record<string, string>} */ (MODE_ALIASES);
  const id = MODES.includes(name) ? name : aliases[name];
  return /** @type {ModeId | null} */ (id ?? null);
}

/** U-Net++'s head a mode runs alone (1-4), or null for the mean of the four. */
export function headLevel(/** @type {string} */ id) {
  const m = /^head([1-4])$/.exec(id);
  return m ? Number(m[1]) : null;
}

/** What a mode may be called, for error messages. */
export function modeChoices() {
  return `${MODES.join(', ')}, or head with a level of 1 to 4 (earlier spellings: ${Object.keys(MODE_ALIASES).join(', ')})`;
}
