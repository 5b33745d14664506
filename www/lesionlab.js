// The old path of LesionLab's JS API, kept as an alias: `import { LesionLab } from './www/lesionlab.js'`
// goes on working. The API lives in `www/api/lesionlab.js`.
export * from './api/lesionlab.js';
