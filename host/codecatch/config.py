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


def config_path():
    return os.path.join(config_dir(), "config.json")


def validate(raw):
    """Return a normalised copy of raw, or raise CodecatchError('invalid_config')."""
    from .fill import origin_of

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
        origin = origin_of(rule.get("origin"))
        if origin is None or origin != str(rule.get("origin")).rstrip("/").lower():
            bad(f"panels[{i}].origin must be an origin such as https://panel.example.com (no path).")
        if origin in seen:
            bad(f"panels[{i}]: {origin} is listed twice.")
        seen.add(origin)
        selector = rule.get("selector")
        if selector is not None and (not isinstance(selector, str) or not selector.strip() or len(selector) > 500):
            bad(f"panels[{i}].selector must be a CSS selector (at most 500 characters) or null.")
        value = rule.get("value", "url")
        if value not in ("url", "code"):
            bad(f"panels[{i}].value must be 'url' (the whole https URL) or 'code' (the bare code).")
        config["panels"].append({"origin": origin, "selector": selector.strip() if selector else None, "value": value})
    return config


def load(path=None):
    """(config, problem): a missing file gives the defaults; a broken one too, with why."""
    path = path or config_path()
    try:
        with open(path, encoding="utf-8") as f:
            return validate(json.load(f)), None
    except FileNotFoundError:
        return dict(DEFAULTS, panels=[]), None
    except (OSError, ValueError, CodecatchError) as exc:
        return dict(DEFAULTS, panels=[]), f"{path} is unusable ({exc}); using defaults until it is fixed or saved again"


def save(config, path=None):
    """Validate and write atomically, readable by the user alone. Returns what was saved."""
    config = validate(config)
    write_atomic(path or config_path(), json.dumps(config, indent=2) + "\n", mode=0o600)
    return config
