"""PROTOCOL.md's error tables, the host's codes and classes, and the extension's classes
(extension/lib/errors.js) say the same thing: a code in the wrong class is a capture
kept or dropped wrongly."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from codecatch.errors import ERROR_CLASSES, ERROR_CODES, error_class

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "PROTOCOL.md").read_text(encoding="utf-8")


def documented_classes():
    rows = re.findall(r"^\| (\d+)-(\d+) \| `([a-z_]+)` \| [^|]+ \|$", DOC, re.M)
    return {(int(low), int(high)): name for low, high, name in rows}


def extension_classes():
    """ERROR_CLASSES and isRefusal as the extension's own module computes them."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "import { ERROR_CLASSES, errorClass, isRefusal } from './extension/lib/errors.js';\n"
        "const codes = Array.from({ length: 61 }, (_, i) => i);\n"
        "console.log(JSON.stringify({ classes: ERROR_CLASSES,\n"
        "  of: codes.map((c) => [c, errorClass(c), isRefusal(c)]) }));\n"
    )
    out = subprocess.run([node, "--input-type=module", "-e", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_the_protocol_error_table_is_the_hosts():
    rows = re.findall(r"^\| (\d+) \| `([a-z0-9_]+)` \|", DOC, re.M)
    assert {name: int(code) for code, name in rows} == ERROR_CODES


def test_the_documented_classes_are_the_hosts():
    assert documented_classes() == ERROR_CLASSES


def test_the_classes_do_not_overlap_and_every_code_is_in_one():
    spans = sorted(ERROR_CLASSES)
    assert all(high < next_low for (_, high), (next_low, _) in zip(spans, spans[1:], strict=False))
    assert {name: error_class(code) for name, code in ERROR_CODES.items() if error_class(code) is None} == {}


def test_each_code_is_in_the_class_its_meaning_says():
    # The classes are true of the codes in them, not only ranges.
    assert {n for n, c in ERROR_CODES.items() if error_class(c) == "host_fault"} == {"internal"}
    assert {n for n, c in ERROR_CODES.items() if error_class(c) == "bad_message"} == {
        "invalid_json", "not_utf8", "not_object", "missing_id", "unknown_type", "invalid_field", "too_large"}
    assert {n for n, c in ERROR_CODES.items() if error_class(c) == "configuration"} == {"invalid_config"}
    refused = {n for n, c in ERROR_CODES.items() if error_class(c) == "refused"}
    assert {"no_uri", "refused_scheme", "not_signin_host", "framed_signin"} <= refused


def test_the_extension_classes_codes_as_the_host_does():
    ext = extension_classes()
    assert {(c["from"], c["to"]): c["name"] for c in ext["classes"]} == ERROR_CLASSES
    for code, name, refusal in ext["of"]:
        assert name == error_class(code), code
        assert refusal is (error_class(code) == "refused"), code


def test_the_extension_drops_exactly_the_hosts_refusals_of_its_input():
    # isRefusal: the host refused what it was given (20-39, PROTOCOL.md); anything else is kept.
    refusals = {code for code, _, refusal in extension_classes()["of"] if refusal}
    assert refusals == set(range(20, 40))
    assert {code for code in ERROR_CODES.values() if code in refusals} == \
        {code for code in ERROR_CODES.values() if 20 <= code < 40}


def test_an_invalid_field_error_names_its_field_in_the_protocol():
    assert re.search(r'"name": "invalid_field", "message": "[^"]*", "field": "source\.tab_id"', DOC)
