"""The hashed locks in requirements/ (scripts/lock.sh) stay in step with setup.cfg, and
the README's two set-up lines and CI install through them with --require-hashes."""

import configparser
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCKS = {"run.txt": (), "demo.txt": ("demo",), "test.txt": ("test",)}


def wanted(extras):
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    lines = cfg["options"]["install_requires"].splitlines()
    for extra in extras:
        lines += cfg["options.extras_require"][extra].splitlines()
    lines += (REPO / "requirements" / "build.in").read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def locked(name):
    """{package: [(version, marker text, hashes)]} from one lock file."""
    text = (REPO / "requirements" / name).read_text(encoding="utf-8")
    entries = {}
    for block in re.split(r"\n(?=\S)", text):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)(?:\s*;\s*(.+?))?", head)
        assert match, f"{name}: not a pinned line: {head!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        entries.setdefault(canonicalize_name(match[1]), []).append((match[2], match[3], hashes))
    return entries


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_requirement_is_locked_with_hashes_and_satisfies_setup_cfg(name):
    entries = locked(name)
    for requirement in wanted(LOCKS[name]):
        pins = entries.get(canonicalize_name(requirement.name))
        assert pins, f"{requirement.name} is in setup.cfg but not in requirements/{name}: run scripts/lock.sh"
        for version, _marker, _hashes in pins:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements/{name} pins {requirement.name}=={version}, outside {requirement}: run scripts/lock.sh")
    for package, pins in entries.items():
        for version, _marker, hashes in pins:
            assert hashes, f"requirements/{name}: {package}=={version} has no hash"


def test_the_readme_and_ci_install_through_the_locks():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    locked_install = re.compile(r"pip install -q --require-hashes -r requirements[/\\](\w+)\.txt && \S+ -m pip "
                                r"install -q --no-deps --no-build-isolation -e \.")
    assert {m for m in locked_install.findall(readme)} == {"demo", "test"}
    assert locked_install.findall(ci) == ["test"]
    assert not re.search(r"pip install[^\n]*-e '?\.\[", readme + ci), "an unhashed install is left"
