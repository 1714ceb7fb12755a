// Who started each sign-in tab, and where it went since (lib/provenance.js has the
// rules): recorded as tabs appear and navigate, never read back at capture time from a
// tab that may have moved on. The opener's origin is taken when the sign-in tab is
// created: a page can open a sign-in and then navigate itself to a panel's origin.
//
// Also what each sign-in page's own scripts declare (content/navigate.js), for the
// Firefox proof of a script navigation.

import {
  advance, declaredUris, isUserNavigation, MAX_STATE, newFlow, noteAuthorize, originOf, startedBy,
} from './lib/provenance.js';
import { isNativeRedirect } from './lib/redirect.js';
import { SIGNIN_MATCH_PATTERNS, isSigninUrl } from './lib/signin_hosts.js';

export class FlowBook {
  /**
   * @param {object} api the browser namespace
   * @param {import('./session_state.js').SessionState} session where flows are kept
   * @param {import('./tab_directory.js').TabDirectory} tabs tab URLs, kept current
   */
  constructor(api, session, tabs) {
    this.api = api;
    this.session = session;
    this.tabs = tabs;
    this.declared = new Map(); // tab id -> {url, uris: Set}: the top document's own targets
    // Listeners are added synchronously at start-up, like every listener in the worker.
    api.tabs.onCreated.addListener((tab) => {
      if (tab.id === undefined) return;
      const opener = tab.openerTabId ?? null;
      if (this.session.flows.get(tab.id)?.by_page) return; // onCreatedNavigationTarget came first
      this.#set(tab.id, newFlow({ openerTabId: opener, openerOrigin: opener === null ? null : this.#originNow(opener) }));
    });
    api.webNavigation.onCreatedNavigationTarget.addListener((d) => {
      // Only a page (a link, window.open) creates a navigation target.
      if (d.sourceTabId === undefined || d.sourceTabId === d.tabId) return;
      const flow = newFlow({ openerTabId: d.sourceTabId, openerOrigin: null, byPage: true });
      if (d.sourceFrameId === 0 || d.sourceFrameId === undefined) {
        flow.opener_origin = this.#originNow(d.sourceTabId);
      } else {
        // A frame of the opener opened it: that frame's origin is the starter's.
        api.webNavigation.getFrame({ tabId: d.sourceTabId, frameId: d.sourceFrameId })
          .then((f) => this.#update(d.tabId, (x) => ({ ...x, opener_origin: originOf(f?.url) })), () => {});
      }
      this.#set(d.tabId, noteAuthorize(advance(flow, d.url), d.url));
    });
    const top = (f) => (d) => { if (d.frameId === 0 && d.tabId >= 0) f(d); };
    api.webNavigation.onBeforeNavigate.addListener(top((d) => this.see(d.tabId, d.url)));
    api.webNavigation.onCommitted.addListener(top((d) => {
      if (this.declared.get(d.tabId)?.url !== d.url) this.declared.delete(d.tabId);
      if (isUserNavigation(d)) this.#set(d.tabId, newFlow());
      this.see(d.tabId, d.url);
    }));
    // Who started each request of the tab to a sign-in host: Chromium's `initiator`,
    // Firefox's `originUrl` (a user's typed address has neither).
    api.webRequest?.onBeforeRequest?.addListener((d) => {
      if (d.frameId !== 0 || d.tabId < 0) return;
      this.#update(d.tabId, (flow) => noteAuthorize(startedBy(advance(flow, d.url), d.initiator ?? d.originUrl), d.url));
    }, { urls: SIGNIN_MATCH_PATTERNS, types: ['main_frame'] });
    // A redirect inside one navigation (a sign-in host sending the tab to another host).
    api.webRequest?.onBeforeRedirect?.addListener((d) => {
      if (d.frameId === 0 && d.tabId >= 0 && !isNativeRedirect(d.redirectUrl)) this.see(d.tabId, d.redirectUrl);
    }, { urls: SIGNIN_MATCH_PATTERNS, types: ['main_frame'] });
    api.tabs.onRemoved.addListener((tabId) => this.declared.delete(tabId));
  }

  /** The tab's flow, or null for a tab never seen. */
  flow(tabId) {
    return this.session.flows.get(tabId) ?? null;
  }

  /** The tab's top frame went to `url`. */
  see(tabId, url) {
    this.#update(tabId, (flow) => noteAuthorize(advance(flow, url), url));
  }

  /**
   * The host's `close_signin` notice: the local client that claimed `state` (`codecatch
   * login`, interrupted) gave its flow up. Closes the tabs whose flow's first
   * authorization request carried exactly that state, and only while each is still on
   * its sign-in (phase `signin`, and the browser shows it on a Microsoft sign-in host
   * now): never a tab that left for another site, never any other tab. Returns the ids
   * of the tabs it closed.
   */
  async closeSignin(state) {
    if (typeof state !== 'string' || !state || state.length > MAX_STATE) return [];
    await this.session.ready;
    const ids = [...this.session.flows].filter(([, f]) => f.state === state && f.phase === 'signin').map(([id]) => id);
    const closed = [];
    for (const id of ids) {
      const tab = await this.api.tabs.get(id).catch(() => null);
      if (!tab || !isSigninUrl(tab.url) || (tab.pendingUrl && !isSigninUrl(tab.pendingUrl))) continue;
      await this.api.tabs.remove(id).then(() => closed.push(id), () => {});
    }
    return closed;
  }

  /** A sign-in page's scripts (content/navigate.js): the URIs it will navigate to. */
  declare(tabId, pageUrl, scripts) {
    if (!isSigninUrl(pageUrl) || !Array.isArray(scripts)) return;
    const entry = this.declared.get(tabId)?.url === pageUrl ? this.declared.get(tabId) : { url: pageUrl, uris: new Set() };
    for (const text of scripts.slice(0, 16)) {
      for (const uri of declaredUris(text)) if (isNativeRedirect(uri)) entry.uris.add(uri);
    }
    this.declared.set(tabId, entry);
  }

  /** The URIs the tab's current sign-in document declared, when it is the page `pageUrl`. */
  declaredBy(tabId, pageUrl) {
    const entry = this.declared.get(tabId);
    return entry && entry.url === pageUrl ? [...entry.uris] : null;
  }

  #originNow(tabId) {
    return originOf(this.tabs.urls.get(tabId));
  }

  #set(tabId, flow) {
    this.session.setFlow(tabId, flow);
  }

  #update(tabId, change) {
    // A tab first seen now (it was open before codecatch started): who started it and
    // when is unknown, so it counts as started before any arming.
    const flow = this.session.flows.get(tabId) ?? newFlow({ now: 0 });
    const next = change(flow);
    if (next !== flow || !this.session.flows.has(tabId)) this.#set(tabId, next);
  }
}
