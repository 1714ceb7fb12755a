"""The package's error type and the protocol's stable error codes (PROTOCOL.md).

Codes are append-only: never renumber or reuse one. Each falls in a class that says
what a client does with the input it sent (PROTOCOL.md, "Error codes"; the extension's
extension/lib/errors.js `errorClass` and `isRefusal`).
"""

ERROR_CODES = {
    "internal": 1,
    "invalid_json": 10,
    "not_utf8": 11,
    "not_object": 12,
    "missing_id": 13,
    "unknown_type": 14,
    "invalid_field": 15,
    "too_large": 16,
    "no_uri": 20,
    "refused_scheme": 21,
    "unknown_scheme": 22,
    "not_native_redirect": 23,
    "no_response": 24,
    "duplicate_parameter": 25,
    "ambiguous_response": 26,
    "truncated": 27,
    "implausible_code": 28,
    "not_signin_host": 30,
    "framed_signin": 31,
    "invalid_config": 40,
}

# code range (inclusive) -> class; a new code goes in the class that says what to do.
ERROR_CLASSES = {
    (1, 9): "host_fault",  # the host failed: keep the input and retry
    (10, 19): "bad_message",  # the message itself is wrong: a client bug; do not resend it as it is
    (20, 39): "refused",  # the input is refused: drop it
    (40, 49): "configuration",  # the configuration sent is not valid: nothing was saved
}


def error_class(code):
    """The class of an error code (ERROR_CLASSES), or None outside them."""
    for (low, high), name in ERROR_CLASSES.items():
        if low <= code <= high:
            return name
    return None


class CodecatchError(Exception):
    """An error a person can act on; `name` maps to a stable protocol code."""

    def __init__(self, name, message, field=None):
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = ERROR_CODES[name]
        self.field = field  # the request's field at fault ("source.tab_id"), when one is


class RedirectError(CodecatchError):
    """The input holds no usable response from Microsoft's sign-in."""
