"""Zip files of the extension, for a user to load or a store to accept.

Only the extension's own files go in: manifest.json, extension/ and _locales/
(no READMEs, no dotfiles, nothing of the host, tests or tooling). The archives are
reproducible: sorted entries, a fixed timestamp, fixed permissions.

Per target, the manifest is adjusted for what that browser or store accepts:

| target           | for                                   | manifest changes |
|------------------|---------------------------------------|------------------|
| chromium         | "Load unpacked" after extracting      | none: `key` stays, so the id is the one `codecatch install` registers |
| chromium-store   | Chrome Web Store / Edge Add-ons upload | `key` removed: stores reject it and assign the id (register it with `codecatch install --extension-id ID`) |
| firefox          | AMO upload, or a temporary add-on      | Chromium-only parts removed: `key`, `minimum_chrome_version`, `background.service_worker`, the `offscreen` permission |

Pure functions build the file list and the manifests; `pack()` writes the zips.
"""

import copy
import json
import re
import zipfile
from pathlib import Path, PurePosixPath

SHIPPED_DIRS = ("extension", "_locales")
SKIPPED_SUFFIXES = (".md", ".map", ".pyc")
TARGETS = ("chromium", "chromium-store", "firefox")
# Firefox ignores these; leaving them in only earns web-ext lint warnings.
CHROMIUM_ONLY_PERMISSIONS = ("offscreen",)
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class PackError(Exception):
    pass


def shipped_files(source):
    """Relative POSIX paths of the files the extension is made of, sorted."""
    source = Path(source)
    if not (source / "manifest.json").is_file():
        raise PackError(f"no manifest.json in {source}: not the codecatch source tree "
                        "(run it inside the clone, or give --source DIR)")
    found = []
    for folder in SHIPPED_DIRS:
        for path in sorted((source / folder).rglob("*")):
            rel = PurePosixPath(path.relative_to(source).as_posix())
            if not path.is_file() or _skipped(rel):
                continue
            found.append(str(rel))
    return sorted(found)


def _skipped(rel):
    return (any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
            or rel.name.lower().endswith(SKIPPED_SUFFIXES))


def manifest_for(manifest, target):
    """The manifest as `target` wants it (see the table above). Does not modify `manifest`."""
    if target not in TARGETS:
        raise PackError(f"unknown target {target!r} (one of {', '.join(TARGETS)})")
    out = copy.deepcopy(manifest)
    if target == "chromium":
        return out
    out.pop("key", None)
    if target == "firefox":
        out.pop("minimum_chrome_version", None)
        background = out.get("background") or {}
        if background.get("scripts"):
            background.pop("service_worker", None)
        out["permissions"] = [p for p in out.get("permissions", [])
                              if p not in CHROMIUM_ONLY_PERMISSIONS]
    return out


def zip_name(target, version):
    return f"codecatch-{target}-{version}.zip"


def pack(source, out_dir, targets=TARGETS):
    """Write one zip per target into `out_dir`; returns {target: path}."""
    source, out_dir = Path(source), Path(out_dir)
    files = shipped_files(source)  # refuses a folder without manifest.json
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    _check_references(manifest, files)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for target in targets:
        path = out_dir / zip_name(target, manifest.get("version", "0"))
        body = json.dumps(manifest_for(manifest, target), indent=2, ensure_ascii=False) + "\n"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            _add(archive, "manifest.json", body.encode("utf-8"))
            for rel in files:
                data = (source / rel).read_bytes()
                _add(archive, rel, without_test_hooks(data, rel) if rel.endswith(".js") else data)
        written[target] = path
    return written


_TEST_ONLY = re.compile(rb"^[ \t]*// @test-only-begin\b.*?^[ \t]*// @test-only-end[^\n]*\n?", re.M | re.S)


def without_test_hooks(data, name="a script"):
    """A script without its `// @test-only-begin` … `// @test-only-end` blocks: what
    tests reach into in the running extension never ships."""
    if data.count(b"@test-only-begin") != data.count(b"@test-only-end"):
        raise PackError(f"{name}: unbalanced @test-only-begin/@test-only-end markers")
    return _TEST_ONLY.sub(b"", data)


def _add(archive, name, data):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _check_references(manifest, files):
    """Every file the manifest names is in the archive (a store would reject it otherwise)."""
    present = set(files)
    missing = sorted(ref for ref in _references(manifest) if ref not in present)
    if missing:
        raise PackError("manifest.json names files that are not shipped: " + ", ".join(missing))


def _references(manifest):
    refs = set()
    background = manifest.get("background") or {}
    refs.update(background.get("scripts") or [])
    if background.get("service_worker"):
        refs.add(background["service_worker"])
    for script in manifest.get("content_scripts") or []:
        refs.update(script.get("js") or [])
        refs.update(script.get("css") or [])
    action = manifest.get("action") or {}
    if action.get("default_popup"):
        refs.add(action["default_popup"])
    refs.update((action.get("default_icon") or {}).values())
    refs.update((manifest.get("icons") or {}).values())
    options = (manifest.get("options_ui") or {}).get("page") or manifest.get("options_page")
    if options:
        refs.add(options)
    if manifest.get("default_locale"):
        refs.add(f"_locales/{manifest['default_locale']}/messages.json")
    return {ref.lstrip("/") for ref in refs}
