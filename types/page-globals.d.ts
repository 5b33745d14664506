// What the page's JavaScript uses beyond TypeScript's DOM library: the benchmark's marks on
// `window` (tests/browser/bench.mjs reads them), Chromium's non-standard `performance.memory` and
// `navigator.userAgentData`, and the crate's panic hook in the worker. For the type check only.
export {};

declare global {
  interface Window {
    __firstMaskMs?: number;
    __firstMaskQuick?: boolean;
    __wholeMaskMs?: number;
    __backendSettledMs?: number;
    __codeKept?: boolean;
    lesionlabPanic?: (message: unknown) => void;
  }
  interface Performance {
    memory?: { usedJSHeapSize: number };
  }
  interface Navigator {
    userAgentData?: unknown;
  }
}
