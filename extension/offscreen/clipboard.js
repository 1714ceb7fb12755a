// The offscreen document's one job: put the background's text on the clipboard. An
// offscreen document cannot take focus, so navigator.clipboard refuses; execCommand
// still copies from a selected textarea.

const api = globalThis.browser ?? globalThis.chrome;

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.type !== 'codecatch-offscreen-copy' || sender.id !== api.runtime.id) return undefined;
  const area = document.getElementById('copy');
  area.value = String(message.text ?? '');
  area.select();
  const ok = document.execCommand('copy');
  area.value = '';
  sendResponse({ ok });
  return undefined;
});
