// Telling the user: the toolbar badge and a system notification, worded by
// lib/summary.js.

import { describeOutcome } from './lib/summary.js';

export function showBadge(api, badge) {
  const action = api.action ?? api.browserAction;
  if (!action) return;
  action.setBadgeText({ text: badge?.text ?? '' }).catch(() => {});
  if (badge?.color) action.setBadgeBackgroundColor({ color: badge.color }).catch(() => {});
}

/** Badge plus, when `notifications` is on in the host's configuration, a notification. */
export function announce(api, meta, { notifications = true } = {}) {
  const { badge, title, message } = describeOutcome(meta);
  showBadge(api, badge);
  if (!notifications || !api.notifications) return;
  api.notifications.create(`codecatch-${meta.capture_id ?? Date.now()}`, {
    type: 'basic',
    iconUrl: api.runtime.getURL('extension/icons/icon128.png'),
    title,
    message,
  }).catch(() => {});
}
