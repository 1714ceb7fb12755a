// Filling a panel tab: the guards (a tab the user tied to the flow, an origin the user
// granted, never a sign-in page, only the top frame), then lib/field_finder.js injected
// there, then the panel brought forward.

import { fillField } from './lib/field_finder.js';
import { isSigninUrl } from './lib/signin_hosts.js';

/** "https://panel.test:8443" -> "https://panel.test/*": match patterns carry no port in Firefox. */
export function originPattern(origin) {
  const u = new URL(origin);
  return `${u.protocol}//${u.hostname}/*`;
}

/**
 * @param {object} api the browser namespace
 * @param {object} o
 * @param {number} o.tabId the panel tab
 * @param {string|null} o.origin the origin the host decided on (null: the tab's own)
 * @param {string|null} o.selector the panel rule's selector, or null to find the field
 * @param {string} o.value what to fill
 * @param {boolean} o.checkPermission false when activeTab stands in (the popup's Fill)
 * @returns {Promise<{outcome: string, detail: string, field?: object}>}
 *   outcome as PROTOCOL.md `report`: filled | no_field | no_permission | tab_gone
 */
export async function fillTab(api, { tabId, origin = null, selector = null, value, checkPermission = true }) {
  let tab;
  try {
    tab = await api.tabs.get(tabId);
  } catch {
    return { outcome: 'tab_gone', detail: 'The panel tab was closed.' };
  }
  let tabOrigin;
  try {
    tabOrigin = new URL(tab.url).origin;
  } catch {
    return { outcome: 'no_permission', detail: 'The panel tab shows no web page.' };
  }
  if (origin && tabOrigin !== origin) return { outcome: 'tab_gone', detail: `The panel tab moved on to ${tabOrigin}.` };
  if (!/^https?:$/.test(new URL(tab.url).protocol)) return { outcome: 'no_permission', detail: 'Only web pages are filled.' };
  if (isSigninUrl(tab.url)) return { outcome: 'no_permission', detail: 'A sign-in page is never filled.' };
  if (checkPermission && !(await api.permissions.contains({ origins: [originPattern(tabOrigin)] }))) {
    return { outcome: 'no_permission', detail: `codecatch has no permission for ${tabOrigin}.` };
  }
  let result;
  try {
    const [injection] = await api.scripting.executeScript({
      target: { tabId, frameIds: [0] }, // the top frame only: never a cross-origin frame
      func: fillField,
      args: [{ selector, value, origin: tabOrigin }],
    });
    result = injection?.result;
  } catch (err) {
    // Chromium: 'Cannot access contents of url ...'; Firefox: 'Missing host permission for the tab'.
    return { outcome: 'no_permission', detail: String(err?.message ?? err) };
  }
  if (!result?.ok) {
    const detail = {
      no_field: 'No field for the code was found on the panel page.',
      selector_unusable: `The panel rule's selector ${selector} matches a field that cannot be filled.`,
      origin_changed: 'The panel tab navigated away.',
    }[result?.reason] ?? 'The panel page could not be filled.';
    return { outcome: result?.reason === 'origin_changed' ? 'tab_gone' : 'no_field', detail, field: result?.field };
  }
  return { outcome: 'filled', detail: `Filled ${describeField(result.field)}.`, field: result.field, windowId: tab.windowId };
}

function describeField(f) {
  return f ? `${f.tag}${f.id ? `#${f.id}` : ''}${f.name ? `[name=${f.name}]` : ''} (${f.how})` : 'the field';
}

/** Brings the panel tab and its window to the front. */
export async function focusTab(api, tabId, windowId) {
  await api.tabs.update(tabId, { active: true }).catch(() => {});
  if (windowId !== undefined) await api.windows?.update(windowId, { focused: true }).catch(() => {});
}
