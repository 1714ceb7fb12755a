// The toolbar popup, minimal for now (issue 6 grows it): the host's status and the
// latest capture with Copy URL and Fill. Everything comes from the background's
// runtime-message API; the popup keeps nothing.

import { timeLeft } from '../lib/summary.js';

const api = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const ask = (message) => api.runtime.sendMessage(message);

function describeHost(c) {
  if (c.state === 'connected') return `Connected to codecatch host ${c.host?.version ?? ''} (protocol ${c.host?.protocol}).`;
  if (c.problem) return c.problem.message;
  return c.state === 'connecting' ? 'Connecting to the native host…' : `Native host: ${c.state}.`;
}

function render(status) {
  const c = status.connection;
  $('host-status').textContent = describeHost(c);
  $('host-status').classList.toggle('problem', Boolean(c.problem) && c.state !== 'connected');
  $('retry').hidden = c.state === 'connected' || c.state === 'connecting';
  const latest = status.latest;
  $('capture').hidden = !latest;
  $('no-capture').hidden = Boolean(latest);
  if (!latest) return;
  const what = latest.kind === 'error'
    ? `Error ${latest.aadsts ?? latest.error ?? ''}: ${latest.hint ?? ''}`
    : `${latest.app ?? latest.client_id ?? latest.scheme ?? 'redirect'} from ${latest.page_host ?? 'sign-in'}`;
  $('capture-what').textContent = what;
  $('capture-code').textContent = latest.code_redacted ?? '—';
  $('capture-expiry').textContent = latest.expires_at ? timeLeft(latest.expires_at) : '—';
  $('capture-outcome').textContent = latest.outcome_detail ?? latest.outcome ?? '';
  const usable = latest.kind === 'code';
  $('copy-url').disabled = latest.kind === 'error';
  $('fill').disabled = !usable;
}

async function refresh() {
  render(await ask({ type: 'status' }));
}

$('retry').addEventListener('click', async () => render(await ask({ type: 'retry' })));

$('copy-url').addEventListener('click', async () => {
  const status = await ask({ type: 'status' });
  const reply = await ask({ type: 'copy', capture_id: status.latest?.capture_id ?? null, what: 'url' });
  if (!reply.ok) {
    $('action-result').textContent = reply.message ?? 'Nothing to copy.';
    return;
  }
  await navigator.clipboard.writeText(reply.text);
  $('action-result').textContent = 'Copied the URL.';
});

$('fill').addEventListener('click', async () => {
  const status = await ask({ type: 'status' });
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  const reply = await ask({ type: 'fill', capture_id: status.latest?.capture_id ?? null, tab_id: tab?.id });
  $('action-result').textContent = reply.message ?? reply.outcome ?? '';
  refresh();
});

refresh();
setInterval(refresh, 1000); // the countdown
