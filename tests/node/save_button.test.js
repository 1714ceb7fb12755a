// The panel rule's save button (extension/lib/save_button.js), pressed after fillField,
// over the DOM stand-in.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fillField } from '../../extension/lib/field_finder.js';
import { pressSave } from '../../extension/lib/save_button.js';
import { withPage } from './fake_dom.js';

const VALUE = 'https://Microsoft.AAD.BrokerPlugin/12128f48?code=0.AXkAabc&state=s';
const FIELD = '<table><tr><td>Authorization Code:</td><td><input type="text" id="code"></td></tr></table>';

/** Fills the page's field (keeping it for a save unless `save` is false), then presses. */
async function fillThenSave(html, selector, { save = true, waitMs = 0, between = () => {} } = {}) {
  return withPage(html, async (doc) => {
    assert.equal(fillField({ value: VALUE, save }).reason, 'filled');
    between(doc);
    const result = await pressSave({ selector, waitMs });
    return { result, doc };
  });
}

test('pressed: a submit input, a button, an element with role=button; once, after the fill', async () => {
  for (const [html, selector] of [
    ['<input type="submit" id="save" value="Save">', '#save'],
    ['<button id="save">Save</button>', 'button'],
    ['<div role="button" id="save" tabindex="0">Save</div>', '[role=button]'],
  ]) {
    const { result, doc } = await fillThenSave(FIELD + html, selector);
    assert.equal(result.pressed, true, html);
    assert.equal(result.button.id, 'save');
    const button = doc.getElementById('save');
    assert.equal(button.clicks, 1);
    assert.equal(doc.getElementById('code').value, VALUE);
    assert.deepEqual(await pressSave({ selector }), { pressed: false, reason: 'not_filled' }, 'one fill, one press');
    assert.equal(button.clicks, 1);
  }
});

test('never pressed without a fill in this document', async () => {
  const html = `${FIELD}<input type="submit" id="save">`;
  const { result, doc } = await fillThenSave(html, '#save', { save: false });
  assert.deepEqual(result, { pressed: false, reason: 'not_filled' });
  assert.equal(doc.getElementById('save').clicks, undefined);
  // A fill that found no field keeps nothing either; a page's own global is not a fill.
  await withPage(`<input type="submit" id="save">`, async (doc) => {
    assert.equal(fillField({ value: VALUE, save: true }).reason, 'no_field');
    assert.equal((await pressSave({ selector: '#save' })).reason, 'not_filled');
    assert.equal(doc.getElementById('save').clicks, undefined);
  });
  // The field filled is no longer in the document (the page re-rendered the form).
  await withPage(html, async (doc) => {
    fillField({ value: VALUE, save: true });
    const field = doc.getElementById('code');
    field.parentElement.childNodes = field.parentElement.childNodes.filter((n) => n !== field);
    field.parentElement = null;
    assert.equal((await pressSave({ selector: '#save' })).reason, 'field_changed');
    assert.equal(doc.getElementById('save').clicks, undefined);
  });
});

test('not pressed: not a button, a reset button, a link, hidden, or no match', async () => {
  for (const [html, selector, reason] of [
    ['<input type="text" id="save">', '#save', 'not_a_button'],
    ['<button type="reset" id="save">Reset</button>', '#save', 'not_a_button'],
    ['<a href="/save" id="save">Save</a>', '#save', 'not_a_button'],
    ['<input type="submit" id="save" style="display: none">', '#save', 'hidden'],
    ['<input type="submit" id="other">', '#save', 'not_found'],
  ]) {
    const { result, doc } = await fillThenSave(FIELD + html, selector, { waitMs: 20 });
    assert.equal(result.pressed, false, html);
    assert.equal(result.reason, reason, html);
    assert.equal(doc.querySelector(selector)?.clicks, undefined);
  }
});

test('a disabled button: pressed once the page enables it, never while it stays disabled', async () => {
  const html = `${FIELD}<fieldset><input type="submit" id="save" disabled></fieldset><button id="b2" aria-disabled="true">Save</button>`;
  let button;
  const pending = fillThenSave(html, '#save', {
    waitMs: 10_000, // a bound: the page enables the button well before
    between: (doc) => {
      button = doc.getElementById('save');
      queueMicrotask(() => setImmediate(() => button.removeAttribute('disabled'))); // after a round trip of its own
    },
  });
  const { result } = await pending;
  assert.equal(result.pressed, true);
  assert.equal(button.clicks, 1);

  const stays = await fillThenSave(html, '#save', { waitMs: 20 });
  assert.deepEqual([stays.result.pressed, stays.result.reason], [false, 'disabled']);
  assert.equal(stays.doc.getElementById('save').clicks, undefined);
  const aria = await fillThenSave(html, '#b2', { waitMs: 20 });
  assert.equal(aria.result.reason, 'disabled');
  const fieldset = await fillThenSave(`${FIELD}<fieldset disabled><button id="save">Save</button></fieldset>`, '#save', { waitMs: 20 });
  assert.equal(fieldset.result.reason, 'disabled');
});

test('the field changed after the fill (the page cleared it): not pressed', async () => {
  const { result, doc } = await fillThenSave(`${FIELD}<input type="submit" id="save">`, '#save', {
    between: (d) => { d.getElementById('code').value = ''; },
  });
  assert.deepEqual([result.pressed, result.reason], [false, 'field_changed']);
  assert.equal(doc.getElementById('save').clicks, undefined);
});

test('a selector the browser rejects is said, not thrown', async () => {
  const { result } = await fillThenSave(`${FIELD}<input type="submit" id="save">`, 'input:::bad');
  assert.deepEqual([result.pressed, result.reason], [false, 'selector_invalid']);
});
