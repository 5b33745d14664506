// The old path of the <lesion-lab> element, kept as an alias: `<script type="module"
// src="www/lesion-lab-element.js">` goes on working. The element lives in `www/api/lesion-lab-element.js`.
import './api/lesion-lab-element.js';
