"""The host manifest: building it, rendering it, reading it back. Pure.

Chromium: https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host
Firefox:  https://developer.mozilla.org/en-US/docs/Mozilla/Add-ons/WebExtensions/Native_manifests
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from ..identity import CHROMIUM_EXTENSION_ID, GECKO_ID, HOST_NAME
from .browsers import CHROMIUM, FIREFOX

DESCRIPTION = "codecatch: fills Microsoft sign-in codes into hosting panels"


def origin(extension_id: str) -> str:
    return f"chrome-extension://{extension_id}/"


def build(family: str, host_path: str, extension_ids: Iterable[str] = ()) -> dict:
    """The manifest for one browser family. `extension_ids` are Chromium ids (32 letters
    a-p) or, for Firefox, add-on ids; empty means codecatch's own."""
    ids = list(dict.fromkeys(extension_ids))
    base = {"name": HOST_NAME, "description": DESCRIPTION, "path": host_path, "type": "stdio"}
    if family == CHROMIUM:
        return {**base, "allowed_origins": [origin(i) for i in (ids or [CHROMIUM_EXTENSION_ID])]}
    if family == FIREFOX:
        return {**base, "allowed_extensions": ids or [GECKO_ID]}
    raise ValueError(f"unknown browser family {family!r}")


def render(manifest: dict) -> bytes:
    """The exact bytes install writes: UTF-8 without BOM (Windows browsers reject a BOM),
    two-space indent, a final newline."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


_GECKO_ID = re.compile(r"^(?:[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\})$")


def invalid_ids(extension_ids: Iterable[str]) -> list[str]:
    """The ids that are neither a Chromium id (32 letters a-p) nor a Firefox add-on id
    (name@domain or {uuid})."""
    return [i for i in extension_ids if not (_is_chromium_id(i) or _GECKO_ID.match(i))]


def _is_chromium_id(i: str) -> bool:
    return len(i) == 32 and all("a" <= c <= "p" for c in i)


def split_ids(family: str, extension_ids: Iterable[str]) -> list[str]:
    """Keep the ids that make sense for a family: Chromium ids are 32 letters a-p; anything
    else (an email-like or {uuid} id) is a Firefox add-on id."""
    out = []
    for i in extension_ids:
        if _is_chromium_id(i) == (family == CHROMIUM):
            out.append(i)
    return out
