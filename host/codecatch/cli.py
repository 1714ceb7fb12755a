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

if __name__ == "__main__":
    main()
