"""protocol.read_frame over in-memory streams: oversized frames are dropped, not kept."""

import io
import struct

import pytest

from codecatch import protocol


def frame(body):
    return struct.pack("=I", len(body)) + body


class CountingStream(io.BytesIO):
    """Remembers the largest read asked of it."""

    largest = 0

    def read(self, n=-1):
        self.largest = max(self.largest, n)
        return super().read(n)


def test_an_oversized_frame_is_discarded_in_bounded_reads_and_the_next_frame_is_read():
    big = b"x" * (4 * 1024 * 1024 + 3)
    stream = CountingStream(frame(big) + frame(b'{"id": 1, "type": "ping"}'))
    with pytest.raises(protocol.FrameTooLarge) as caught:
        protocol.read_frame(stream)
    err = caught.value
    assert (err.length, err.request_id, err.name, err.code) == (len(big), None, "too_large", 16)
    assert str(len(big)) in err.message and str(protocol.MAX_IN) in err.message
    assert stream.tell() == 4 + len(big)  # exactly the announced bytes, no more
    assert stream.largest <= 64 * 1024
    assert protocol.read_frame(stream) == b'{"id": 1, "type": "ping"}'
    with pytest.raises(protocol.StreamEnded) as end:
        protocol.read_frame(stream)
    assert end.value.status == protocol.EXIT_EOF


def test_one_byte_over_the_limit_is_too_large_and_the_limit_itself_is_not():
    at_limit = b"y" * protocol.MAX_IN
    stream = io.BytesIO(frame(at_limit + b"y") + frame(at_limit))
    with pytest.raises(protocol.FrameTooLarge):
        protocol.read_frame(stream)
    assert protocol.read_frame(stream) == at_limit


@pytest.mark.parametrize("data", [
    struct.pack("=I", protocol.MAX_IN + 1) + b"z" * protocol.MAX_IN,
    struct.pack("=I", 0xFFFFFFFF) + b"z" * 10,
])
def test_an_oversized_frame_cut_short_ends_the_stream_as_truncated(data):
    with pytest.raises(protocol.StreamEnded) as end:
        protocol.read_frame(io.BytesIO(data))
    assert end.value.status == protocol.EXIT_TRUNCATED == 4
    assert "truncated oversized frame" in end.value.reason
