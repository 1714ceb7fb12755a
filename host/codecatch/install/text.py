"""Plain-text renderings of installer and doctor results (strings; the CLI prints them)."""

from __future__ import annotations

from .installer import Report

VERBS = {"written": "wrote", "unchanged": "unchanged", "removed": "removed", "absent": "nothing to remove:",
         "refused": "REFUSED", "skipped": "skipped", "would-write": "would write",
         "would-remove": "would remove"}


def report_lines(report: Report, *, title: str, found=None, looked_for=()) -> list[str]:
    """`found`: the Locations `detect` chose (install without --browser), printed with
    how each was found; `looked_for`: what detection searched, printed when nothing was."""
    lines = []
    if found:
        lines.append("found: " + "; ".join(f"{loc.browser.label} ({loc.found_by})" for loc in found))
    if not report.changes:
        lines.append(f"{title}: no browser found" + (", after looking for:" if looked_for else ""))
        lines += [f"  - {what}" for what in looked_for]
        if title == "install":
            lines += ["Name the browser instead: codecatch install --browser NAME (chrome, chromium, edge, brave,",
                      "vivaldi, opera, firefox, librewolf, NAME-flatpak, chromium-snap, firefox-snap), or for a",
                      "browser started with --user-data-dir=DIR: codecatch install --browser chromium --user-data-dir DIR"]
        else:
            lines.append("(give --browser NAME or --user-data-dir DIR)")
    # One heading per browser, in the order each first appears: removing a recorded
    # profile, then the browsers, then the record's own folders would otherwise print
    # "(recorded):" twice.
    by_browser = {}
    for c in report.changes:
        by_browser.setdefault(c.browser, []).append(c)
    for browser, changes in by_browser.items():
        lines.append(f"{browser}:")
        lines += [_change_line(c) for c in changes]
    if any(c.action.startswith("would-") for c in report.changes):
        lines.append("dry run: nothing was changed")
    if report.todo:
        lines.append("Still to do:")
        lines += [f"  - {t}" for t in report.todo]
    return lines


def _change_line(c) -> str:
    what = "registry key" if c.what == "key" else c.what
    line = f"  {VERBS.get(c.action, c.action)} {what} {c.where}"
    if c.what == "key" and c.detail:
        line += f" = {c.detail}"
    elif c.detail:
        line += f"\n    {c.detail}"
    return line


MARKS = {"ok": "ok  ", "fail": "FAIL", "warn": "warn", "skip": "-   "}


def doctor_lines(diagnoses) -> list[str]:
    if not diagnoses:
        return ["No browser found: none of the known profile folders exists.",
                "  fix: start your browser once, or run `codecatch doctor --browser NAME` "
                "(or --user-data-dir DIR for a portable profile)"]
    lines = []
    for d in diagnoses:
        warned = any(c.status == "warn" for c in d.checks)
        verdict = "BROKEN" if not d.ok else "works, with a warning below" if warned else "all good"
        lines.append(f"{d.label} ({d.browser}): {verdict}")
        for c in d.checks:
            lines.append(f"  {MARKS.get(c.status, c.status)}  {c.name}: {c.message}")
            if c.fix and c.status in ("fail", "warn"):
                lines.append(f"        fix: {c.fix}")
    return lines
