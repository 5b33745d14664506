import './api/lesion-lab-element.js';
