"""The host's configuration file: panel rules and preferences (PROTOCOL.md).

One JSON file in the user's config folder; the options page and the CLI both edit it
through the host. Validation is pure; load and save are the only I/O.
"""

import json
import os

from .errors import CodecatchError
from .files import write_atomic

DEFAULTS = {
    "version": 1,
    "panels": [],
    "close_signin_tab": False,
    "notifications": True,
    "auto_fill": True,
    "copy_when_no_panel": False,
}
_BOOLS = ("close_signin_tab", "notifications", "auto_fill", "copy_when_no_panel")
MAX_PANELS = 200


def config_dir():
    override = os.environ.get("CODECATCH_CONFIG_DIR")
    if override:
        return override
    import platformdirs  # only when the config is first needed: keeps start-up cheap

    return platformdirs.user_config_dir("codecatch", appauthor=False)


def warm_up():
    """Import what reading the configuration needs (the host's warm-up thread)."""
    if not os.environ.get("CODECATCH_CONFIG_DIR"):
        import platformdirs  # noqa: F401


def config_path():
    return os.path.join(config_dir(), "config.json")


def normalize_origin(value, strict=True):
    """'https://Panel.Example.com:443/' -> 'https://panel.example.com' (an international
    name in its punycode form, as the browser reports it); a clear
    CodecatchError('invalid_config') for anything that is not one exact origin.
    `strict=False` (reading a saved file) lets through what earlier versions saved: a
    wildcard host, which never matches and is harmless."""
    from urllib.parse import urlsplit

    from .fill import origin_of

    def bad(why):
        raise CodecatchError("invalid_config", f"'{str(value)[:100]}' is not a panel origin: {why}")

    if not isinstance(value, str) or not value.strip():
        bad("give the panel's address, such as https://panel.example.com.")
    text = value.strip()
    if strict and "*" in text:
        bad("wildcards are not supported; add one rule for each panel's exact origin.")
    if "://" not in text:
        host = text.split("/")[0] if ":" not in text.split("/")[0] else text.split(":", 1)[1].lstrip("/").split("/")[0]
        bad(f"it has no scheme; did you mean https://{host}?")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        bad("it is not a valid URL (a port is a number from 1 to 65535).")
    if port == 0:
        bad("it is not a valid URL (a port is a number from 1 to 65535).")
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        bad("it must start with https:// (or http://) and name a host.")
    if parts.username is not None or parts.password is not None:
        bad("it must not hold a user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        bad(f"rules match a whole origin, without a path: use {origin_of(text)}.")
    host = parts.hostname
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            bad("its host name is not a valid international domain name.")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return origin_of(f"{parts.scheme}://{host}" + (f":{port}" if port else ""))


_SELECTOR_PAIRS = {"[": "]", "(": ")"}


def selector_problem(selector):
    """Why a panel rule's selector cannot be a CSS selector, or None. A light check (no
    CSS parser here): unbalanced brackets, parentheses or quotes. The extension also
    falls back to finding the field when the browser rejects a selector."""
    stack, quote, escaped = [], None, False
    for ch in selector:
        if escaped:  # '\\[' is a literal bracket in CSS
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in _SELECTOR_PAIRS:
            stack.append(_SELECTOR_PAIRS[ch])
        elif ch in "])":
            if not stack or stack.pop() != ch:
                return f"an unmatched '{ch}'"
    if quote:
        return f"an unclosed {quote}"
    if stack:
        return f"an unclosed '{ {']': '[', ')': '('}[stack[-1]] }'"
    return None


def validate(raw, strict=True):
    """Return a normalised copy of raw, or raise CodecatchError('invalid_config').

    `strict=False` reads a file saved by an earlier version: rules it accepted then (a
    wildcard origin, a selector with unbalanced brackets) are kept rather than making
    the whole file unusable (which would turn automatic filling back on and drop every
    rule). Saving is always strict, and the message names the rule to fix."""

    def bad(message):
        raise CodecatchError("invalid_config", message)

    if not isinstance(raw, dict):
        bad("The configuration must be a JSON object.")
    config = dict(DEFAULTS)
    for name in _BOOLS:
        if name in raw:
            if not isinstance(raw[name], bool):
                bad(f"'{name}' must be true or false.")
            config[name] = raw[name]
    panels = raw.get("panels", [])
    if not isinstance(panels, list) or len(panels) > MAX_PANELS:
        bad(f"'panels' must be a list of at most {MAX_PANELS} rules.")
    seen = set()
    config["panels"] = []
    for i, rule in enumerate(panels):
        if not isinstance(rule, dict):
            bad(f"panels[{i}] must be an object with an 'origin'.")
        try:
            origin = normalize_origin(rule.get("origin"), strict=strict)
        except CodecatchError as exc:
            bad(f"panels[{i}]: {exc.message}")
        if origin in seen:
            bad(f"panels[{i}]: {origin} is listed twice.")
        seen.add(origin)
        selector = _selector(rule, "selector", i, strict, bad, "or null to find the field")
        # The save rule (issue 16): off unless set; the extension presses the button it
        # names after a fill of a proven capture (fill.decide_fill, SECURITY.md).
        save = _selector(rule, "save", i, strict, bad, "of the panel's save button, or null to press nothing")
        value = rule.get("value", "url")
        if value not in ("url", "code"):
            bad(f"panels[{i}].value must be 'url' (the whole https URL) or 'code' (the bare code).")
        config["panels"].append({"origin": origin, "selector": selector, "value": value, "save": save})
    return config


def _selector(rule, name, i, strict, bad, what):
    """A rule's CSS selector (`selector`, `save`), stripped, or None."""
    selector = rule.get(name)
    if selector is not None and (not isinstance(selector, str) or not selector.strip() or len(selector) > 500):
        bad(f"panels[{i}].{name} must be a CSS selector (at most 500 characters) {what}.")
    problem = selector_problem(selector) if selector and strict else None
    if problem:
        bad(f"panels[{i}].{name} '{selector[:100]}' is not a CSS selector: it has {problem}.")
    return selector.strip() if selector else None


def load(path=None):
    """(config, problem): a missing file gives the defaults; a broken one too, with why."""
    path = path or config_path()
    try:
        with open(path, encoding="utf-8") as f:
            return validate(json.load(f), strict=False), None
    except FileNotFoundError:
        return dict(DEFAULTS, panels=[]), None
    except (OSError, ValueError, CodecatchError) as exc:
        return dict(DEFAULTS, panels=[]), f"{path} is unusable ({exc})"


def save(config, path=None):
    """Validate and write atomically, readable by the user alone. Returns what was saved."""
    config = validate(config)
    write_atomic(path or config_path(), json.dumps(config, indent=2) + "\n", mode=0o600)
    return config
