export type ModeId = 'head1' | 'head2' | 'head3' | 'head4' | 'mean';
/**
 * A mode's id, or null when `mode` names none. No mode is `DEFAULT_MODE`; `head` with a level
 * is that head (without one, the deepest), `fast` with a level the same head (without one, the
 * `fast` of earlier releases: level 2).
 * @param {string | null | undefined} mode
 * @param {number | null} [level]
 * @returns {ModeId | null}
 */
export declare function modeId(mode: string | null | undefined, level?: number | null): ModeId | null;
/** U-Net++'s head a mode runs alone (1-4), or null for the mean of the four. */
export declare function headLevel(/** @type {string} */ id: string): number | null;
/** What a mode may be called, for error messages. */
export declare function modeChoices(): string;
