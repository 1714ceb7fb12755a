import assert from 'node:assert/strict';
import { test } from 'node:test';

import { callKept, fillField } from '../../extension/lib/field_finder.js';
import { FakeInput, withPage } from './fake_dom.js';

const URL_VALUE = 'https://Microsoft.AAD.BrokerPlugin/12128f48?code=0.AXkAabc&state=s';

/** The field fillField picks on `html` (its id, or name), or null. */
async function pick(html, request = {}) {
  return withPage(html, () => {
    const r = fillField({ value: URL_VALUE, ...request, dryRun: true });
    return r.ok ? (r.field.id || r.field.name) : null;
  });
}

test('MachPanel-style table: the label sits in the cell beside the field', async () => {
  const html = `<form><table>
    <tr><td>Tenant Name:</td><td><input type="text" id="ctl00_MainContent_txtTenant"></td></tr>
    <tr><td>Admin User:</td><td><input type="text" id="ctl00_MainContent_txtUser"></td></tr>
    <tr><td>Password:</td><td><input type="password" id="ctl00_MainContent_txtPassword"></td></tr>
    <tr><td>2FA Enabled</td><td><input type="checkbox" id="ctl00_MainContent_chk2FA"></td></tr>
    <tr><td>Authorization Code:</td><td><input id="ctl00_MainContent_txtAuthCode2" name="ctl00$MainContent$txtAuthCode2"></td></tr>
  </table></form>`;
  assert.equal(await pick(html), 'ctl00_MainContent_txtAuthCode2');
});

test('an ASP.NET id alone is enough', async () => {
  const html = `<div><input type="text" id="ctl00_MainContent_txtName"><input type="text" id="ctl00_MainContent_txtAuthCode"></div>`;
  assert.equal(await pick(html), 'ctl00_MainContent_txtAuthCode');
});

test('each way a field can be labelled', async (t) => {
  const cases = {
    'label for': '<label for="a">Redirect URL</label><input id="a"><label for="b">Notes</label><input id="b">',
    'wrapping label': '<label>Notes <input id="b"></label><label>Paste the authorization code <input id="a"></label>',
    'aria-labelledby': '<span id="l">OAuth redirect URI</span><input id="b"><input id="a" aria-labelledby="l">',
    'aria-label': '<input id="b" aria-label="Company"><input id="a" aria-label="Auth code">',
    placeholder: '<input id="b" placeholder="Display name"><input id="a" placeholder="Paste the redirect URL here">',
    name: '<input name="company"><input name="auth_code" id="a">',
    'name redirect_url': '<input name="city"><input name="redirect_url" id="a">',
    'id authcode': '<input id="b"><input id="a" class="x"><input id="authcode">',
    title: '<input id="b" title="City"><input id="a" title="Authorization code from Microsoft">',
    textarea: '<input id="b" placeholder="Domain"><textarea id="a" placeholder="Redirect URL with the code"></textarea>',
    'dl/dd': '<dl><dt>Domain</dt><dd><input id="b"></dd><dt>Authorisation code</dt><dd><input id="a"></dd></dl>',
    'div beside': '<div><span>Name</span><input id="b"></div><div class="row"><div class="col">Code URL</div><div class="col"><input id="a"></div></div>',
    'bootstrap form-group': '<div class="form-group"><label class="control-label">Email</label><div><input id="b"></div></div>'
      + '<div class="form-group"><label class="control-label">Authorization Code</label><div><input id="a"></div></div>',
    'camelCase id': '<input id="txtTenantId"><input id="txtRedirectUri" name="a">',
  };
  for (const [name, html] of Object.entries(cases)) {
    await t.test(name, async () => {
      const got = await pick(`<body>${html}</body>`);
      assert.ok(got === 'a' || got === 'authcode' || got === 'txtRedirectUri', `${name}: picked ${got}`);
    });
  }
});

test('never a password, hidden, disabled or read-only field', async (t) => {
  const cases = {
    password: '<label for="a">Authorization code</label><input type="password" id="a">',
    'type hidden': '<input type="hidden" id="a" name="authcode">',
    'hidden attribute': '<div hidden><label for="a">Authorization code</label><input id="a"></div>',
    'display none': '<div style="display:none"><input id="a" placeholder="Authorization code"></div>',
    'visibility hidden': '<input id="a" style="visibility: hidden" placeholder="Authorization code">',
    'zero size honeypot': '<input id="a" style="width:0;height:0" placeholder="Authorization code">',
    disabled: '<input id="a" disabled placeholder="Authorization code">',
    'disabled fieldset': '<fieldset disabled><input id="a" placeholder="Authorization code"></fieldset>',
    readonly: '<input id="a" readonly placeholder="Authorization code">',
    checkbox: '<label><input type="checkbox" id="a"> Use authorization code</label>',
    number: '<input type="number" id="a" placeholder="Authorization code">',
  };
  for (const [name, html] of Object.entries(cases)) {
    await t.test(name, async () => assert.equal(await pick(`<body>${html}</body>`), null));
  }
});

test('not obviously unrelated fields that mention a code or a URL', async (t) => {
  const cases = {
    search: '<input type="search" id="a" placeholder="Search codes">',
    'text search box': '<input id="q" name="q" placeholder="Search…" aria-label="Search by code">',
    username: '<label for="u">Username</label><input id="u" name="username">',
    'zip code': '<label for="z">ZIP code</label><input id="z" name="zip_code">',
    'promo code': '<input id="p" placeholder="Promo code">',
    'verification code': '<label for="v">Verification code (SMS)</label><input id="v" name="otp">',
    'website URL': '<label for="w">Website URL</label><input id="w" type="url" name="website">',
    'bare url': '<input id="u" name="url">',
    unlabelled: '<input id="x"><input id="y">',
  };
  for (const [name, html] of Object.entries(cases)) {
    await t.test(name, async () => assert.equal(await pick(`<body>${html}</body>`), null));
  }
});

test('the panel field wins over a search box on the same page', async () => {
  const html = `<body><header><input id="search" placeholder="Search tenants, codes…"></header>
    <form><label for="email">E-mail</label><input id="email" type="email">
    <label for="code">Authorization code or redirect URL</label><input id="code"></form></body>`;
  assert.equal(await pick(html), 'code');
});

test('a long help text may mention anything once it names the field', async () => {
  const html = '<label for="a">Redirect URL: paste the address you were sent to (search the address bar for code=)</label><input id="a">';
  assert.equal(await pick(`<body>${html}</body>`), 'a');
});

test('a configured selector comes first', async () => {
  const html = '<body><input id="authcode"><input id="custom" name="x"></body>';
  assert.equal(await pick(html, { selector: '#custom' }), 'custom');
  assert.equal(await pick(html, { selector: 'input[name="x"]' }), 'custom');
});

test('a configured selector that matches nothing falls back to finding the field', async () => {
  assert.equal(await pick('<body><input id="authcode"></body>', { selector: '#gone' }), 'authcode');
  assert.equal(await pick('<body><input id="authcode"></body>', { selector: '!!invalid' }), 'authcode');
});

test('a configured selector on an unusable field fills nothing', async () => {
  const r = await withPage('<body><input id="authcode"><input type="password" id="pw"></body>',
    () => fillField({ selector: '#pw', value: URL_VALUE }));
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'selector_unusable');
});

test('fills like typing: prototype setter, then input and change that bubble', async () => {
  const html = '<body><form id="f"><label for="a">Authorization Code</label><input id="a"></form></body>';
  await withPage(html, (doc) => {
    const field = doc.getElementById('a');
    // A framework's own value setter on the instance (React's tracker does this): it
    // must be bypassed, or the framework never sees the change.
    let trackerSaw = null;
    Object.defineProperty(field, 'value', {
      configurable: true,
      get() { return Object.getOwnPropertyDescriptor(FakeInput.prototype, 'value').get.call(this); },
      set(v) { trackerSaw = v; },
    });
    const seenByForm = [];
    doc.getElementById('f').addEventListener('input', (e) => seenByForm.push(e.type));
    doc.getElementById('f').addEventListener('change', (e) => seenByForm.push(e.type));

    const r = fillField({ value: URL_VALUE, origin: 'https://panel.test' });
    assert.equal(r.ok, true);
    assert.equal(r.reason, 'filled');
    assert.equal(field.value, URL_VALUE);
    assert.equal(trackerSaw, null);
    assert.deepEqual(field.events.map((e) => [e.type, e.bubbles]), [['input', true], ['change', true]]);
    assert.deepEqual(seenByForm, ['input', 'change']);
    // Not focused: an old panel's onfocus="this.value=''" never runs on the value, and a
    // background tab does not pay for focus (field_finder.js).
    assert.notEqual(doc.activeElement, field);
    assert.ok(!JSON.stringify(r).includes('code=0.'), 'the result never carries the value');
  });
});

test('nothing is filled when the tab moved to another origin', async () => {
  await withPage('<body><input id="authcode"></body>', (doc) => {
    const r = fillField({ value: URL_VALUE, origin: 'https://panel.test' });
    assert.equal(r.reason, 'origin_changed');
    assert.equal(doc.getElementById('authcode').value, '');
  }, { origin: 'https://evil.test' });
});

test('no field found reports no_field and fills nothing', async () => {
  await withPage('<body><input id="city"></body>', (doc) => {
    const r = fillField({ value: URL_VALUE });
    assert.equal(r.reason, 'no_field');
    assert.equal(doc.getElementById('city').value, '');
  });
});

test('the injected function is self-contained (executeScript serialises its source)', () => {
  // Evaluate the source text alone, as the browser does, and run it.
  const fn = new Function(`return (${fillField.toString()})`)();
  assert.equal(typeof fn, 'function');
  return withPage('<body><input id="auth_code"></body>', () => {
    assert.equal(fn({ value: 'x' }).reason, 'filled');
  });
});

test('a warm-up keeps the finder in the page; the fill that follows calls it', async () => {
  const html = '<body><label for="a">Authorization Code</label><input id="a"></body>';
  await withPage(html, (doc) => {
    const warm = fillField({ origin: 'https://panel.test', dryRun: true, keep: 'build-1' });
    assert.equal(warm.reason, 'found');
    assert.equal(doc.getElementById('a').value, ''); // a dry run fills nothing
    const r = callKept('build-1', { value: URL_VALUE, origin: 'https://panel.test' });
    assert.equal(r.reason, 'filled');
    assert.equal(doc.getElementById('a').value, URL_VALUE);
    // The kept finder still checks where it runs.
    assert.equal(callKept('build-1', { value: URL_VALUE, origin: 'https://other.test' }).reason, 'origin_changed');
  });
  delete globalThis.__codecatchKept;
});
