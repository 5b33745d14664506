export * from './api/lesionlab.js';
