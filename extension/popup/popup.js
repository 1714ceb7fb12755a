// The toolbar popup: the host's status, the latest capture and its actions, arming
// this tab, a paste box parsed by the host, and this session's captures. Everything
// comes from the background's runtime-message API (extension/README.md); the popup
// writes nothing to storage, and a pasted code lives only in this page's memory.

import { sha256Hex } from '../clipboard.js';
import { fillTab, originPattern } from '../fill.js';
import { localize, t } from '../ui/i18n.js';
import { GECKO_ID } from '../lib/identity.js';
import { timeLeft } from '../lib/summary.js';
import {
  appLine, badgeFor, browserNameFrom, expiryLine, hostFix, hostLine, isExpired, openerLine, recentLine, signinLine,
} from '../ui/view.js';

const api = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const ask = (message) => api.runtime.sendMessage(message);

let status = null;
let thisTab = null; // the tab the popup was opened over
let pasted = null; // the host's parse result, code included: memory only

// ---- the tab the popup acts on ----------------------------------------------------

async function findThisTab() {
  // `?tab=ID` lets the popup page be opened in a tab of its own (tests, screenshots).
  const wanted = Number(new URLSearchParams(location.search).get('tab') || NaN); // no ?tab=: Number(null) would be tab 0
  if (Number.isInteger(wanted) && wanted >= 0) return api.tabs.get(wanted).catch(() => null);
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab ?? null;
}

function webOrigin(tab) {
  try {
    const u = new URL(tab?.url ?? '');
    return /^https?:$/.test(u.protocol) ? u.origin : null;
  } catch {
    return null;
  }
}

// ---- rendering ---------------------------------------------------------------------

function say(text, problem = false) {
  $('action-result').textContent = text ?? '';
  $('action-result').classList.toggle('problem', problem);
}

function render() {
  const host = hostLine(status.connection);
  $('host-status').textContent = host.text;
  $('host-status').classList.toggle('problem', host.problem);
  $('retry').hidden = !host.problem;
  renderFix(status.connection?.state === 'connected' ? null : status.connection?.problem);

  const badge = badgeFor(status);
  $('state').textContent = badge.text ? `${badge.text} · ${badge.label}` : badge.label;
  $('state').style.background = badge.color;

  const latest = status.latest;
  $('capture').hidden = !latest;
  // After a paste, "nothing caught yet" above the pasted result would contradict it.
  $('no-capture').hidden = Boolean(latest) || Boolean(pasted);
  if (latest) renderCapture(latest);
  renderArmed();
  renderUnverified(status.unverified ?? []);

  const recent = status.captures ?? [];
  $('recent-section').hidden = recent.length === 0;
  const lines = recent.map(recentLine);
  const list = $('recent');
  if (list.dataset.lines !== JSON.stringify(lines)) {
    list.dataset.lines = JSON.stringify(lines);
    list.replaceChildren(...lines.map((line) => Object.assign(document.createElement('li'), { textContent: line })));
  }
}

// What the browser is (for the command to paste): see browserNameFrom in ui/view.js.
const thisBrowser = browserNameFrom({ userAgent: navigator.userAgent, brands: navigator.userAgentData?.brands });

function renderFix(problem) {
  const fix = hostFix(problem, {
    browser: thisBrowser,
    extensionId: api.runtime.id,
    // Loaded with the manifest's `key`, this build has the id `codecatch install`
    // allows; a store build or a copy without the key has another one.
    ownId: thisBrowser === 'firefox' ? GECKO_ID : (api.runtime.getManifest().key ? api.runtime.id : null),
  });
  $('host-browser-says').hidden = !fix.browserSays;
  $('host-browser-says').textContent = fix.browserSays ? t('browserSays', fix.browserSays) : '';
  $('host-fix').hidden = fix.steps.length === 0;
  const key = JSON.stringify(fix.steps);
  const list = $('host-fix-steps');
  if (list.dataset.steps === key) return; // re-rendered every second: keep a selection
  list.dataset.steps = key;
  list.replaceChildren(...fix.steps.map(({ text, command }) => {
    const item = document.createElement('li');
    const code = Object.assign(document.createElement('code'), { textContent: command });
    item.append(text, document.createElement('br'), code);
    return item;
  }));
}

function renderCapture(latest) {
  const section = $('capture');
  const isError = latest.kind === 'error';
  section.classList.toggle('kind-error', isError);
  section.classList.toggle('kind-code', !isError);
  $('capture-app').textContent = appLine(latest);
  $('capture-signin').textContent = signinLine(latest);
  // Who opened the sign-in: a panel, the user (a new tab), or a page that may be
  // hostile. Worth a look before filling a code by hand.
  $('capture-opener').textContent = openerLine(latest);
  $('capture-code').textContent = latest.code_redacted ?? t('codeNotYet');
  $('capture-expiry').textContent = expiryLine(latest);
  $('capture-expiry').classList.toggle('problem', isExpired(latest));
  $('capture-error').textContent = [latest.aadsts, latest.error].filter(Boolean).join(' · ') || '—';
  $('capture-hint').textContent = latest.hint ?? t('noHint');
  $('capture-outcome').textContent = latest.outcome_detail ?? outcomeText(latest.outcome);
  const hasCode = latest.kind === 'code';
  $('copy-code').disabled = !hasCode;
  $('fill').disabled = !hasCode || !webOrigin(thisTab);
}

function outcomeText(outcome) {
  return {
    filled: t('stateFilled'), error_response: t('stateError'), waiting: t('stateCaptured'), host_unavailable: t('stateHostMissing'),
  }[outcome] ?? outcome ?? '';
}

/**
 * Redirects nothing proves Microsoft produced: who was involved, and Copy only behind a
 * plain warning (a first click shows it, a second copies). Never Fill.
 */
function renderUnverified(list) {
  $('unverified-section').hidden = list.length === 0;
  const ul = $('unverified');
  const key = JSON.stringify(list.map((m) => [m.capture_id, m.local_id]));
  if (ul.dataset.key === key) return;
  ul.dataset.key = key;
  ul.replaceChildren(...list.map((meta) => {
    const li = document.createElement('li');
    const who = [
      meta.opener_origin && meta.opener_by_page ? t('unverifiedOpenedBy', new URL(meta.opener_origin).host) : t('unverifiedOpenedByYou'),
      meta.flow_via ? t(meta.flow === 'left' ? 'unverifiedLeft' : 'unverifiedForeign', meta.flow_via) : null,
    ].filter(Boolean).join(', ');
    const what = meta.code_redacted ? `${appLine(meta)} ${meta.code_redacted}` : appLine(meta);
    li.append(Object.assign(document.createElement('span'), { textContent: t('unverifiedLine', what, meta.page_host ?? '?', who) }));
    const warning = Object.assign(document.createElement('p'), { className: 'problem', hidden: true, textContent: t('unverifiedConfirm') });
    const copy = Object.assign(document.createElement('button'), { type: 'button', textContent: t('unverifiedCopy') });
    copy.addEventListener('click', () => {
      if (warning.hidden) {
        warning.hidden = false;
        copy.textContent = t('unverifiedCopyConfirm');
        return;
      }
      copyCapture(meta.capture_id ?? meta.local_id, 'url', true).catch((err) => say(String(err?.message ?? err), true));
    });
    li.append(warning, copy);
    return li;
  }));
}

function renderArmed() {
  const armed = status.armed;
  const origin = webOrigin(thisTab);
  const here = armed && thisTab && armed.tab_id === thisTab.id;
  $('armed-line').textContent = here ? t('armedUntil', timeLeft(armed.until))
    : armed ? t('armedElsewhere', hostOf(armed.url))
      : origin ? t('armHelp', new URL(origin).host) : t('armNotAPage');
  $('arm').disabled = !origin || here;
  $('always').disabled = !origin;
  $('disarm').hidden = !armed;
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

function renderPasted() {
  const box = $('pasted');
  box.hidden = !pasted;
  if (!pasted) return;
  const isError = pasted.kind === 'error';
  box.classList.toggle('kind-error', isError);
  box.classList.toggle('kind-code', !isError);
  $('pasted-app').textContent = appLine(pasted);
  $('pasted-code').textContent = pasted.code_redacted ?? '—';
  $('pasted-error').textContent = [pasted.aadsts ?? pasted.msis, pasted.error].filter(Boolean).join(' · ') || '—';
  $('pasted-hint').textContent = pasted.hint ?? t('noHint');
  $('pasted-fill').disabled = isError || !webOrigin(thisTab);
}

async function refresh() {
  status = await ask({ type: 'status' });
  render();
}

// ---- actions -------------------------------------------------------------------------

/** Writes to the clipboard in the click's user gesture; falls back to execCommand. */
async function writeClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = Object.assign(document.createElement('textarea'), { value: text });
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

async function copyLatest(what) {
  return copyCapture(status?.latest?.capture_id ?? null, what);
}

async function copyCapture(captureId, what, unverified = false) {
  const reply = await ask({ type: 'copy', capture_id: captureId, what, unverified });
  if (!reply?.ok) return say(reply?.message ?? t('nothingToCopy'), true);
  const ok = await writeClipboard(reply.text);
  say(ok ? t(what === 'code' ? 'copiedCode' : 'copiedUrl') : t('copyFailed'), !ok);
}

async function fillLatest() {
  if (!thisTab) return say(t('armNotAPage'), true);
  const reply = await ask({ type: 'fill', capture_id: status?.latest?.capture_id ?? null, tab_id: thisTab.id });
  say(reply?.message ?? reply?.outcome ?? '', !reply?.ok);
  refresh();
}

async function copyPasted(what) {
  const text = what === 'code' ? pasted?.code : pasted?.https_url;
  if (!text) return say(t('nothingToCopy'), true);
  // Remembered (its hash) before it is written, to be cleared when the code expires.
  const kept = await ask({ type: 'clipboard.copied', sha256: await sha256Hex(text) });
  if (!kept?.ok) return say(kept?.message ?? t('copyFailed'), true);
  const ok = await writeClipboard(text);
  say(ok ? t(what === 'code' ? 'copiedCode' : 'copiedUrl') : t('copyFailed'), !ok);
}

async function fillPasted() {
  if (!pasted?.https_url || !thisTab) return;
  // The popup's own click: activeTab stands in for the host permission on this tab.
  const done = await fillTab(api, { tabId: thisTab.id, value: pasted.https_url, checkPermission: false });
  say(done.detail, done.outcome !== 'filled');
}

async function parsePasted() {
  const text = $('paste-text').value.trim();
  if (!text) return say(t('pasteEmpty'), true);
  const reply = await ask({ type: 'parse', text });
  pasted = reply?.ok ? reply.result : null;
  renderPasted();
  render();
  if (!reply?.ok) say(reply?.message ?? t('parseFailed'), true);
  else say(pasted.kind === 'error' ? t('pastedError', pasted.aadsts ?? pasted.msis ?? pasted.error ?? '') : t('pastedCode'));
}

async function arm() {
  const reply = await ask({ type: 'arm', tab_id: thisTab.id });
  say(reply?.ok ? t('armedHere') : (reply?.message ?? ''), !reply?.ok);
  await refresh();
}

function always() {
  const origin = webOrigin(thisTab);
  if (!origin) return;
  // permissions.request must run in the click itself (a user gesture): no await before it.
  const asked = api.permissions.request({ origins: [originPattern(origin)] });
  arm().then(() => asked).then(async (granted) => {
    if (!granted) return say(t('permissionDenied', origin), true);
    await ask({ type: 'grant', origin }); // exactly this origin, port included (fill.js)
    const current = await ask({ type: 'config.get' });
    if (current?.ok && !current.config.panels.some((p) => p.origin === origin)) {
      const config = { ...current.config, panels: [...current.config.panels, { origin, selector: null, value: 'url' }] };
      delete config.path;
      await ask({ type: 'config.set', config });
    }
    say(t('alwaysGranted', new URL(origin).host));
  }).catch((err) => say(String(err?.message ?? err), true));
}

function on(id, handler) {
  $(id).addEventListener('click', (event) => {
    Promise.resolve(handler(event)).catch((err) => say(String(err?.message ?? err), true));
  });
}

on('retry', async () => {
  status = await ask({ type: 'retry' });
  render();
});
on('copy-url', () => copyLatest('url'));
on('copy-code', () => copyLatest('code'));
on('fill', fillLatest);
on('clear', async () => {
  await ask({ type: 'clear' });
  say(t('cleared'));
  refresh();
});
on('arm', arm);
$('always').addEventListener('click', always); // synchronous: keeps the user gesture
on('disarm', async () => {
  await ask({ type: 'disarm' });
  say(t('disarmed'));
  refresh();
});
on('parse', parsePasted);
$('paste-text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) parsePasted();
});
on('pasted-copy-url', () => copyPasted('url'));
on('pasted-copy-code', () => copyPasted('code'));
on('pasted-fill', fillPasted);
$('open-options').addEventListener('click', (event) => {
  event.preventDefault();
  api.runtime.openOptionsPage();
});

localize();
thisTab = await findThisTab();
await refresh();
setInterval(() => refresh().catch(() => {}), 1000); // the live countdown
