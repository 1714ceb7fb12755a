"""The fill decision: which tab, which field, which value. Pure.

DESIGN.md: fill only into a tab the user tied to the flow (the sign-in tab's opener,
or a tab armed from the toolbar), never into a sign-in page; the value is the full
https URL unless the panel's rule asks for the bare code.
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


def decide_fill(response, source, config, *, claimed=False, duplicate=False, expired=False):
    """Return (fill or None, reason) for a parsed capture. See PROTOCOL.md `capture`."""
    if response["kind"] != "code":
        return None, "error_response"
    if claimed:
        return None, "claimed"
    if duplicate:
        return None, "duplicate"
    if expired:
        return None, "expired"  # DESIGN.md: not filled without the user asking
    armed, opener = source.get("armed_tab_id"), source.get("opener_tab_id")
    # The armed tab takes a sign-in started from it or by the user (a new tab: the
    # browser may still name the tab that was active as its opener); never one that
    # another page opened (a link, window.open), or any page could open a sign-in
    # window and steer it to a code of its own while a panel tab is armed.
    page_opened = source.get("opener_by_page", opener is not None)
    if armed is not None and (opener in (None, armed) or not page_opened):
        tab_id, url, target = armed, source.get("armed_url"), "armed"
    elif opener is not None and config.get("auto_fill", True):
        tab_id, url, target = source["opener_tab_id"], source.get("opener_url"), "opener"
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
        "close_signin_tab": bool(config.get("close_signin_tab", False)),
    }, target
