"""PROTOCOL.md's error table, the host's codes and the extension's list of refusals
say the same thing (a code added in one place only is a capture kept or lost wrongly)."""

import re
from pathlib import Path

from codecatch.errors import ERROR_CODES

ROOT = Path(__file__).resolve().parents[1]


def test_the_protocol_error_table_is_the_hosts():
    rows = re.findall(r"^\| (\d+) \| `([a-z0-9_]+)` \|", (ROOT / "PROTOCOL.md").read_text(encoding="utf-8"), re.M)
    assert {name: int(code) for code, name in rows} == ERROR_CODES


def test_the_extension_drops_exactly_the_hosts_refusals_of_its_input():
    # 20-39: the host refused what it was given (PROTOCOL.md); anything else is kept.
    source = (ROOT / "extension" / "background.js").read_text(encoding="utf-8")
    refusals = {int(n) for n in re.search(r"const REFUSALS = new Set\(\[([\d, ]+)\]\)", source).group(1).split(",")}
    assert refusals == {code for code in ERROR_CODES.values() if 20 <= code < 40}
