// fillField over other panels' markup than MachPanel's: WHMCS, Plesk/cPanel-like
// forms, Bootstrap, MUI, aria-labelledby, fieldsets, definition lists, tables with a
// header row, European languages, several candidate fields (which one for a URL, which
// for a bare code), decoys and hidden fields. CASES is also run in real Chromium
// (the same markup, the same function) where the DOM stand-in could mislead.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fillField } from '../../extension/lib/field_finder.js';
import { withPage } from './fake_dom.js';

const URL_VALUE = 'https://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code=0.AXkAabc&state=s';
const CODE_VALUE = '0.AXkAabc-_x.Y2h1bms';

/** name -> { html, expect (id or name of the field, or null), value?, request? } */
export const CASES = {
  // ---- other panels
  'WHMCS module settings table': {
    html: `<form><table class="form" width="100%">
      <tr><td class="fieldlabel">Tenant Domain</td><td class="fieldarea"><input type="text" name="tenant" size="30"></td></tr>
      <tr><td class="fieldlabel">Authorization Code</td><td class="fieldarea"><input type="text" name="authcode" id="authcode" size="60">
        <span class="help">Paste the address Microsoft's sign-in ended on.</span></td></tr>
      <tr><td class="fieldlabel">Promo Code</td><td class="fieldarea"><input type="text" name="promocode"></td></tr>
    </table></form>`,
    expect: 'authcode',
  },
  'WHMCS domain transfer EPP code is not ours': {
    html: `<form><label for="epp">EPP Code / Auth Code</label><input id="epp" name="epp">
      <label for="dom">Domain</label><input id="dom"></form>`,
    expect: null,
  },
  'Plesk-like form rows': {
    html: `<div class="form-row"><div class="field-name"><label for="f1">Subscription</label></div><div class="field-value"><input id="f1"></div></div>
      <div class="form-row"><div class="field-name"><label for="f2">Microsoft 365 authorization code <span class="required">*</span></label></div>
      <div class="field-value"><input id="f2" type="text"></div></div>`,
    expect: 'f2',
  },
  'cPanel-like: label without for, input in the next div': {
    html: `<div class="form-group"><label class="control-label">Email Account</label><div><input id="mail" type="email"></div></div>
      <div class="form-group"><label class="control-label">OAuth Redirect URL</label><div class="input-group"><input id="redir" class="form-control"></div></div>`,
    expect: 'redir',
  },
  'Bootstrap form-group with label for': {
    html: `<div class="mb-3"><label for="tenantId" class="form-label">Tenant ID</label><input class="form-control" id="tenantId"></div>
      <div class="mb-3"><label for="authCodeInput" class="form-label">Authorization code</label><input class="form-control" id="authCodeInput">
      <div class="form-text">The full https://… address is fine too.</div></div>`,
    expect: 'authCodeInput',
  },
  'MUI outlined text field (floating label)': {
    html: `<div class="MuiFormControl-root MuiTextField-root"><label class="MuiInputLabel-root" data-shrink="false" for=":r1:" id=":r1:-label">Tenant</label>
      <div class="MuiInputBase-root"><input aria-invalid="false" id=":r1:" type="text" class="MuiInputBase-input"></div></div>
      <div class="MuiFormControl-root MuiTextField-root"><label class="MuiInputLabel-root" data-shrink="false" for=":r2:" id=":r2:-label">Redirect URI with code</label>
      <div class="MuiInputBase-root"><input aria-invalid="false" id=":r2:" type="text" class="MuiInputBase-input">
      <fieldset aria-hidden="true" class="MuiOutlinedInput-notchedOutline"><legend><span>Redirect URI with code</span></legend></fieldset></div></div>`,
    expect: ':r2:',
  },
  'aria-labelledby pointing at a heading and a hint': {
    html: `<h3 id="h">Connect Microsoft 365</h3><p id="hint">Authorization code</p>
      <input id="x" aria-labelledby="h hint"><input id="y" aria-label="Notes">`,
    expect: 'x',
  },
  'fieldset with legend and a plain "Code" label': {
    html: `<fieldset><legend>Contact</legend><label for="c1">Name</label><input id="c1"></fieldset>
      <fieldset><legend>Microsoft 365 authorization</legend><label for="c2">Code</label><input id="c2"></fieldset>`,
    expect: 'c2',
  },
  'definition list': {
    html: '<dl><dt>Tenant</dt><dd><input id="t"></dd><dt>Authorization code</dt><dd><input id="dd"></dd></dl>',
    expect: 'dd',
  },
  'placeholder only': {
    html: '<input id="a" placeholder="Tenant name"><input id="b" placeholder="Paste the authorization code or URL">',
    expect: 'b',
  },
  'textarea for a long URL': {
    html: '<label for="n">Notes</label><textarea id="n"></textarea><label for="t">Redirect URL</label><textarea id="t" rows="3"></textarea>',
    expect: 't',
  },
  'table with a header row naming the columns': {
    html: `<table><thead><tr><th>Tenant</th><th>Authorization code</th></tr></thead>
      <tbody><tr><td><input id="tenant"></td><td><input id="col"></td></tr></tbody></table>`,
    expect: 'col',
  },
  'unknown input type is a text field': {
    html: '<label for="a">Authorization code</label><input id="a" type="txt">',
    expect: 'a',
  },
  // ---- European languages
  'German: Autorisierungscode': {
    html: '<label for="n">Mandant</label><input id="n"><label for="a">Autorisierungscode</label><input id="a">',
    expect: 'a',
  },
  'German: Weiterleitungs-URL': {
    html: '<label for="n">Firmenname</label><input id="n"><label for="a">Weiterleitungs-URL (mit Code)</label><input id="a">',
    expect: 'a',
  },
  'French: code d’autorisation': {
    html: '<label for="n">Nom</label><input id="n"><label for="a">Code d’autorisation</label><input id="a">',
    expect: 'a',
  },
  "French: URL de redirection": {
    html: "<label for=\"n\">Nom</label><input id=\"n\"><label for=\"a\">URL de redirection</label><input id=\"a\">",
    expect: 'a',
  },
  'Spanish: código de autorización': {
    html: '<label for="n">Nombre</label><input id="n"><label for="a">Código de autorización</label><input id="a">',
    expect: 'a',
  },
  'Italian: codice di autorizzazione': {
    html: '<label for="a">Codice di autorizzazione</label><input id="a">',
    expect: 'a',
  },
  'German decoys: Suche, Gutschein, Bestätigungscode': {
    html: `<input id="s" placeholder="Suche nach Code"><label for="g">Gutscheincode</label><input id="g">
      <label for="b">Bestätigungscode (SMS)</label><input id="b">`,
    expect: null,
  },
  // ---- several candidates: the value's kind decides
  'URL and code fields: a URL goes to the URL field': {
    html: `<label for="code">Authorization code</label><input id="code" name="auth_code">
      <label for="url">Redirect URL</label><input id="url">`,
    expect: 'url',
  },
  'URL and code fields: a bare code goes to the code field': {
    html: `<label for="code">Authorization code</label><input id="code" name="auth_code">
      <label for="url">Redirect URL</label><input id="url" name="redirect_url">`,
    value: CODE_VALUE,
    expect: 'code',
  },
  'URL and code fields: an explicit valueKind wins over the guess': {
    html: `<label for="code">Authorization code</label><input id="code">
      <label for="url">Redirect URL</label><input id="url">`,
    request: { valueKind: 'code' },
    expect: 'code',
  },
  'only a code field: the URL still goes there (MachPanel asks for the URL in it)': {
    html: '<label for="t">Tenant</label><input id="t"><label for="code">Authorization Code</label><input id="code">',
    expect: 'code',
  },
  'a payment gateway callback URL does not win on kind': {
    html: `<label for="cb">Callback URL</label><input id="cb" name="callback">
      <label for="code">Authorization code</label><input id="code" name="txtAuthCode">`,
    expect: 'code',
  },
  // ---- decoys
  'search box mentioning code, then the real field': {
    html: `<form role="search"><input id="q" type="text" name="q" placeholder="Search code, tenants…"></form>
      <label for="a">Authorization code</label><input id="a">`,
    expect: 'a',
  },
  '2FA / OTP fields are not ours': {
    html: `<label for="o">Authenticator code</label><input id="o" autocomplete="one-time-code">
      <label for="t">2FA code</label><input id="t"><label for="m">MFA code</label><input id="m">
      <label for="r">Recovery code</label><input id="r">`,
    expect: null,
  },
  'password field labelled authorization code': {
    html: '<label for="p">Authorization code</label><input id="p" type="password">',
    expect: null,
  },
  'off-screen honeypot before the real field': {
    html: `<div style="position:absolute;left:-9999px;top:0"><label for="hp">Authorization code</label><input id="hp" name="auth_code_hp"></div>
      <label for="real">Authorization code</label><input id="real">`,
    expect: 'real',
    chromiumOnly: true, // the stand-in has no layout: every field is on-screen there
  },
  'visually-hidden 1px field': {
    html: '<input id="sr" placeholder="Authorization code" style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)">'
      + '<input id="vh" placeholder="Authorization code" style="position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0">'
      + '<input id="cp" placeholder="Authorization code" style="clip-path:inset(50%);position:absolute">',
    expect: null,
    chromiumOnly: true,
  },
  'inside a closed details': {
    html: '<details><summary>Advanced</summary><label for="d">Authorization code</label><input id="d"></details>',
    expect: null,
  },
  'inside an open details': {
    html: '<details open><summary>Advanced</summary><label for="d">Authorization code</label><input id="d"></details>',
    expect: 'd',
  },
  'display:none ancestor, hidden type, readonly, disabled': {
    html: `<div style="display:none"><input id="a" placeholder="Authorization code"></div>
      <input type="hidden" id="b" name="authcode"><input id="c" readonly placeholder="Redirect URL">
      <input id="d" disabled placeholder="Redirect URL"><div inert><input id="e" placeholder="Redirect URL"></div>`,
    expect: null,
  },
  'zero-size honeypot': {
    html: '<input id="z" placeholder="Authorization code" style="width:0;height:0;border:0;padding:0">',
    expect: null,
  },
};

async function pick(html, { value = URL_VALUE, request = {} } = {}) {
  return withPage(`<body>${html}</body>`, () => {
    const r = fillField({ value, ...request, dryRun: true });
    return r.ok ? (r.field.id || r.field.name) : null;
  });
}

for (const [name, c] of Object.entries(CASES)) {
  test(name, { skip: c.chromiumOnly ? 'needs layout: checked in Chromium' : false }, async () => {
    assert.equal(await pick(c.html, c), c.expect);
  });
}

test('a dry run names candidates and fills nothing', async () => {
  await withPage(`<body>${CASES['URL and code fields: a URL goes to the URL field'].html}</body>`, (doc) => {
    const r = fillField({ value: URL_VALUE, dryRun: true });
    assert.equal(r.reason, 'found');
    assert.equal(r.candidates.length, 2);
    assert.equal(doc.getElementById('url').value, '');
    assert.equal(doc.getElementById('code').value, '');
  });
});

test('an empty value (the warm-up dry run) still ranks fields', async () => {
  await withPage('<body><label for="a">Authorization code</label><input id="a"></body>', () => {
    assert.equal(fillField({ dryRun: true }).field.id, 'a');
  });
});

test('the serialised function handles the new cases too', async () => {
  const fn = new Function(`return (${fillField.toString()})`)();
  await withPage(`<body>${CASES['German: Autorisierungscode'].html}</body>`, (doc) => {
    assert.equal(fn({ value: CODE_VALUE }).reason, 'filled');
    assert.equal(doc.getElementById('a').value, CODE_VALUE);
  });
});

// The stand-in has no layout; these give fields the boxes Chromium gives them.
async function pickWithBoxes(html, boxes) {
  return withPage(`<body>${html}</body>`, (doc) => {
    for (const [id, box] of Object.entries(boxes)) doc.getElementById(id).getBoundingClientRect = () => box;
    const r = fillField({ value: URL_VALUE, dryRun: true });
    return r.ok ? r.field.id : null;
  });
}

test('off-screen honeypots are never picked (left: -9999px)', async () => {
  const html = '<input id="hp" placeholder="Authorization code"><input id="real" placeholder="Authorization code">';
  const offScreen = { width: 120, height: 20, left: -9999, right: -9879, top: 0, bottom: 20 };
  const onScreen = { width: 120, height: 20, left: 10, right: 130, top: 40, bottom: 60 };
  assert.equal(await pickWithBoxes(html, { hp: offScreen, real: onScreen }), 'real');
  assert.equal(await pickWithBoxes(html, { hp: offScreen, real: offScreen }), null);
});

test('a field scrolled out of view above is still a field', async () => {
  const html = '<input id="a" placeholder="Authorization code">';
  const above = { width: 120, height: 20, left: 10, right: 130, top: -500, bottom: -480 };
  await withPage(`<body>${html}</body>`, (doc) => {
    doc.defaultView.scrollY = 800;
    doc.getElementById('a').getBoundingClientRect = () => above;
    assert.equal(fillField({ value: URL_VALUE, dryRun: true }).field.id, 'a');
  });
});

test('1x1 visually-hidden fields are never picked', async () => {
  const html = '<input id="sr" placeholder="Authorization code">';
  assert.equal(await pickWithBoxes(html, { sr: { width: 1, height: 1, left: 0, right: 1, top: 0, bottom: 1 } }), null);
});
