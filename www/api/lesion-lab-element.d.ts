export declare class LesionLabElement extends HTMLElement {
    #private;
    static observedAttributes: string[];
    constructor();
    connectedCallback(): void;
    /**
     * @param {string} name
     * @param {string | null} before
     * @param {string | null} after
     */
    attributeChangedCallback(name: string, before: string | null, after: string | null): void;
    disconnectedCallback(): void;
    /**
     * Segments a photo (Blob or File) and draws the overlay; resolves to the segment result (null
     * when it failed, or another photo came first).
     * @param {Blob} blob
     * @param {string} [name]
     * @returns {Promise<import('./lesionlab.js').SegmentResult | null>}
     */
    segment(blob: Blob, name?: string): Promise<import('./lesionlab.js').SegmentResult | null>;
}
