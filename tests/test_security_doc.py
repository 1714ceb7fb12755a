"""SECURITY.md's claims name the tests that prove them: every claim names one, and every
test it names exists (a renamed or deleted test must take its claim with it)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLAIM_SECTIONS = ("## What proves that Microsoft produced a redirect", "## The flow belongs to whoever started it",
                  "## Other promises", "## Installing the host")


def sections():
    text = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    parts = re.split(r"\n(?=## )", text)
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def references(text):
    """(file, test name or None) for every `tests/...` and `::name` in `text`; a bare
    `::name` belongs to the file named last before it."""
    found, last = [], None
    for match in re.finditer(r"tests/[\w/.]+\.(?:py|json|js)\b(?:::\w+)?|::\w+", text):
        ref = match.group(0)
        if ref.startswith("::"):
            assert last, f"{ref} follows no file"
            found.append((last, ref[2:]))
            continue
        path, _, name = ref.partition("::")
        last = path
        found.append((path, name or None))
    return found


def defines(path, name):
    source = (REPO / path).read_text(encoding="utf-8")
    if path.endswith(".py"):
        return re.search(rf"^(?:async )?def {re.escape(name)}\(", source, re.M) is not None
    return name in source


def test_every_test_named_in_security_md_exists():
    refs = references((REPO / "SECURITY.md").read_text(encoding="utf-8"))
    assert len(refs) > 40
    missing = [f"{path}::{name}" if name else path for path, name in refs
               if not (REPO / path).is_file() or (name and not defines(path, name))]
    assert missing == []


def test_every_claim_names_a_test():
    by_title = sections()
    for title in CLAIM_SECTIONS:
        assert title in by_title, title
        # A claim is a bullet or a paragraph; tables and headings are not claims.
        body = by_title[title].split("\n", 1)[1]
        chunks = [c.strip() for c in re.split(r"\n\s*\n|\n(?=- )", body)]
        claims = [c for c in chunks if c and not c.startswith(("|", "#"))]
        assert claims, title
        for claim in claims:
            assert re.search(r"tests/|::\w+|`test_\w+`", claim), f"{title}: a claim with no test: {claim[:160]!r}"


def test_every_bare_test_name_in_security_md_exists_somewhere():
    """A name given without its file (`test_scenario`) must still be a test of the suite."""
    text = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", text))
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("test_*.py"))
    missing = sorted(n for n in named if not re.search(rf"^(?:async )?def {n}\(", sources, re.M))
    assert named and missing == []
