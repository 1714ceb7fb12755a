"""One capture judged: admission, timing, de-duplication and claims. Pure.

Beside `fill.decide_fill`: functions of plain values and `now` (seconds since the
epoch, as `time.time()` gives it). Nothing here reads a clock, a file or a lock, or
logs: `Host` (nativehost.py) holds the state, takes the lock, reads the configuration,
logs and publishes, and calls these.

The state (URIs seen, claims) is a `Memory`: a frozen value that every step replaces
with a new one, so a step that raises leaves the host's state as it was.
"""

import hashlib
from dataclasses import dataclass, field
from types import MappingProxyType

from .clouds import is_signin_url
from .errors import CodecatchError
from .redirect import CODE_LIFETIME_S

OBSERVED_AT_HORIZON_S = 86400  # an `observed_at` older than a day is not believed
DEDUP_WINDOW_S = CODE_LIFETIME_S  # a URI is a duplicate while its code could still be used
CLAIM_TTL_S = CODE_LIFETIME_S  # a claim lasts as long as the code it waits for


# -- admission -------------------------------------------------------------------


def refusal(source):
    """The error refusing this capture's source, or None when it is admitted.

    The frame that produced the redirect must be on a sign-in host: a nativeclient URL
    is on one too, but any page can navigate to it with a query of its own. And it
    must be a tab's own page, never a frame: a page that frames a sign-in page can
    navigate that frame to a redirect of its own, and the browser then reports the
    sign-in URL as the frame's (webNavigation cannot say who started a navigation).
    """
    if not is_signin_url(source.get("page_url")):
        return CodecatchError(
            "not_signin_host",
            "Ignored: this redirect did not come from a Microsoft sign-in page.",
        )
    frame_id = source.get("frame_id")
    if frame_id is not None and frame_id != 0:
        return CodecatchError(
            "framed_signin",
            "Ignored: this redirect came from a sign-in page inside a frame of another page; "
            "codecatch takes only a tab's own sign-in page.",
        )
    return None


# -- timing ----------------------------------------------------------------------


def captured_at(observed_at_ms, now):
    """When the code's lifetime started, in seconds.

    When the browser saw it, if the extension says so (a capture retried after the host
    was away) and that was within the last day and not in the future; else now.
    """
    if observed_at_ms is not None and now - OBSERVED_AT_HORIZON_S < observed_at_ms / 1000 <= now:
        return observed_at_ms / 1000
    return now


def expires_at(captured):
    return captured + CODE_LIFETIME_S


def is_expired(captured, now):
    return now - captured >= CODE_LIFETIME_S


# -- de-duplication and claims ------------------------------------------------------


def uri_key(uri):
    """What is remembered of a URI: its sha256, never the URI (it holds the code)."""
    return hashlib.sha256(uri.encode("utf-8", "surrogatepass")).hexdigest()


def _frozen(mapping):
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Memory:
    """What the host remembers between captures.

    `seen`: uri_key -> when first seen (s), for DEDUP_WINDOW_S.
    `claims`: state -> when the claim lapses (s); set by local subscribers (issue 7).
    """

    seen: MappingProxyType = field(default_factory=lambda: _frozen({}))
    claims: MappingProxyType = field(default_factory=lambda: _frozen({}))


def see(memory, key, now):
    """Return (memory, duplicate): whether `key` was seen within DEDUP_WINDOW_S.

    The window runs from the first sighting: a repeat does not extend it.
    """
    seen = {k: t for k, t in memory.seen.items() if now - t < DEDUP_WINDOW_S}
    duplicate = key in seen
    seen.setdefault(key, now)
    return Memory(_frozen(seen), memory.claims), duplicate


def claim(memory, state, now, ttl_s=CLAIM_TTL_S):
    """Return the memory with `state` claimed until now + ttl_s (a new claim replaces one)."""
    return Memory(memory.seen, _frozen({**memory.claims, state: now + ttl_s}))


def take_claim(memory, state, now):
    """Return (memory, claimed): a live claim on `state` is used, and so gone."""
    claims = {s: t for s, t in memory.claims.items() if t > now}
    claimed = state is not None and claims.pop(state, None) is not None
    return Memory(memory.seen, _frozen(claims)), claimed


def drop_claim(memory, state):
    """Return the memory without a claim on `state`: its client abandoned the flow."""
    return Memory(memory.seen, _frozen({s: t for s, t in memory.claims.items() if s != state}))


# -- the verdict -------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """What the host knows of one admitted capture before the fill decision."""

    key: str
    captured: float  # s
    expires: float  # s
    expired: bool
    duplicate: bool
    claimed: bool


def judge(memory, uri, response, source, now):
    """Return (memory, Judgement) for a capture whose source was admitted (`refusal`
    returned None): de-duplicated by its URI, its state's claim taken."""
    captured = captured_at(source.get("observed_at"), now)
    key = uri_key(uri)
    memory, duplicate = see(memory, key, now)
    memory, claimed = take_claim(memory, response.get("state"), now)
    return memory, Judgement(key=key, captured=captured, expires=expires_at(captured),
                             expired=is_expired(captured, now), duplicate=duplicate, claimed=claimed)


def is_published(judgement, verified):
    """Whether local subscribers get the capture: never a duplicate; an unverified one
    only when its state was claimed (the flow of the client that claimed it)."""
    return not judgement.duplicate and (verified or judgement.claimed)
