// The worker protocol's names (www/api/protocol.js) and the mode spellings (www/api/modes.js):
// one id per mode whatever the spelling, the earlier spellings of the crate's MODE_ALIASES.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { headLevel, modeId } from '../../www/api/modes.js';
import { CONTROL, EVENT, MODEL_OPS, OP, TRAINING_OPS } from '../../www/api/protocol.js';
import { DEFAULT_MODE, MODE_ALIASES, MODES } from '../../www/api/rules.js';

test('OP is frozen, one distinct name per operation; the lists name only operations', () => {
  assert.ok(Object.isFrozen(OP) && Object.isFrozen(EVENT) && Object.isFrozen(CONTROL));
  const names = Object.values(OP);
  assert.equal(new Set(names).size, names.length);
  for (const op of [...TRAINING_OPS, ...MODEL_OPS]) assert.ok(names.includes(op), op);
});

test('no operation is spelled as a string outside protocol.js', () => {
  const root = new URL('../../www/', import.meta.url);
  const files = fs
    .readdirSync(root, { recursive: true })
    .filter((f) => f.endsWith('.js') && !f.endsWith('protocol.js'));
  for (const file of files) {
    const text = fs.readFileSync(new URL(file, root), 'utf8');
    assert.doesNotMatch(text, /\b(call|post)\(\s*['`]/, `${file} sends an operation by its string`);
    assert.doesNotMatch(text, /case ['`]/, `${file} receives an operation by its string`);
    assert.doesNotMatch(text, /\bop(: | === )['`]/, `${file} names an operation by its string`);
    assert.doesNotMatch(text, /type(: | === )'(progress|backend|panic)'/, `${file} names a message type by its string`);
  }
});

test('every mode id is its own id; no mode is DEFAULT_MODE', () => {
  for (const id of MODES) assert.equal(modeId(id), id);
  assert.equal(modeId(undefined), DEFAULT_MODE);
  assert.equal(modeId(null, 1), DEFAULT_MODE, 'a level without a mode changes nothing');
  assert.equal(modeId('HEAD3'), 'head3');
});

test('the earlier spellings are aliases: accurate is mean, fast (level 2 unless given) a head alone', () => {
  for (const [alias, id] of Object.entries(MODE_ALIASES)) assert.equal(modeId(alias), id, alias);
  assert.equal(modeId('accurate'), 'mean');
  assert.equal(modeId('fast'), 'head2');
  for (const level of [1, 2, 3, 4]) {
    assert.equal(modeId('fast', level), `head${level}`);
    assert.equal(modeId('head', level), `head${level}`);
  }
  assert.equal(modeId('head'), 'head4', 'head alone is the deepest');
});

test('unknown modes and levels name no mode', () => {
  assert.equal(modeId('quick'), null);
  assert.equal(modeId('fast', 5), null);
  assert.equal(modeId('head', 0), null);
  assert.equal(headLevel('head3'), 3);
  assert.equal(headLevel('mean'), null);
});
