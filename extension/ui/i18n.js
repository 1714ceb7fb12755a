// Page text from _locales/<lang>/messages.json, so translations can follow.
// Markup names its message in data-i18n (text) or data-i18n-<attribute> (an
// attribute such as aria-label, placeholder or title).

const api = globalThis.browser ?? globalThis.chrome;

/** The message `key` with its $1…$9 substitutions; the key itself when it is missing. */
export function t(key, ...subs) {
  return api?.i18n?.getMessage(key, subs.map(String)) || key;
}

/** Fills every [data-i18n] and [data-i18n-*] under `root`. */
export function localize(root = document) {
  for (const el of root.querySelectorAll('*')) {
    for (const { name, value } of [...el.attributes]) {
      if (name === 'data-i18n') el.textContent = t(value);
      else if (name.startsWith('data-i18n-')) el.setAttribute(name.slice('data-i18n-'.length), t(value));
    }
  }
  document.documentElement.lang = api?.i18n?.getUILanguage?.() ?? 'en';
}
