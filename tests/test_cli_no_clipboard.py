"""The command line never writes the clipboard (issue 15): it prints, and only what it is
asked to. So there is nothing of the CLI's to clear; the extension clears what it copied
(tests/e2e/test_clipboard.py). Read from the source: no clipboard library, no clipboard
program, in the package or in what it depends on for that."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "host" / "codecatch"
# Python clipboard libraries, and the programs that write a clipboard on each system.
WRITERS = re.compile(
    r"\b(pyperclip|klembord|clipboard_append|clipboard_clear|QClipboard|win32clipboard|SetClipboardData"
    r"|pbcopy|wl-copy|xsel|Set-Clipboard|clip\.exe|xclip(?! -o))\b")


def test_no_module_of_the_package_writes_the_clipboard():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITERS.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not found, "the CLI must not write the clipboard:\n" + "\n".join(found)


def test_the_scan_finds_a_writer():
    assert WRITERS.search("subprocess.run(['xclip', '-selection', 'clipboard'], input=url)")
    assert WRITERS.search("import pyperclip")
    assert not WRITERS.search("(xclip -o, wl-paste, Get-Clipboard), or run `codecatch parse`")
