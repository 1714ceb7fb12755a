// Writing to the clipboard from the background, for "copy the https URL when no panel
// is tied to the sign-in" (the options page). A Chromium service worker has no
// clipboard: an offscreen document does the copy
// (https://developer.chrome.com/docs/extensions/reference/api/offscreen). Firefox's
// background page has one of its own (clipboardWrite permission).

const OFFSCREEN_URL = 'extension/offscreen/clipboard.html';
export const OFFSCREEN_COPY = 'codecatch-offscreen-copy';

/** @returns {Promise<boolean>} whether the text reached the clipboard */
export async function copyFromBackground(api, text) {
  if (!api.offscreen) {
    await navigator.clipboard.writeText(text);
    return true;
  }
  const contexts = await api.runtime.getContexts?.({ contextTypes: ['OFFSCREEN_DOCUMENT'] }) ?? [];
  if (contexts.length === 0) {
    await api.offscreen.createDocument({
      url: OFFSCREEN_URL, reasons: ['CLIPBOARD'], justification: 'Copy the redirect URL when no panel is tied to the sign-in.',
    }).catch((err) => {
      if (!/single offscreen/i.test(String(err?.message))) throw err; // a racing copy made it
    });
  }
  const reply = await api.runtime.sendMessage({ type: OFFSCREEN_COPY, text });
  return reply?.ok === true;
}
