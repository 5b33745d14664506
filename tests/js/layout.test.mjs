// The contracts of the old paths: `www/lesionlab.js` and `www/lesion-lab-element.js` are kept
// as aliases of the API in `www/api/`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

test('www/lesionlab.js exports the API of www/api/lesionlab.js', async () => {
  const old = await import('../../www/lesionlab.js');
  const api = await import('../../www/api/lesionlab.js');
  assert.equal(old.LesionLab, api.LesionLab);
  assert.equal(old.LesionLabError, api.LesionLabError);
  assert.equal(typeof old.LesionLab.create, 'function');
});

test('www/lesion-lab-element.js loads the element of www/api/', () => {
  const text = fs.readFileSync(new URL('../../www/lesion-lab-element.js', import.meta.url), 'utf8');
  assert.match(text, /^import '\.\/api\/lesion-lab-element\.js';$/m);
  assert.ok(fs.existsSync(new URL('../../www/api/lesion-lab-element.js', import.meta.url)));
});
