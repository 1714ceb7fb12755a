"""The package's error type and the protocol's stable error codes (PROTOCOL.md).

Codes are append-only: never renumber or reuse one.
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
    "not_signin_host": 30,
    "framed_signin": 31,
    "invalid_config": 40,
}


class CodecatchError(Exception):
    """An error a person can act on; `name` maps to a stable protocol code."""

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = ERROR_CODES[name]


class RedirectError(CodecatchError):
    """The input holds no usable response from Microsoft's sign-in."""
