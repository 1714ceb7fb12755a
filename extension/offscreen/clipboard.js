// The offscreen document's one job: the clipboard, for the background. An offscreen
// document cannot take focus, so navigator.clipboard refuses; execCommand still copies
// (clipboardWrite) and pastes (clipboardRead), through the copy and paste events.
// What it reads is hashed here and goes nowhere: the reply says only whether it
// matched.

import { sha256Hex } from '../clipboard.js';

const api = globalThis.browser ?? globalThis.chrome;

/** Puts `text` on the clipboard as plain text (the empty string empties it). */
function write(text) {
  const put = (event) => {
    event.clipboardData.setData('text/plain', text);
    event.preventDefault();
  };
  document.addEventListener('copy', put);
  try {
    return document.execCommand('copy');
  } finally {
    document.removeEventListener('copy', put);
  }
}

/** The clipboard's plain text, or null when the browser refuses to paste. */
function read() {
  let text = null;
  const take = (event) => {
    text = event.clipboardData.getData('text/plain');
    event.preventDefault();
  };
  document.addEventListener('paste', take);
  try {
    return document.execCommand('paste') ? text ?? '' : null;
  } finally {
    document.removeEventListener('paste', take);
  }
}

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only the extension's own pages (the background): never a content script, which
  // carries the same id but runs in a web page's tab.
  if (sender.id !== api.runtime.id || sender.tab || !String(sender.url ?? '').startsWith(api.runtime.getURL(''))) {
    return undefined;
  }
  if (message?.type === 'codecatch-offscreen-copy') {
    sendResponse({ ok: write(String(message.text ?? '')) });
    return undefined;
  }
  if (message?.type === 'codecatch-offscreen-clear') {
    const now = read();
    if (now === null) {
      sendResponse({ outcome: 'failed' });
      return undefined;
    }
    sha256Hex(now).then((hash) => {
      if (hash !== message.sha256) return 'changed';
      if (read() !== now) return 'changed'; // the user copied something while it was hashed
      return write('') ? 'cleared' : 'failed';
    }).then((outcome) => sendResponse({ outcome }));
    return true; // answered after the hash
  }
  return undefined;
});
