"""The capture rules (codecatch.capture) and Host.capture, in-process on a fake clock.

No subprocess and no sleeping: the framing and exit statuses are tests/test_nativehost.py's.
"""

import json

import pytest

from codecatch import capture
from codecatch.capture import Memory
from codecatch.nativehost import Host
from codes import entra_code

BROKER = "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
SIGNIN = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=x"
CODE = entra_code("a-real-looking-code")
T0 = 1_700_000_000.0  # the fake clock's start, in seconds


def source(**fields):
    src = {"channel": "navigate", "page_url": SIGNIN, "tab_id": 7, "frame_id": 0, "proof": "navigate",
           "flow": "signin", "opener_tab_id": 3, "opener_url": "https://panel.example.com/tenants/42/edit",
           "opener_origin": "https://panel.example.com", "opener_by_page": True}
    src.update(fields)
    return {k: v for k, v in src.items() if v is not None}


# -- admission ---------------------------------------------------------------------


@pytest.mark.parametrize("page_url", ["https://evil.example/", "http://login.microsoftonline.com/x",
                                      "https://login.microsoftonline.com.evil.example/", None])
def test_a_page_that_is_not_a_signin_host_is_refused(page_url):
    err = capture.refusal(source(page_url=page_url))
    assert (err.name, err.code) == ("not_signin_host", 30) and "sign-in page" in err.message


@pytest.mark.parametrize("page_url", ["https://login.microsoftonline.com:8443/common/oauth2/v2.0/authorize",
                                      "https://LOGIN.MICROSOFTONLINE.US/tenant/oauth2/authorize",
                                      "https://login.partner.microsoftonline.cn/x"])
def test_any_signin_host_is_admitted_as_the_extension_admits_it(page_url):
    # The extension judges the frame by URL.hostname (a port does not matter).
    assert capture.refusal(source(page_url=page_url)) is None


@pytest.mark.parametrize("frame_id,name", [(0, None), (None, None), (5, "framed_signin"), (-1, "framed_signin")])
def test_only_a_tabs_own_page_is_admitted(frame_id, name):
    err = capture.refusal(source(frame_id=frame_id))
    assert (err and (err.name, err.code)) == (name and (name, 31))


def test_a_framed_page_that_is_not_a_signin_host_is_refused_for_its_host():
    assert capture.refusal(source(page_url="https://evil.example/", frame_id=2)).name == "not_signin_host"


# -- timing ------------------------------------------------------------------------


@pytest.mark.parametrize("observed_ms,expected", [
    (None, T0),
    (int(T0 * 1000), T0),  # just now
    (int(T0 * 1000) - 9 * 60_000, T0 - 540),  # a capture retried after the host was away
    (int(T0 * 1000) - 86_399_999, T0 - 86_399.999),  # within the last day
    (int(T0 * 1000) - 86_400_000, T0),  # a day old: not believed
    (int(T0 * 1000) + 1, T0),  # in the future: not believed
])
def test_observed_at_counts_only_within_the_last_day(observed_ms, expected):
    assert capture.captured_at(observed_ms, T0) == pytest.approx(expected, abs=1e-6)


def test_a_code_expires_after_its_lifetime():
    assert capture.CODE_LIFETIME_S == 600
    assert capture.expires_at(T0) == T0 + 600
    assert not capture.is_expired(T0, T0 + 599.999)
    assert capture.is_expired(T0, T0 + 600)


# -- de-duplication ------------------------------------------------------------------


def test_a_uri_is_a_duplicate_within_600_s_of_its_first_sighting():
    key = capture.uri_key(f"{BROKER}?code={CODE}")
    memory, duplicate = capture.see(Memory(), key, T0)
    assert duplicate is False
    memory, duplicate = capture.see(memory, key, T0 + 300)
    assert duplicate is True
    memory, duplicate = capture.see(memory, key, T0 + 599.9)
    assert duplicate is True  # a repeat does not extend the window
    memory, duplicate = capture.see(memory, key, T0 + 600)
    assert duplicate is False
    assert dict(memory.seen) == {key: T0 + 600}


def test_old_sightings_are_forgotten_and_the_memory_is_replaced_not_changed():
    old = capture.uri_key("a")
    first, _ = capture.see(Memory(), old, T0)
    second, _ = capture.see(first, capture.uri_key("b"), T0 + 601)
    assert dict(first.seen) == {old: T0}  # unchanged
    assert list(second.seen) == [capture.uri_key("b")]
    with pytest.raises(TypeError):
        second.seen["x"] = 1


def test_no_uri_is_kept_only_its_hash():
    uri = f"{BROKER}?code={CODE}&state=\ud800"  # a lone surrogate hashes too
    memory, _ = capture.see(Memory(), capture.uri_key(uri), T0)
    (key,) = memory.seen
    assert len(key) == 64 and CODE not in repr(memory)


# -- claims ------------------------------------------------------------------------


def test_a_claim_is_used_once():
    memory = capture.claim(Memory(), "s1", T0)
    memory, claimed = capture.take_claim(memory, "s1", T0 + 10)
    assert claimed is True
    memory, claimed = capture.take_claim(memory, "s1", T0 + 11)
    assert claimed is False and dict(memory.claims) == {}


def test_a_claim_lapses_after_its_ttl():
    memory = capture.claim(Memory(), "s1", T0)
    assert capture.take_claim(memory, "s1", T0 + capture.CLAIM_TTL_S - 0.001)[1] is True
    memory, claimed = capture.take_claim(memory, "s1", T0 + capture.CLAIM_TTL_S)
    assert claimed is False and dict(memory.claims) == {}  # and forgotten
    short = capture.claim(Memory(), "s2", T0, ttl_s=5)
    assert capture.take_claim(short, "s2", T0 + 5)[1] is False


def test_a_new_claim_on_a_state_replaces_the_old_one():
    memory = capture.claim(capture.claim(Memory(), "s", T0), "s", T0 + 500)
    assert capture.take_claim(memory, "s", T0 + 1000)[1] is True


def test_no_state_takes_no_claim():
    memory = capture.claim(Memory(), "s", T0)
    memory, claimed = capture.take_claim(memory, None, T0)
    assert claimed is False and "s" in memory.claims


def test_taking_a_claim_forgets_lapsed_claims_of_other_states():
    memory = capture.claim(capture.claim(Memory(), "old", T0, ttl_s=1), "live", T0)
    memory, _ = capture.take_claim(memory, "other", T0 + 2)
    assert list(memory.claims) == ["live"]


# -- the judgement -----------------------------------------------------------------


def test_judge_dedupes_takes_the_claim_and_dates_the_capture():
    memory = capture.claim(Memory(), "st", T0)
    uri = f"{BROKER}?code={CODE}&state=st"
    src = source(observed_at=int(T0 * 1000) - 60_000)
    memory, first = capture.judge(memory, uri, {"state": "st"}, src, T0)
    assert (first.duplicate, first.claimed, first.expired) == (False, True, False)
    assert (first.captured, first.expires) == (T0 - 60, T0 + 540)
    assert first.key == capture.uri_key(uri)
    memory, again = capture.judge(memory, uri, {"state": "st"}, src, T0 + 540)
    assert (again.duplicate, again.claimed, again.expired) == (True, False, True)


@pytest.mark.parametrize("duplicate,claimed,verified,published", [
    (False, False, True, True),
    (False, False, False, False),  # unverified: only the client that claimed its state gets it
    (False, True, False, True),
    (False, True, True, True),
    (True, True, True, False),
    (True, False, True, False),
])
def test_who_gets_a_capture_on_the_stream(duplicate, claimed, verified, published):
    judged = capture.Judgement(key="k", captured=T0, expires=T0 + 600, expired=False,
                               duplicate=duplicate, claimed=claimed)
    assert capture.is_published(judged, verified) is published


# -- Host.capture on a fake clock ------------------------------------------------------


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


class Subscribers:
    def __init__(self):
        self.events = []

    def publish(self, event):
        self.events.append(event)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def host(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path / "cfg"))
    h = Host(clock=clock)
    h.subscribers = Subscribers()
    return h


def ask(host, request):
    """One request through the host's dispatch, as a frame's body would bring it."""
    return host.handle_frame(json.dumps(request).encode())


def captured(host, uri, **fields):
    reply = ask(host, {"id": "c", "type": "capture", "uri": uri, "source": source(**fields)})
    assert reply["ok"], reply
    return reply["result"]


def test_a_capture_is_dated_by_the_hosts_clock_and_filled_into_its_opener(host):
    result = captured(host, f"{BROKER}?code={CODE}&state=s1")
    assert result["captured_at"] == int(T0 * 1000) and result["expires_at"] == int(T0 * 1000) + 600_000
    assert result["verified"] is True and result["duplicate"] is False
    assert result["fill_reason"] == "opener" and result["fill"]["tab_id"] == 3
    assert [e["type"] for e in host.subscribers.events] == ["capture"]


def test_a_duplicate_within_the_window_is_not_filled_or_published_and_after_it_is_new(host, clock):
    uri = f"{BROKER}?code={CODE}&state=d"
    assert captured(host, uri)["duplicate"] is False
    clock.now = T0 + 599
    again = captured(host, uri, channel="webrequest", proof="redirect")
    assert again["duplicate"] is True and again["fill"] is None and again["fill_reason"] == "duplicate"
    assert len(host.subscribers.events) == 1
    clock.now = T0 + 600
    assert captured(host, uri)["duplicate"] is False
    assert len(host.subscribers.events) == 2


def test_a_retried_capture_keeps_its_own_clock_and_an_expired_one_is_not_filled(host):
    now_ms = int(T0 * 1000)
    fresh = captured(host, f"{BROKER}?code={CODE}&state=r1", observed_at=now_ms - 9 * 60_000)
    assert fresh["fill"] is not None and fresh["expires_at"] == now_ms + 60_000  # one minute left
    late = captured(host, f"{BROKER}?code={CODE}x&state=r2", observed_at=now_ms - 10 * 60_000)
    assert late["fill"] is None and late["fill_reason"] == "expired"
    future = captured(host, f"{BROKER}?code={CODE}y&state=r3", observed_at=now_ms + 3_600_000)
    assert future["fill"] is not None and future["captured_at"] == now_ms


def test_an_unverified_capture_is_published_only_when_its_state_was_claimed(host, clock):
    unproven = captured(host, f"{BROKER}?code={CODE}&state=u1", proof=None)
    assert unproven["verified"] is False and unproven["fill"] is None and unproven["fill_reason"] == "unverified"
    assert host.subscribers.events == []
    host.claim("u2")
    clock.now = T0 + 10
    claimed = captured(host, f"{BROKER}?code={CODE}&state=u2", proof=None)
    assert claimed["verified"] is False and claimed["fill_reason"] == "claimed"
    (event,) = host.subscribers.events
    assert event["type"] == "capture" and event["capture"] == claimed and "proof" not in event["source"]


def test_a_claim_made_through_the_host_lapses_and_is_used_once(host, clock):
    host.claim("c1")
    host.claim("c2", ttl_s=30)
    clock.now = T0 + 30
    lapsed = captured(host, f"{BROKER}?code={CODE}&state=c2")
    assert lapsed["fill_reason"] == "opener" and lapsed["claimed"] is False
    claimed = captured(host, f"{BROKER}?code={CODE}&state=c1")
    assert claimed["fill_reason"] == "claimed" and claimed["claimed"] is True  # the extension closes its tab
    assert captured(host, f"{BROKER}?code={CODE}z&state=c1")["fill_reason"] == "opener"  # used
    # An error response whose state was claimed is the claimer's too (its tab is closed as well).
    host.claim("c3")
    error = captured(host, f"{BROKER}?error=consent_required&error_description=AADSTS65001%3A+x&state=c3")
    assert error["fill_reason"] == "error_response" and error["claimed"] is True


def test_the_armed_tab_is_judged_at_the_hosts_now(host, clock):
    # decide_fill gets now_ms from the host's clock: an arming lasts until armed_until.
    assert ask(host, {"id": 1, "type": "config.set", "config": {
        "panels": [{"origin": "https://armed.example", "selector": "#code", "value": "code"}]}})["ok"]
    now_ms = int(T0 * 1000)
    armed = dict(opener_tab_id=None, opener_url=None, opener_by_page=False, flow_started_at=now_ms,
                 armed_tab_id=11, armed_url="https://armed.example/x", armed_origin="https://armed.example",
                 armed_at=now_ms - 1000, armed_until=now_ms + 1000)
    result = captured(host, f"{BROKER}?code={CODE}&state=a1", **armed)
    assert result["fill"]["tab_id"] == 11 and result["fill"]["target"] == "armed"
    assert result["fill"]["value"] == CODE and result["fill"]["selector"] == "#code"
    clock.now = T0 + 1
    late = captured(host, f"{BROKER}?code={CODE}&state=a2", **armed)
    assert late["fill"] is None and late["fill_reason"] == "no_target"


def test_an_error_response_fills_nothing(host):
    result = captured(host, f"{BROKER}?error=access_denied&error_description=AADSTS65004%3A+declined&state=s")
    assert result["fill"] is None and result["fill_reason"] == "error_response"
    assert result["response"]["aadsts"] == "AADSTS65004"


def test_never_fills_into_a_signin_page(host):
    result = captured(host, f"{BROKER}?code={CODE}&state=q", opener_url="https://login.microsoftonline.com/common",
                      opener_origin="https://login.microsoftonline.com")
    assert result["fill"] is None and result["fill_reason"] == "target_is_signin"


def test_a_nativeclient_url_from_any_other_page_is_refused(host):
    # It is on a sign-in host, but any page can navigate to it with a code of its own.
    uri = f"https://login.microsoftonline.com/common/oauth2/nativeclient?code={CODE}&state=n"
    reply = ask(host, {"id": 2, "type": "capture", "uri": uri, "source": source(
        page_url="https://evil.example/", armed_tab_id=3, armed_url="https://panel.example.com/")})
    assert reply == {"id": 2, "ok": False, "error": {"code": 30, "name": "not_signin_host",
                                                     "message": reply["error"]["message"]}}
    assert captured(host, uri)["fill"] is not None  # from a sign-in page it is a capture like any other


@pytest.mark.parametrize("channel", ["navigate", "webrequest", "before_navigate", "error_occurred"])
def test_a_refused_capture_is_not_remembered(host, channel):
    # A page that frames a sign-in page can navigate that frame to a redirect of its own;
    # the same URI from a tab's own sign-in page must still count.
    uri = f"{BROKER}?code={CODE}&state=f-{channel}"
    reply = ask(host, {"id": 3, "type": "capture", "uri": uri, "source": source(
        channel=channel, frame_id=5, armed_tab_id=3, armed_url="https://panel.example.com/")})
    assert reply["ok"] is False and reply["error"]["code"] == 31 and reply["error"]["name"] == "framed_signin"
    assert "frame" in reply["error"]["message"]
    proof = {"navigate": "navigate", "webrequest": "redirect"}.get(channel, "declared")
    ok = captured(host, uri, channel=channel, proof=proof)
    assert ok["duplicate"] is False and ok["fill"] is not None
    assert host.subscribers.events[-1]["capture"]["capture_id"] == ok["capture_id"]


def test_a_uri_the_host_cannot_read_is_refused_before_its_source_is_judged(host):
    reply = ask(host, {"id": 4, "type": "capture", "uri": "https://example.com/",
                       "source": source(page_url="https://evil.example/")})
    assert reply["error"]["name"] == "not_native_redirect"
