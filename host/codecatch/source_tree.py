"""Where the extension's own files are: the codecatch clone (manifest.json, extension/)."""

from pathlib import Path


def repo_root():
    """The source checkout this package runs from (it holds manifest.json), or None."""
    # An editable install runs from the checkout; a regular one is found from the
    # folder the user runs it in (the clone they load the extension from).
    for start in (Path(__file__).resolve(), Path.cwd().resolve() / "manifest.json"):
        for parent in start.parents:
            if all((parent / p).exists() for p in ("manifest.json", "extension", "host/codecatch")):
                return parent
    return None
