"""Real pastes: strings admins, bug reporters and writers pasted in public.

tests/cases/pastes.json holds each string verbatim with its public source and the
outcome decided before the tool was run on it (see the file's "note" fields for the
judgment calls). `codecatch parse --json` must give exactly that outcome.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codecatch.cli import main

CASES = json.loads((Path(__file__).parent / "cases" / "pastes.json").read_text(encoding="utf-8"))
FIELDS = ("aadsts", "msis", "error", "trace_id", "correlation_id", "timestamp", "state")


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 40
    assert all(case["source"].startswith(("https://", "http://")) or "MachPanel" in case["source"] for case in CASES)
    assert len({case["id"] for case in CASES}) == len(CASES)
    assert {case["expect"]["exit"] for case in CASES} == {0, 1, 2}


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_a_real_paste_gives_the_outcome_decided_beforehand(case):
    expect = case["expect"]
    result = CliRunner().invoke(main, ["parse", "--json"], input=case["text"])
    data = json.loads(result.stdout)
    seen = {"exit": result.exit_code, "kind": data["kind"]}
    if expect["exit"] == 2:
        seen["name"] = data["error"]["name"]
    else:
        seen.update({name: data.get(name) for name in FIELDS if name in expect})
        if "code_prefix" in expect:
            seen["code_prefix"] = (data.get("code") or "")[:6]
    wanted = {key: value for key, value in expect.items() if key in seen}
    assert seen == wanted, case["note"] if "note" in case else case["source"]
