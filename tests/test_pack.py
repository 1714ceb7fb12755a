"""codecatch pack: only the extension's files, the manifest each target accepts,
reproducible archives."""

import json
import zipfile

import pytest
from click.testing import CliRunner

from codecatch import pack
from codecatch.cli import main

REPO_MANIFEST = "manifest.json"


def _manifest(zip_path):
    with zipfile.ZipFile(zip_path) as z:
        return json.loads(z.read("manifest.json"))


def test_only_extension_files(repo_root, tmp_path):
    written = pack.pack(repo_root, tmp_path)
    assert set(written) == set(pack.TARGETS)
    for path in written.values():
        names = zipfile.ZipFile(path).namelist()
        assert names[0] == "manifest.json"
        assert all(n == "manifest.json" or n.startswith(("extension/", "_locales/")) for n in names), names
        assert not [n for n in names if n.endswith(".md") or "/." in n or "__pycache__" in n]
        assert "extension/background.js" in names


def test_chromium_keeps_key_store_and_firefox_drop_it(repo_root, tmp_path):
    written = pack.pack(repo_root, tmp_path)
    source = json.loads((repo_root / REPO_MANIFEST).read_text())
    assert _manifest(written["chromium"]) == source  # loads unpacked with the registered id
    store = _manifest(written["chromium-store"])
    assert "key" not in store and store["background"]["service_worker"]
    firefox = _manifest(written["firefox"])
    assert "key" not in firefox and "minimum_chrome_version" not in firefox
    assert "service_worker" not in firefox["background"] and firefox["background"]["scripts"]
    assert "offscreen" not in firefox["permissions"]
    assert firefox["browser_specific_settings"]["gecko"]["id"] == "codecatch@codecatch.dev"


def test_reproducible(repo_root, tmp_path):
    a = pack.pack(repo_root, tmp_path / "a")
    b = pack.pack(repo_root, tmp_path / "b")
    for target in pack.TARGETS:
        assert a[target].read_bytes() == b[target].read_bytes()


def test_manifest_for_does_not_touch_its_input():
    manifest = {"key": "k", "background": {"service_worker": "w.js", "scripts": ["w.js"]},
                "permissions": ["offscreen", "tabs"]}
    before = json.dumps(manifest)
    assert pack.manifest_for(manifest, "firefox")["permissions"] == ["tabs"]
    assert json.dumps(manifest) == before
    with pytest.raises(pack.PackError):
        pack.manifest_for(manifest, "safari")


def test_missing_referenced_file_is_refused(tmp_path):
    (tmp_path / "extension").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"version": "1", "background": {"scripts": ["extension/background.js"]}}))
    with pytest.raises(pack.PackError, match="extension/background.js"):
        pack.pack(tmp_path, tmp_path / "out")


def test_cli(repo_root, tmp_path):
    result = CliRunner().invoke(main, ["pack", "--source", str(repo_root), "--out", str(tmp_path),
                                       "--target", "firefox"])
    assert result.exit_code == 0, result.output
    assert "firefox:" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["codecatch-firefox-0.1.0.zip"]


def test_cli_not_a_source_tree(tmp_path):
    result = CliRunner().invoke(main, ["pack", "--source", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "manifest.json" in result.output


def test_test_hooks_never_ship(repo_root, tmp_path):
    """The worker's test hook (globalThis.codecatch) is in the source the tests load,
    and in no zip a user installs."""
    source = (repo_root / "extension" / "background.js").read_text(encoding="utf-8")
    assert "globalThis.codecatch" in source and "@test-only-begin" in source
    for target, path in pack.pack(repo_root, tmp_path).items():
        with zipfile.ZipFile(path) as archive:
            scripts = {n: archive.read(n).decode() for n in archive.namelist() if n.endswith(".js")}
        assert "globalThis.codecatch =" not in scripts["extension/background.js"], target
        assert not any("@test-only" in text for text in scripts.values()), target
        # The rest of the worker is intact: the start-up code after the hook is there.
        assert "connection.start();" in scripts["extension/background.js"], target


def test_unbalanced_test_only_markers_are_refused():
    with pytest.raises(pack.PackError, match="unbalanced"):
        pack.without_test_hooks(b"// @test-only-begin\nx = 1;\n", "bad.js")
