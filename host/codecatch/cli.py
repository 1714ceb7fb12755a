"""The `codecatch` command line: thin click commands over the library."""

import json
import re
import sys

import click

from . import __version__, redirect
from .errors import RedirectError

EXIT_CODE, EXIT_ERROR_RESPONSE, EXIT_UNUSABLE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codecatch")
def main():
    """Catch the authorization code from Microsoft's sign-in and fill it into your panel."""


@main.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (includes the code).")
@click.option("--reveal", is_flag=True, help="Show the whole code instead of its first 6 characters.")
def parse(text, as_json, reveal):
    """Parse a redirect URI, a console line or page source (TEXT, or stdin if omitted).

    Exit status: 0 for a code, 1 for an error response from Microsoft, 2 for input
    that holds no usable response.
    """
    if text is None or text == "-":
        text = sys.stdin.read()
    try:
        response = redirect.parse(text)
    except RedirectError as exc:
        click.echo(f"codecatch: {exc.message}", err=True)
        sys.exit(EXIT_UNUSABLE)
    if as_json:
        click.echo(json.dumps(response, indent=2))
    else:
        click.echo(describe(response, reveal=reveal))
    sys.exit(EXIT_CODE if response["kind"] == "code" else EXIT_ERROR_RESPONSE)


def describe(response, reveal=False):
    """A short human summary of a response object."""
    app = response["app"] or response["client_id"]
    lines = []
    if response["kind"] == "code":
        code = response["code"] if reveal else response["code_redacted"]
        lines.append(f"code:     {code}")
        if response["state"] is not None:
            lines.append(f"state:    {response['state']}")
        lines.append(f"https:    {response['https_url'] if reveal else _redacted_url(response)}")
    else:
        lines.append(f"error:    {response['error']}" + (f" ({response['aadsts']})" if response["aadsts"] else ""))
        if response["error_subcode"]:
            lines.append(f"subcode:  {response['error_subcode']}")
        lines.append(f"hint:     {response['hint']}")
        if response["correlation_id"]:
            lines.append(f"correlation id: {response['correlation_id']}")
    if app:
        lines.append(f"app:      {app}")
    lines.append(f"redirect: {response['redirect_uri']}")
    return "\n".join(lines)


def _redacted_url(response):
    # The URL carries the code (raw, maybe percent-encoded): cut it to its prefix.
    return re.sub(r"([?&#]code=)([^&#]*)", lambda m: m.group(1) + m.group(2)[:6] + "\u2026", response["https_url"])


# --- install, uninstall, doctor (host/codecatch/install) -------------------------------

def _install_options(f):
    f = click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")(f)
    f = click.option("--force", is_flag=True, help="Replace or remove a manifest that was changed by hand.")(f)
    f = click.option("--system", is_flag=True, help="For all users (needs root or Administrator).")(f)
    f = click.option("--extension-id", "extension_ids", multiple=True, metavar="ID",
                     help="Extension id to allow (repeatable; default: codecatch's own).")(f)
    f = click.option("--user-data-dir", type=click.Path(file_okay=False), metavar="DIR",
                     help="One Chromium-family profile folder (a browser started with --user-data-dir).")(f)
    f = click.option("--browser", "browsers", multiple=True, metavar="NAME",
                     help="chrome, chromium, edge, brave, vivaldi, opera, firefox, librewolf, "
                          "NAME-flatpak, chromium-snap, firefox-snap (repeatable; default: every one found).")(f)
    return f


def _run_installer(remove, browsers, user_data_dir, extension_ids, system, force, dry_run):
    from pathlib import Path

    from .install import installer, text
    from .install.browsers import UnknownBrowser, current_layout

    layout = current_layout()
    try:
        targets = installer.plan(layout, browsers, extension_ids=extension_ids, system=system,
                                 user_data_dir=Path(user_data_dir) if user_data_dir else None)
        run = installer.remove if remove else installer.apply
        report = run(targets, layout, force=force, dry_run=dry_run)
    except (UnknownBrowser, installer.InstallError) as exc:
        raise click.UsageError(str(exc)) if isinstance(exc, UnknownBrowser) else click.ClickException(str(exc))
    except OSError as exc:
        raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}")
    if remove:
        report.todo = []
    click.echo("\n".join(text.report_lines(report, title="uninstall" if remove else "install")))
    if not report.ok:
        sys.exit(1)


@main.command()
@_install_options
def install(browsers, user_data_dir, extension_ids, system, force, dry_run):
    """Register the native host with your browsers (host manifests; registry keys on Windows)."""
    _run_installer(False, browsers, user_data_dir, extension_ids, system, force, dry_run)


@main.command()
@_install_options
def uninstall(browsers, user_data_dir, extension_ids, system, force, dry_run):
    """Remove exactly what `codecatch install` wrote."""
    _run_installer(True, browsers, user_data_dir, extension_ids, system, force, dry_run)


@main.command()
@click.option("--browser", "browsers", multiple=True, metavar="NAME", help="Check only this browser (repeatable).")
@click.option("--user-data-dir", type=click.Path(file_okay=False), metavar="DIR", help="Check one profile folder.")
@click.option("--extension-id", "extension_ids", multiple=True, metavar="ID", help="Extension id that must be allowed.")
@click.option("--system", is_flag=True, help="Check the system-wide registration.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the host.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor(browsers, user_data_dir, extension_ids, system, timeout, as_json):
    """Check every step from the browser's folder to a framed ping of the host, with fixes."""
    from pathlib import Path

    from .install import doctor as doc, text
    from .install.browsers import UnknownBrowser, current_layout

    try:
        found = doc.diagnose(current_layout(), browsers, extension_ids=extension_ids, system=system,
                             timeout=timeout, user_data_dir=Path(user_data_dir) if user_data_dir else None)
    except UnknownBrowser as exc:
        raise click.UsageError(str(exc))
    result = doc.summary(found)
    click.echo(json.dumps(result, indent=2) if as_json else "\n".join(text.doctor_lines(found)))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
