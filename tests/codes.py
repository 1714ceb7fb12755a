"""Authorization codes shaped like Microsoft's, for tests.

The host refuses a code that is not shaped like one its issuer sends
(`redirect.check_code`), so every test code that must be accepted, including an
attacker's, has that shape: an attack test passes because of the rule it tests, not
because its code was too short.
"""

import base64
import hashlib


def _filler(tag, length):
    raw = hashlib.sha256(tag.encode()).digest()
    text = ""
    while len(text) < length:
        raw = hashlib.sha256(raw).digest()
        text += base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return text[:length]


def entra_code(tag="", length=420):
    """An Entra v2.0 code: `0.AXkA`, the tag (letters, digits, '_', '-'), a dot, base64url.

    The same tag gives the same code; different tags give different codes.
    """
    head = "0.AXkA" + tag + "."
    return head + "AgABBAIAAAA" + _filler(tag, max(length - len(head) - 11, 90))


def msa_code(tag=""):
    """A Microsoft account code: `M.C5xx_BAY.2.U.` and a GUID-like tail."""
    hexed = hashlib.sha256(tag.encode()).hexdigest()
    return f"M.C532_BAY.2.U.{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:32]}"
