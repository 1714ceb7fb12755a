"""Native-messaging framing and message schema (PROTOCOL.md). Pure, over bytes.

The one codec: the host reads requests with `read_frame` and writes replies with
`encode_frame`; its peers (`codecatch doctor`, the tests) write requests with
`encode_request` and read the host's messages with `read_message`. Only this module
knows the header's layout (`header`, `HEADER_SIZE`).

Framing: https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-protocol
"""

import json
import struct

from . import PROTOCOL_VERSION, __version__
from .errors import ERROR_CODES, CodecatchError

MAX_IN = 64 * 1024  # no request needs more; a larger frame is read, dropped and refused
MAX_OUT = 1024 * 1024  # the browsers' cap for host-to-browser messages
_HEADER = struct.Struct("=I")  # native byte order, as the browsers write it
HEADER_SIZE = _HEADER.size

_DISCARD_CHUNK = 64 * 1024  # an oversized frame is dropped through a buffer this size

EXIT_EOF = 0
# 3 was "frame too large" until issue 12: such a frame now gets error `too_large`.
EXIT_TRUNCATED = 4


class StreamEnded(Exception):
    """The stream can no longer be read; `status` is the host's exit status."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def header(length):
    """The 4-byte header announcing a body of `length` bytes (tests build malformed
    frames from it)."""
    return _HEADER.pack(length)


def frame(body):
    """One frame around bytes already encoded: no limit is checked."""
    return _HEADER.pack(len(body)) + body


def read_header(stream):
    """Read one frame's header and return the length it announces.

    Raise StreamEnded: EXIT_EOF when the stream ends before it, EXIT_TRUNCATED when it
    ends inside it.
    """
    header_bytes = _read_exact(stream, HEADER_SIZE)
    if not header_bytes:
        raise StreamEnded(EXIT_EOF, "end of input")
    if len(header_bytes) < HEADER_SIZE:
        raise StreamEnded(EXIT_TRUNCATED, f"truncated frame header ({len(header_bytes)} of {HEADER_SIZE} bytes)")
    (length,) = _HEADER.unpack(header_bytes)
    return length


def read_body(stream, length):
    """Read a body of `length` bytes; raise StreamEnded(EXIT_TRUNCATED) when it is cut short."""
    body = _read_exact(stream, length)
    if len(body) < length:
        raise StreamEnded(EXIT_TRUNCATED, f"truncated frame ({len(body)} of {length} bytes)")
    return body


def read_frame(stream):
    """Read one frame's body from a binary stream (the host's side: limit MAX_IN).

    Raise FrameTooLarge for a frame over MAX_IN, after reading and dropping its body
    (the stream is then at the next frame); raise StreamEnded at the stream's end.
    """
    length = read_header(stream)
    if length > MAX_IN:
        dropped = _discard(stream, length)
        if dropped < length:
            raise StreamEnded(EXIT_TRUNCATED, f"truncated oversized frame ({dropped} of {length} bytes)")
        raise FrameTooLarge(length)
    return read_body(stream, length)


class MessageTooLarge(ValueError):
    """A peer announced a message over the reader's limit; its body was not read."""

    def __init__(self, length, limit):
        super().__init__(f"announced a {length}-byte message (over the {limit}-byte limit)")
        self.length = length
        self.limit = limit


def read_message(stream, limit=MAX_OUT):
    """Read one message from the host (a peer's side: `codecatch doctor`, the tests).

    Return the decoded JSON, or None when the stream ends before a whole header.
    Raise MessageTooLarge (unread) over `limit`; ValueError for a body cut short or
    not UTF-8 JSON.
    """
    try:
        length = read_header(stream)
    except StreamEnded:
        return None
    if length > limit:
        raise MessageTooLarge(length, limit)
    try:
        body = read_body(stream, length)
    except StreamEnded as end:
        raise ValueError(end.reason) from None
    return json.loads(body.decode("utf-8"))


def encode_request(message):
    """A peer's request as a frame (JSON with ASCII escapes, so any str can be sent,
    lone surrogates included)."""
    return frame(json.dumps(message).encode("utf-8"))


def _discard(stream, n):
    """Read and drop up to n bytes, _DISCARD_CHUNK at a time; return how many were read."""
    left = n
    while left:
        chunk = stream.read(min(left, _DISCARD_CHUNK))
        if not chunk:
            break
        left -= len(chunk)
    return n - left


def _read_exact(stream, n):
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def encode_frame(message):
    # "replace": a lone surrogate that slipped into a reply must not end the host.
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    if len(body) > MAX_OUT:
        reply_id = message.get("id") if isinstance(message, dict) else None
        return encode_frame(error_reply(reply_id, "internal", "The reply was over 1 MiB and was dropped."))
    return frame(body)


MAX_DEPTH = 32  # arrays and objects inside one another; a request uses 3


def _nesting(text):
    """How deep arrays and objects nest in JSON text, brackets inside strings not counted.
    Linear; a message with few brackets (every real one) is not scanned at all."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def decode_request(body):
    """Return (id, request dict) or raise ProtocolError carrying the id when known."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(None, "not_utf8", "The message is not valid UTF-8.") from None
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        # json.loads recurses: a deep enough message ends in RecursionError, not a reply.
        raise ProtocolError(None, "invalid_json", f"The message nests {depth} levels deep; "
                                                  f"a request never needs more than {MAX_DEPTH}.")
    try:
        message = json.loads(text)
    except ValueError as exc:  # JSONDecodeError; or a number too long to convert (no .msg)
        where = f"{exc.msg} at {exc.pos}" if isinstance(exc, json.JSONDecodeError) else str(exc)[:120]
        raise ProtocolError(None, "invalid_json", f"The message is not JSON ({where}).") from None
    if not isinstance(message, dict):
        raise ProtocolError(None, "not_object", f"A request must be a JSON object, not {type(message).__name__}.")
    try:
        # JSON may spell a lone surrogate ("\\ud800"), which is no Unicode text: it would
        # fail later, when the reply or the event stream encodes it, and end the host.
        # Valid UTF-8 holds none, so only a \\u escape can bring one.
        if "\\u" in text:
            json.dumps(message, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(None, "not_utf8", "The message holds a lone surrogate (\\ud800-\\udfff): "
                                              "not valid Unicode.") from None
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)):
        raise ProtocolError(None, "missing_id", "A request needs an 'id' (a string or an integer).", field="id")
    if not isinstance(message.get("type"), str):
        raise ProtocolError(request_id, "invalid_field", "A request needs a 'type' (a string).", field="type")
    return request_id, message


class ProtocolError(CodecatchError):
    def __init__(self, request_id, name, message, field=None):
        super().__init__(name, message, field)
        self.request_id = request_id


class FrameTooLarge(ProtocolError):
    """A frame over MAX_IN was read and dropped unparsed (so its id is unknown)."""

    def __init__(self, length):
        super().__init__(None, "too_large",
                         f"The message of {length} bytes is over the host's limit of {MAX_IN} bytes "
                         f"({MAX_IN // 1024} KiB) and was dropped unread; send a smaller one.")
        self.length = length


def hello():
    return {"type": "hello", "protocol": PROTOCOL_VERSION, "version": __version__, "host": "codecatch-host"}


def result_reply(request_id, result):
    return {"id": request_id, "ok": True, "result": result}


def error_reply(request_id, name, message, field=None):
    """An error reply; `field` (the request's field at fault) goes in the error as "field"."""
    error = {"code": ERROR_CODES[name], "name": name, "message": message}
    if field is not None:
        error["field"] = field
    return {"id": request_id, "ok": False, "error": error}


def field(message, name, kind, required=True):
    """message[name] checked against a type; raise invalid_field naming the field."""
    value = message.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProtocolError(message.get("id"), "invalid_field", f"'{name}' must be a {expected}.", field=name)
    return value
