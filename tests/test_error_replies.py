"""Error replies name the request's field at fault in `field` (PROTOCOL.md), in-process."""

import json

import pytest

from codecatch import protocol
from codecatch.nativehost import Host


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    return Host(clock=lambda: 1_700_000_000.0)


@pytest.mark.parametrize("request_,field", [
    ({"id": 1}, "type"),
    ({"id": 1, "type": 5}, "type"),
    ({"id": 1, "type": "parse", "text": 5}, "text"),
    ({"id": 1, "type": "capture"}, "uri"),
    ({"id": 1, "type": "capture", "uri": "x"}, "source"),
    ({"id": 1, "type": "capture", "uri": "x", "source": {"tab_id": "seven"}}, "source.tab_id"),
    ({"id": 1, "type": "capture", "uri": "x", "source": {"frame_id": True}}, "source.frame_id"),
    ({"id": 1, "type": "config.set", "config": []}, "config"),
    ({"id": 1, "type": "report", "outcome": "filled"}, "capture_id"),
    ({"id": 1, "type": "report", "capture_id": "c", "outcome": "eaten"}, "outcome"),
    ({"id": 1, "type": "report", "capture_id": "c", "outcome": "filled", "detail": 3}, "detail"),
    ({"id": 1, "type": "report", "capture_id": "c", "outcome": "filled", "saved": "yes"}, "saved"),
    ({"type": "ping"}, "id"),  # missing_id names it too
])
def test_an_error_about_a_field_names_it(host, request_, field):
    reply = host.handle_frame(json.dumps(request_).encode())
    error = reply["error"]
    assert reply["ok"] is False and error["field"] == field and error["message"]
    assert error["name"] == ("missing_id" if field == "id" else "invalid_field")
    assert set(error) == {"code", "name", "message", "field"}


@pytest.mark.parametrize("body", [
    b"nope",
    b'{"id": 1, "type": "teleport"}',
    b'{"id": 1, "type": "parse", "text": "javascript:alert(1)"}',
    json.dumps({"id": 1, "type": "capture", "uri": "ms-appx-web://x/?code=c&state=s",
                "source": {"page_url": "https://evil.example/"}}).encode(),
])
def test_other_errors_name_no_field(host, body):
    error = host.handle_frame(body)["error"]
    assert set(error) == {"code", "name", "message"}


def test_error_reply_adds_field_only_when_given():
    assert protocol.error_reply(1, "invalid_field", "m", "uri")["error"] == {
        "code": 15, "name": "invalid_field", "message": "m", "field": "uri"}
    assert "field" not in protocol.error_reply(1, "internal", "m")["error"]
