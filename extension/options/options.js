// The options page: the panel rules and preferences live in the host's configuration
// file (one place: the CLI edits the same file), read and written through the background
// (`config.get` / `config.set`, PROTOCOL.md). Filling an origin also needs the
// browser's permission, asked here in the click that adds or grants the panel (a user
// gesture). Nothing is kept in extension storage.

import { originPattern } from '../fill.js';
import { localize, t } from '../ui/i18n.js';

const api = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const ask = (message) => api.runtime.sendMessage(message);
const BOOLS = ['auto_fill', 'close_signin_tab', 'notifications', 'copy_when_no_panel'];

let config = null;

function say(text, problem = false) {
  $('config-status').textContent = text;
  $('config-status').classList.toggle('problem', problem);
}

async function load() {
  const reply = await ask({ type: 'config.get' }).catch((err) => ({ ok: false, message: String(err?.message ?? err) }));
  if (!reply?.ok) {
    say(t('configUnavailable', reply?.message ?? ''), true);
    setTimeout(load, 2000); // the host may be installed meanwhile
    return;
  }
  show(reply.config);
  say(t('configLoaded'));
}

function show(next) {
  config = next;
  $('settings').hidden = false;
  $('panels-section').hidden = false;
  for (const name of BOOLS) $('settings').elements[name].checked = Boolean(config[name]);
  $('config-path').textContent = config.path ? t('configPath', config.path) : '';
  renderPanels();
}

async function save(changes) {
  const wanted = { ...config, ...changes };
  delete wanted.path;
  const reply = await ask({ type: 'config.set', config: wanted }).catch((err) => ({ ok: false, message: String(err?.message ?? err) }));
  if (!reply?.ok) {
    say(t('configNotSaved', reply?.message ?? ''), true);
    show(config); // back to what the host has
    return false;
  }
  show(reply.config);
  say(t('configSaved'));
  return true;
}

// ---- panels --------------------------------------------------------------------------

function renderPanels() {
  const body = $('panels').tBodies[0];
  body.replaceChildren(...config.panels.map(panelRow));
  $('no-panels').hidden = config.panels.length > 0;
  $('panels').hidden = config.panels.length === 0;
  refreshPermissions();
}

function panelRow(panel, index) {
  const row = document.createElement('tr');
  row.dataset.origin = panel.origin;
  const host = new URL(panel.origin).host;

  const origin = Object.assign(document.createElement('td'), { className: 'origin', textContent: panel.origin });
  if (isPlainHttp(panel.origin)) {
    // The same warning `codecatch panel add` gives, kept beside the rule.
    origin.append(Object.assign(document.createElement('div'), { className: 'warning', textContent: t('plainHttpShort') }));
  }
  const selector = Object.assign(document.createElement('input'), {
    type: 'text', value: panel.selector ?? '', placeholder: t('selectorPlaceholder'),
  });
  selector.setAttribute('aria-label', t('selectorFor', host));
  selector.addEventListener('change', () => updatePanel(index, { selector: selector.value.trim() || null }));
  const value = document.createElement('select');
  value.setAttribute('aria-label', t('valueFor', host));
  for (const [v, key] of [['url', 'valueUrl'], ['code', 'valueCode']]) {
    value.append(new Option(t(key), v, false, panel.value === v));
  }
  value.addEventListener('change', () => updatePanel(index, { value: value.value }));
  // The save rule (issue 16): off while empty; pressed only after a fill of a proven capture.
  const saveButton = Object.assign(document.createElement('input'), {
    type: 'text', value: panel.save ?? '', placeholder: t('savePlaceholder'),
  });
  saveButton.setAttribute('aria-label', t('saveFor', host));
  saveButton.addEventListener('change', () => updatePanel(index, { save: saveButton.value.trim() || null }));

  const permission = Object.assign(document.createElement('td'), { className: 'permission' });
  const state = document.createElement('span');
  const grant = Object.assign(document.createElement('button'), { type: 'button', textContent: t('grant'), hidden: true });
  grant.setAttribute('aria-label', t('grantFor', host));
  grant.addEventListener('click', () => requestPermission(panel.origin)); // in the click: a user gesture
  permission.append(state, ' ', grant);

  const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: t('remove') });
  remove.setAttribute('aria-label', t('removeFor', host));
  remove.addEventListener('click', () => save({ panels: config.panels.filter((_, i) => i !== index) }));

  const cells = [origin, wrap(selector), wrap(value), wrap(saveButton), permission, Object.assign(wrap(remove), { className: 'actions' })];
  row.append(...cells);
  return row;
}

function wrap(el) {
  const td = document.createElement('td');
  td.append(el);
  return td;
}

function updatePanel(index, changes) {
  save({ panels: config.panels.map((p, i) => (i === index ? { ...p, ...changes } : p)) });
}

async function refreshPermissions() {
  for (const row of $('panels').tBodies[0].rows) {
    // Exact: the browser's grant has no port, codecatch keeps the origin granted (fill.js).
    const granted = (await ask({ type: 'granted', origin: row.dataset.origin }).catch(() => null))?.granted ?? false;
    const [state, , grant] = row.querySelector('td.permission').childNodes;
    state.textContent = granted ? t('permissionGranted') : t('permissionNotGranted');
    state.className = granted ? 'granted' : 'not-granted';
    grant.hidden = granted;
  }
}

/** Must be called synchronously from a click or submit handler. */
function requestPermission(origin) {
  let asked;
  try {
    asked = api.permissions.request({ origins: [originPattern(origin)] });
  } catch (err) {
    say(String(err?.message ?? err), true);
    return Promise.resolve(false);
  }
  return asked.then(async (granted) => {
    if (!granted) say(t('permissionDenied', origin), true);
    else await ask({ type: 'grant', origin });
    refreshPermissions();
    return granted;
  }, (err) => say(String(err?.message ?? err), true));
}

$('add-panel').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  let origin;
  try {
    const url = new URL(form.elements.origin.value.trim());
    if (!/^https?:$/.test(url.protocol)) throw new Error('scheme');
    origin = url.origin;
  } catch {
    say(t('badOrigin'), true);
    form.elements.origin.focus();
    return;
  }
  if (config.panels.some((p) => p.origin === origin)) {
    say(t('panelExists', origin), true);
    return;
  }
  // Ask for the permission now, inside the submit's user gesture; save without waiting
  // for the answer (a prompt may stay open as long as the user likes).
  requestPermission(origin);
  const panel = {
    origin, selector: form.elements.selector.value.trim() || null, value: form.elements.value.value,
    save: form.elements.save.value.trim() || null,
  };
  save({ panels: [...config.panels, panel] }).then((ok) => {
    if (!ok) return;
    form.reset();
    if (isPlainHttp(origin)) say(t('plainHttpWarning', origin), true);
  });
});

/** An http:// panel: the code, a credential, would cross the network unencrypted. */
function isPlainHttp(origin) {
  return origin.startsWith('http://');
}

for (const name of BOOLS) {
  $('settings').elements[name].addEventListener('change', (event) => save({ [name]: event.target.checked }));
}
$('settings').addEventListener('submit', (event) => event.preventDefault());
api.permissions.onAdded?.addListener(() => refreshPermissions());
api.permissions.onRemoved?.addListener(() => refreshPermissions());

localize();
load();
