"""The host's half of the provenance rule (codecatch.fill.is_proven), on the same cases
as the extension's (tests/cases/provenance.json, tests/node/provenance.test.js)."""

import json
from pathlib import Path

import pytest

from codecatch.fill import is_proven

CASES = json.loads((Path(__file__).parent / "cases" / "provenance.json").read_text())["proof"]
CLAIMS = {"webrequest": "redirect", "navigate": "navigate", "before_navigate": "declared",
          "error_occurred": "declared", "popup": "navigate"}


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_the_host_accepts_a_proof_exactly_where_the_extension_finds_one(case):
    # The extension names the proof it found; the host checks that it fits the channel
    # and the page. What it cannot see (whether the page declared the URI) it trusts.
    source = {"channel": case["channel"], "page_url": case["page_url"], "frame_id": case["frame_id"],
              "proof": case["expect"] or CLAIMS[case["channel"]]}
    expected = case["expect"] is not None or case.get("host_cannot_check", False)
    assert is_proven(source) is expected


def test_no_proof_is_no_proof():
    assert not is_proven({"channel": "navigate", "page_url": "https://login.microsoftonline.com/x", "frame_id": 0})
    assert not is_proven({"channel": "navigate", "page_url": "https://login.microsoftonline.com/x", "frame_id": 0,
                          "proof": "redirect"})
