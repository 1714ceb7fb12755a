"""The one codec (protocol.py) from a peer's side: what `codecatch doctor` and the
tests write to the host and read from it."""

import io
import sys

import pytest

from codecatch import protocol
from codecatch.install import doctor


def test_a_request_round_trips_through_the_peers_reader():
    message = {"id": 1, "type": "parse", "text": "é \ud800 \U0001F600"}
    stream = io.BytesIO(protocol.encode_request(message) + protocol.encode_frame({"id": 2, "ok": True}))
    assert protocol.read_message(stream) == message
    assert protocol.read_message(stream) == {"id": 2, "ok": True}
    assert protocol.read_message(stream) is None


def test_the_header_is_four_bytes_in_native_order():
    assert protocol.HEADER_SIZE == 4
    assert protocol.header(0x01020304) == (0x01020304).to_bytes(4, sys.byteorder)
    assert protocol.frame(b"{}") == protocol.header(2) + b"{}"


@pytest.mark.parametrize("data", [b"", b"\x01\x00"])
def test_a_stream_ending_before_a_whole_header_has_no_message(data):
    assert protocol.read_message(io.BytesIO(data)) is None


def test_a_message_over_the_limit_is_refused_unread():
    stream = io.BytesIO(protocol.header(protocol.MAX_OUT + 1) + b"x" * 10)
    with pytest.raises(protocol.MessageTooLarge) as caught:
        protocol.read_message(stream)
    assert (caught.value.length, caught.value.limit) == (protocol.MAX_OUT + 1, protocol.MAX_OUT)
    assert stream.tell() == 4
    assert protocol.read_message(io.BytesIO(protocol.frame(b"[1]")), limit=3) == [1]
    with pytest.raises(protocol.MessageTooLarge):
        protocol.read_message(io.BytesIO(protocol.frame(b"[1]")), limit=2)


@pytest.mark.parametrize("data,words", [
    (protocol.header(10) + b'{"id"', "truncated frame (5 of 10 bytes)"),
    (protocol.frame(b"\xff"), "utf-8"),
    (protocol.frame(b"nope"), "Expecting value"),
])
def test_a_broken_message_is_a_value_error(data, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        protocol.read_message(io.BytesIO(data))


def test_the_host_side_reader_and_the_peer_side_reader_agree_on_the_header():
    stream = io.BytesIO(protocol.encode_request({"id": 1, "type": "ping"}))
    assert protocol.decode_request(protocol.read_frame(stream)) == (1, {"id": 1, "type": "ping"})


@pytest.mark.parametrize("data,expected", [
    (protocol.encode_frame(protocol.hello()), ("msg", protocol.hello())),
    (b"", ("msg", None)),
    (b"\x10", ("msg", None)),
    (b"hello there\n", ("error", "announced a ")),
    (protocol.header(protocol.MAX_OUT + 1), ("error", f"announced a {protocol.MAX_OUT + 1}-byte message "
                                                      "(more than the browsers' 1 MiB cap)")),
    (protocol.frame(b"{broken"), ("error", "sent something that is not a framed JSON message (")),
])
def test_doctors_reader_reads_through_the_codec(data, expected):
    reader = doctor._FrameReader(io.BytesIO(data))
    kind, value = expected
    if kind == "msg":
        assert reader.read(5) == value
    else:
        with pytest.raises(ValueError) as caught:
            reader.read(5)
        assert str(caught.value).startswith(value)
