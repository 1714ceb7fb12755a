"""The fill decision: which tab, which field, which value. Pure.

SECURITY.md: fill only what Microsoft produced (a proof, SECURITY.md), only into a tab
the user tied to the flow (the sign-in tab's opener, as recorded when the sign-in tab
was created, or a tab armed from the toolbar), never into a sign-in page; the value is
the full https URL unless the panel's rule asks for the bare code.
"""

from urllib.parse import urlsplit

from .clouds import is_signin_url


def origin_of(url):
    """scheme://host[:port] of an http(s) URL, lowercased; None for anything else."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    default = {"https": 443, "http": 80}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def panel_rule(config, origin):
    for rule in config.get("panels", ()):
        if rule.get("origin") == origin:
            return rule
    return None


# What proves Microsoft produced a capture, by channel (SECURITY.md's table; the
# extension's extension/lib/provenance.js decides it from what the browser saw, and
# names it in `source.proof`; this checks that the claim fits the channel and page).
_PROOF_CHANNELS = {
    "redirect": {"webrequest"},  # a 3xx answered by a sign-in host (page_url: the request)
    "navigate": {"navigate"},  # the sign-in document's own Navigation API `navigate`
    "declared": {"before_navigate", "error_occurred"},  # a URI the sign-in page declared
}
# Why a flow is not the panel's, by the extension's `source.flow`.
_FLOW_REASONS = {"left": "left_signin_hosts", "foreign": "started_elsewhere", "start": "started_elsewhere"}


def is_proven(source):
    """True when the capture carries a proof that fits its channel, from a tab's own
    sign-in page."""
    channels = _PROOF_CHANNELS.get(source.get("proof"))
    return (channels is not None and source.get("channel") in channels
            and source.get("frame_id", 0) == 0 and is_signin_url(source.get("page_url")))


def _armed_takes(source, now_ms):
    """The armed tab takes a sign-in the user started after arming (a new tab, or a link
    in the armed tab itself), while the arming lasts; never one another page opened (a
    link, window.open), or any page could open a sign-in window and steer it."""
    armed = source.get("armed_tab_id")
    if armed is None or now_ms is None or not now_ms < source.get("armed_until", 0):
        return False
    started = source.get("flow_started_at")
    if started is None or started < source.get("armed_at", now_ms):
        return False
    opener = source.get("opener_tab_id")
    return not source.get("opener_by_page", opener is not None) or opener == armed


def decide_fill(response, source, config, *, claimed=False, duplicate=False, expired=False, now_ms=None):
    """Return (fill or None, reason) for a parsed capture. See PROTOCOL.md `capture`."""
    if response["kind"] != "code":
        return None, "error_response"
    if claimed:
        return None, "claimed"
    if not is_proven(source):
        return None, "unverified"
    if duplicate:
        return None, "duplicate"
    if expired:
        return None, "expired"  # SECURITY.md: not filled without the user asking
    flow = source.get("flow")
    if flow != "signin":
        # The sign-in tab went somewhere else between the authorize request and the
        # redirect, or another page's origin started it: not the panel's flow.
        return None, _FLOW_REASONS.get(flow, "started_elsewhere")
    opener = source.get("opener_tab_id")
    if _armed_takes(source, now_ms):
        tab_id, url, target = source["armed_tab_id"], source.get("armed_url"), "armed"
        if origin_of(url) != source.get("armed_origin"):
            return None, "target_moved"  # the armed tab shows another site now
    elif opener is not None and config.get("auto_fill", True):
        tab_id, url, target = opener, source.get("opener_url"), "opener"
        # The opener as it was when it opened the sign-in: a page can open a sign-in and
        # then navigate itself to a panel's origin.
        if origin_of(url) is None or origin_of(url) != source.get("opener_origin"):
            return None, "target_moved"
    else:
        return None, ("no_target" if config.get("auto_fill", True) else "disabled")
    if tab_id == source.get("tab_id"):
        return None, "target_is_signin"
    origin = origin_of(url)
    if origin is None:
        return None, "no_target"
    if is_signin_url(url):
        return None, "target_is_signin"
    rule = panel_rule(config, origin) or {}
    value_kind = rule.get("value", "url")
    value = response["code"] if value_kind == "code" else response["https_url"]
    return {
        "tab_id": tab_id,
        "target": target,
        "origin": origin,
        "selector": rule.get("selector"),
        "value": value,
        "value_kind": value_kind,
        # The panel's save button, pressed after the fill: only for a proven capture
        # (decide_fill returned above for any other; checked again here so that no
        # later change to the order above can hand an unproven one a save).
        "save": rule.get("save") if is_proven(source) else None,
        "close_signin_tab": bool(config.get("close_signin_tab", False)),
    }, target
