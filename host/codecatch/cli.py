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
    that holds no usable response (with --json, stdout then holds
    {"ok": false, "kind": null, "error": {"code", "name", "message"}}).
    """
    from_argv = text not in (None, "-")
    if text is None or text == "-":
        if text is None and sys.stdin.isatty():
            click.echo("Paste the console line, address or page source, then press Ctrl-D "
                       "(Ctrl-Z and Enter on Windows):", err=True)
        text = sys.stdin.read()
    try:
        response = redirect.parse(text)
    except RedirectError as exc:
        if as_json:  # scripts get one JSON object whatever happened
            click.echo(json.dumps({"ok": False, "kind": None,
                                   "error": {"code": exc.code, "name": exc.name, "message": exc.message}}, indent=2))
        click.echo(f"codecatch: {exc.message}", err=True)
        sys.exit(EXIT_UNUSABLE)
    if as_json:
        click.echo(json.dumps(response, indent=2))
    else:
        click.echo(describe(response, reveal=reveal))
    if from_argv and response["kind"] == "code" and _on_terminal():
        click.echo("codecatch: warning: the code was on the command line, where other users' `ps` "
                   "and your shell's history see it. Pipe it in instead: pbpaste | codecatch parse "
                   "(xclip -o, wl-paste, Get-Clipboard), or run `codecatch parse` and paste.", err=True)
    sys.exit(EXIT_CODE if response["kind"] == "code" else EXIT_ERROR_RESPONSE)


def _on_terminal():
    return sys.stderr.isatty()


def describe(response, reveal=False):
    """A short human summary of a response object."""
    app = response["app"] or response["client_id"]
    lines = []
    if response["kind"] == "code":
        code = response["code"] if reveal else response["code_redacted"]
        lines.append(f"code:     {code}")
        if response["state"] is not None:
            lines.append(f"state:    {response['state']}")
        if reveal:
            lines.append(f"https:    {response['https_url']}")
        else:
            lines.append(f"https:    {_redacted_url(response)}")
            lines.append("          (the address to paste into the panel: run again with --reveal)")
    else:
        number = response["aadsts"] or response["msis"]
        if response["error"]:
            lines.append(f"error:    {response['error']}" + (f" ({number})" if number else ""))
        else:
            lines.append(f"error:    {number or 'unknown'} (from the text of the error page)")
        if response["error_subcode"]:
            lines.append(f"subcode:  {response['error_subcode']}")
        lines.append(f"hint:     {response['hint']}")
        said = (response["error_description"] or "").strip().splitlines()
        if said:
            lines.append(f"said:     {redirect.cut_at_word(said[0].strip(), 300)}")
        # What Microsoft support asks for when an admin reports a sign-in failure.
        for label, name in (("trace id", "trace_id"), ("correlation id", "correlation_id"), ("time", "timestamp")):
            if response[name]:
                lines.append(f"{label + ':':<15} {response[name]}")
    if app:
        lines.append(f"app:      {app}")
    if response["redirect_uri"]:
        lines.append(f"redirect: {response['redirect_uri']}")
    return "\n".join(lines)


def _redacted_url(response):
    # The URL carries the code (raw, maybe percent-encoded): cut it to its prefix.
    return re.sub(r"([?&#]code=)([^&#]*)", lambda m: m.group(1) + m.group(2)[:6] + "\u2026", response["https_url"])


# --- install, uninstall, doctor (host/codecatch/install) -------------------------------

def _install_options(remove):
    if remove:
        force = "Remove a file or key that was changed since install wrote it."
        ids = ("Without installed.json, uninstall removes only a manifest identical to what install "
               "writes: give the extra ids install was given (repeatable).")
        default = "every one found, and everything install recorded"
    else:
        force = ("Replace a manifest that was changed by hand; write one for the Chromium snap "
                 "(skipped otherwise: native messaging cannot work there).")
        ids = "Another extension id to allow besides codecatch's own (repeatable)."
        default = "every one found"

    def decorate(f):
        f = click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")(f)
        f = click.option("--force", is_flag=True, help=force)(f)
        f = click.option("--system", is_flag=True, help=(
            "For all users (needs root or Administrator; refused unless only they can change "
            "codecatch's programs)." if not remove else "For all users (needs root or Administrator)."))(f)
        f = click.option("--extension-id", "extension_ids", multiple=True, metavar="ID", help=ids)(f)
        f = click.option("--user-data-dir", type=click.Path(file_okay=False), metavar="DIR",
                         help="One Chromium-family profile folder (a browser started with --user-data-dir).")(f)
        f = click.option("--browser", "browsers", multiple=True, metavar="NAME",
                         help="chrome, chromium, edge, brave, vivaldi, opera, firefox, librewolf, "
                              f"NAME-flatpak, chromium-snap, firefox-snap (repeatable; default: {default}).")(f)
        return f
    return decorate


def _run_installer(remove, browsers, user_data_dir, extension_ids, system, force, dry_run,
                   allow_flatpak_escape=False):
    from pathlib import Path

    from .install import installer, text
    from .install.browsers import UnknownBrowser, current_layout

    layout = current_layout()
    try:
        def planned(allow):
            return installer.plan(layout, browsers, extension_ids=extension_ids, system=system,
                                  user_data_dir=Path(user_data_dir) if user_data_dir else None,
                                  for_removal=remove, allow_flatpak_escape=allow)

        targets = planned(allow_flatpak_escape)
        if not remove and _ask_flatpak_escape(targets):
            targets = planned(True)
        if remove:
            # Without a selection, everything install recorded, found now or not.
            report = installer.remove(targets, layout, force=force, dry_run=dry_run, system=system,
                                      leftovers=not browsers and not user_data_dir)
        else:
            report = installer.apply(targets, layout, force=force, dry_run=dry_run)
    except (UnknownBrowser, installer.InstallError) as exc:
        raise (click.UsageError(str(exc)) if isinstance(exc, UnknownBrowser) else click.ClickException(str(exc))) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}") from None
    if remove:
        report.todo = []
    detected = not remove and not browsers and not user_data_dir
    from .install.browsers import looked_for

    click.echo("\n".join(text.report_lines(
        report, title="uninstall" if remove else "install",
        found=[t.location for t in targets] if detected else None,
        looked_for=looked_for(layout) if detected else ())))
    if not report.ok or (not remove and not report.changes):
        sys.exit(1)  # refused, or (install) registered nothing: a script must not carry on


def _can_ask():
    return sys.stdin.isatty() and sys.stderr.isatty()


def _ask_flatpak_escape(targets):
    """On a terminal, ask before skipping a Flatpak browser (the answer defaults to No)."""
    held = [t for t in targets if t.browser.flatpak_id and t.skip]
    if not held or not _can_ask():
        return False
    labels = ", ".join(t.browser.label for t in held)
    from .install.installer import FLATPAK_RISK

    return click.confirm(
        f"{labels}: reaching codecatch's host from a Flatpak browser takes a permission "
        f"(talk to org.freedesktop.Flatpak) that lets {FLATPAK_RISK}. Set it up anyway?",
        default=False, err=True)


@main.command()
@_install_options(remove=False)
@click.option("--allow-flatpak-escape", is_flag=True,
              help="Set up Flatpak browsers too, through flatpak-spawn --host: that needs a permission "
                   "letting the browser run any command outside its sandbox (asked on a terminal).")
@click.option("--print-manifest", is_flag=True,
              help="Print the host manifest install would write for one --browser (JSON) and "
                   "write or register nothing: for packagers who place it themselves.")
@click.option("--host-path", metavar="PATH",
              help="With --print-manifest: the host program's absolute path to name in the manifest "
                   "(default: the one install would name).")
def install(browsers, user_data_dir, extension_ids, system, force, dry_run, allow_flatpak_escape,
            print_manifest, host_path):
    """Register the native host with your browsers (host manifests; registry keys on Windows).

    Exit status 1 when something was refused or no browser was found (nothing registered).

    --print-manifest needs exactly one --browser: every Chromium-family browser gets the
    same manifest (allowed_origins), every Firefox-family one another
    (allowed_extensions). Exit status 0, or 2 for a missing or unknown browser.
    """
    if print_manifest:
        others = {"--user-data-dir": user_data_dir, "--system": system, "--force": force, "--dry-run": dry_run}
        _print_manifest(browsers, extension_ids, host_path, [name for name, v in others.items() if v])
        return
    if host_path is not None:
        raise click.UsageError("--host-path goes with --print-manifest")
    _run_installer(False, browsers, user_data_dir, extension_ids, system, force, dry_run,
                   allow_flatpak_escape)


def _print_manifest(browsers, extension_ids, host_path, others):
    from .install import installer
    from .install.browsers import BROWSERS, UnknownBrowser, current_layout

    if others:
        raise click.UsageError(f"--print-manifest writes nothing and takes no {', '.join(others)}")
    if len(browsers) != 1:
        raise click.UsageError("--print-manifest needs one --browser NAME (chrome for any Chromium-family "
                               f"browser, firefox for Firefox and LibreWolf); known: {', '.join(BROWSERS)}")
    try:
        data = installer.manifest_for(current_layout(), browsers[0], extension_ids=extension_ids,
                                      host_path=host_path)
    except UnknownBrowser as exc:
        raise click.UsageError(str(exc)) from None
    except installer.InstallError as exc:
        hint = "" if host_path else " (or name the host program with --host-path PATH)"
        raise click.ClickException(f"{exc}{hint}") from None
    click.echo(data, nl=False)   # the exact bytes install writes (UTF-8, final newline)


@main.command()
@_install_options(remove=True)
def uninstall(browsers, user_data_dir, extension_ids, system, force, dry_run):
    """Remove exactly what `codecatch install` wrote, and the folders it created once empty.

    Exit status 1 when a file or key was changed since and is left in place (--force
    removes it).
    """
    _run_installer(True, browsers, user_data_dir, extension_ids, system, force, dry_run)


@main.command()
@click.option("--browser", "browsers", multiple=True, metavar="NAME", help="Check only this browser (repeatable).")
@click.option("--user-data-dir", type=click.Path(file_okay=False), metavar="DIR", help="Check one profile folder.")
@click.option("--extension-id", "extension_ids", multiple=True, metavar="ID", help="Extension id that must be allowed.")
@click.option("--system", is_flag=True, help="Check the system-wide registration.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the host.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor(browsers, user_data_dir, extension_ids, system, timeout, as_json):
    """Check every step from the browser's folder to a framed ping of the host, with fixes.

    Without --browser or --user-data-dir: every browser found, and every manifest that
    `codecatch install` recorded (a browser not started yet, a --user-data-dir profile).
    """
    from pathlib import Path

    from .install import doctor as doc, manifests, text
    from .install.browsers import UnknownBrowser, current_layout

    bad = manifests.invalid_ids(extension_ids)
    if bad:
        raise click.BadParameter(f"not an extension id: {', '.join(bad)}", param_hint="--extension-id")
    try:
        found = doc.diagnose(current_layout(), browsers, extension_ids=extension_ids, system=system,
                             timeout=timeout, user_data_dir=Path(user_data_dir) if user_data_dir else None)
    except UnknownBrowser as exc:
        raise click.UsageError(str(exc)) from None
    result = doc.summary(found)
    click.echo(json.dumps(result, indent=2) if as_json else "\n".join(text.doctor_lines(found)))
    sys.exit(0 if result["ok"] else 1)


@main.command("config-path")
def config_path():
    """Print where the host keeps its configuration (panel rules, preferences)."""
    from . import config

    click.echo(config.config_path())


@main.group()
def panel():
    """The panels codecatch fills (the same rules as the options page).

    Running browser hosts pick changes up at their next capture. The browser must
    still be allowed to fill each origin: grant it from the toolbar button.
    """


def _save_config(change):
    from . import config
    from .errors import CodecatchError

    current, problem = config.load()
    if problem:
        raise click.ClickException(f"{problem}. Nothing was changed: fix the file or delete it first.")
    try:
        return config.save(change(current))
    except CodecatchError as exc:
        raise click.ClickException(exc.message) from None


@panel.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
def panel_list(as_json):
    """List the panel rules (exit status 1 when the configuration file is unusable)."""
    from . import config

    loaded, problem = config.load()
    if problem:
        raise click.ClickException(problem)
    rules = loaded["panels"]
    if as_json:
        click.echo(json.dumps(rules, indent=2))
        return
    if not rules:
        click.echo("no panel rules: codecatch fills the tab that opened the sign-in, finding the field itself")
    for rule in rules:
        click.echo(_rule_text(rule))


@panel.command("add")
@click.argument("origin")
@click.option("--selector", help="CSS selector of the field (default: found the way a person would).")
@click.option("--value", "value_kind", type=click.Choice(["url", "code"]), default="url", show_default=True,
              help="Fill the whole https URL or the bare code.")
@click.option("--save", "save", metavar="SELECTOR",
              help="CSS selector of the panel's save button, pressed after a fill of a proven capture "
                   "(default: none; you press it).")
def panel_add(origin, selector, value_kind, save):
    """Add the rule for ORIGIN (https://panel.example.com), or replace the one it has
    (in place; the old rule is printed)."""
    from . import config
    from .errors import CodecatchError

    try:
        wanted = config.normalize_origin(origin)
    except CodecatchError as exc:
        raise click.BadParameter(exc.message, param_hint="ORIGIN") from None
    _check_selector(selector, "--selector", "leave --selector out to let codecatch find the field")
    _check_selector(save, "--save", "leave --save out to press the save button yourself")
    if wanted.startswith("http://"):
        click.echo(f"codecatch: warning: {wanted} is plain http: the code (a credential) would cross the "
                   "network unencrypted; use the panel's https address if it has one.", err=True)
    rule = {"origin": wanted, "selector": selector.strip() if selector else None, "value": value_kind,
            "save": save.strip() if save else None}
    # An existing rule for the origin is replaced where it stands, and the output says
    # what it was: a script that runs `panel add` twice must not fail (no --replace
    # needed), the options page edits a rule in place too, and nothing changes unsaid.
    before = {}

    def change(c):
        before.update(next((p for p in c["panels"] if p["origin"] == wanted), {}))
        if before:
            return dict(c, panels=[rule if p["origin"] == wanted else p for p in c["panels"]])
        return dict(c, panels=c["panels"] + [rule])

    _save_config(change)
    if not before:
        click.echo(f"added: {_rule_text(rule)}")
    elif before == rule:
        click.echo(f"unchanged: {_rule_text(rule)}")
    else:
        click.echo(f"replaced: {_rule_text(rule)}\n  (was: {_rule_text(before)})")


def _check_selector(selector, option, instead):
    from . import config

    if selector is not None and not selector.strip():
        raise click.BadParameter(f"it is empty: {instead}.", param_hint=option)
    problem = config.selector_problem(selector) if selector else None
    if problem:
        raise click.BadParameter(f"'{selector}' is not a CSS selector: it has {problem}.", param_hint=option)


def _rule_text(rule):
    return (f"{rule['origin']}  value={rule['value']}  selector={rule['selector'] or '(found automatically)'}"
            f"  save={rule.get('save') or '(off)'}")


@panel.command("remove")
@click.argument("origin")
def panel_remove(origin):
    """Remove the rule for ORIGIN."""
    from . import config
    from .errors import CodecatchError

    try:
        wanted = config.normalize_origin(origin)
    except CodecatchError:
        wanted = origin  # not an origin: then there is no rule for it either

    def change(c):
        if not any(p["origin"] == wanted for p in c["panels"]):
            hint = f" (did you mean https://{origin}?)" if "://" not in origin else ""
            raise click.ClickException(f"no rule for {origin}{hint}; `codecatch panel list` shows the rules")
        return dict(c, panels=[p for p in c["panels"] if p["origin"] != wanted])

    _save_config(change)
    click.echo(f"removed: {wanted}")


# --- login, token (host/codecatch/login.py; msal is imported only inside) --------------

# Exit statuses of login/token: 1 and 2 as for `parse`; 3 no sign-in in time; 4 nothing
# to ask; 5 the authority cannot be reached or stalled (a request that timed out).
_LOGIN_EXIT = {"error_response": 1, "token_error": 1, "timeout": 3, "no_host": 4, "no_account": 4,
               "network": 5}


def _login_options(f, cache_required=False, many_tenants=False):
    f = click.option("--ca-bundle", type=click.Path(dir_okay=False), envvar="CODECATCH_CA_BUNDLE", metavar="FILE",
                     help="CA certificates to trust for the authority (a private CA or a TLS-inspecting proxy).")(f)
    f = click.option("--account", metavar="USER", help="Which cached account to use (user name).")(f)
    f = click.option("--cache", type=click.Path(dir_okay=False), metavar="FILE", required=cache_required,
                     help=("The MSAL token cache file that `codecatch login --cache` wrote." if cache_required else
                           "MSAL token cache file (created with mode 0600); later runs refresh from it."))(f)
    f = click.option("--format", "fmt", type=click.Choice(["token", "json"]), default="token", show_default=True,
                     help="Print the access token, or MSAL's whole result as JSON.")(f)
    f = click.option("--authority-host", metavar="HOST",
                     help="public, usgov, china, or a sign-in host[:port] such as login.microsoftonline.us.")(f)
    f = click.option("--scope", "scopes", multiple=True, metavar="S",
                     help="Scope to request (repeatable; default: Microsoft Graph's .default in that cloud).")(f)
    if many_tenants:
        f = click.option("--tenant", "tenants", metavar="T", multiple=True,
                         help="Tenant domain or id (default: organizations); repeat it to sign in to several.")(f)
    else:
        f = click.option("--tenant", metavar="T", help="Tenant domain or id (default: organizations).")(f)
    f = click.option("--redirect-uri", metavar="URI", help="A custom-scheme redirect URI registered for the client.")(f)
    f = click.option("--client-id", metavar="ID", help="The public client's application id.")(f)
    f = click.option("--client", metavar="NAME",
                     help="A well-known client: teams-powershell, exchange-online-powershell, "
                          "azure-powershell, azure-cli, azure-ad-powershell.")(f)
    return f


def _login_settings(client, client_id, redirect_uri, tenant, scopes, authority_host, ca_bundle):
    from . import login as lg

    return lg.settings(client=client, client_id=client_id, redirect_uri=redirect_uri, tenant=tenant,
                       scopes=scopes, authority_host=authority_host, ca_bundle=ca_bundle)


def _print_token(result, fmt):
    from . import login as lg

    click.echo(lg.describe(result), err=True)
    click.echo(lg.as_json(result) if fmt == "json" else result["access_token"])


_UNTRUSTED = ("a program on an advertised port could not prove it knows the host's token, so it was "
              "told nothing and is ignored (a host was stopped and another program took its port)")


def _login_stream_status(kind):
    if kind == "no_hosts":
        click.echo("codecatch: no browser host is running yet; waiting for one (the browser with the "
                   "codecatch extension starts it)\u2026", err=True)
    elif kind == "lost":
        click.echo("codecatch: a browser host went away; still waiting\u2026", err=True)
    elif kind == "untrusted":
        click.echo(f"codecatch: warning: {_UNTRUSTED}", err=True)


def _login_failed(exc):
    click.echo(f"codecatch: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(_LOGIN_EXIT.get(exc.reason, EXIT_UNUSABLE))


@main.command()
@lambda f: _login_options(f, many_tenants=True)
@click.option("--print-url", is_flag=True, help="Print the sign-in URL (on stderr) instead of opening the browser.")
@click.option("--paste", is_flag=True, help="Read the address the sign-in ended on from stdin (no extension needed).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              metavar="S", help="Seconds for the whole login (per tenant): the sign-in, and every request to "
                                "the authority (each also at most 15 s).")
@click.option("--fresh", is_flag=True, help="Sign in even if the cache holds a usable token.")
@click.option("--prompt", type=click.Choice(["none", "login", "select_account", "consent"]),
              help="Microsoft's prompt. `none` tries a sign-in without any interaction first (the browser's "
                   "session); when Microsoft answers that it needs the user, an interactive sign-in follows.")
@click.option("--login-hint", metavar="USER", help="The account to sign in with (passed to Microsoft; also "
                                                   "picks that account in the cache).")
@click.option("--domain-hint", metavar="DOMAIN", help="Passed to Microsoft: the home realm of the account.")
@click.option("--tenant-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Tenants to sign in to, one per line (# starts a comment); with --tenant, both.")
@click.option("--cache-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Several tenants: one MSAL cache file per tenant in DIR (each 0600); a rerun skips the "
                   "tenants whose cache still yields a token.")
@click.option("--parallel", type=click.IntRange(1, 16), default=3, show_default=True, metavar="K",
              help="Several tenants: at most K sign-ins open in the browser at once.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Several tenants: write the report to FILE, JSON or CSV by its suffix (.json, .csv).")
@click.pass_context
def login(ctx, client, client_id, redirect_uri, tenants, scopes, authority_host, fmt, cache, account, ca_bundle,
          print_url, paste, timeout, fresh, prompt, login_hint, domain_hint, tenant_file, cache_dir, parallel,
          report_path):
    """Sign in with PKCE in your own browser; the extension catches the code, MSAL redeems it.

    One tenant: the access token goes to stdout; everything else to stderr. Exit
    status: 0 token printed, 1 Microsoft returned an error, 2 unusable input or
    options, 3 no sign-in within --timeout, 4 no codecatch browser host ran, 5 the
    authority (or a proxy on the way) cannot be reached or did not answer in time,
    130 interrupted.

    Several tenants (--tenant repeated, --tenant-file, or --cache-dir, which --tenant-file
    and a repeated --tenant need): no
    token is printed; a live view, then a report table, go to stdout (--report FILE
    also writes it). Exit status: 0 every tenant has a token, 1 any failed, 2 unusable
    input or options, 130 interrupted (the report so far is written). See docs/login.md.
    """
    from . import login as lg

    if len(tenants) > 1 or tenant_file or cache_dir:
        _login_many(ctx, dict(client=client, client_id=client_id, redirect_uri=redirect_uri, scopes=scopes,
                              authority_host=authority_host, ca_bundle=ca_bundle),
                    tenants, tenant_file, cache_dir, parallel, report_path, timeout=timeout,
                    reuse_cache=not fresh, username=account, prompt=prompt, login_hint=login_hint,
                    domain_hint=domain_hint)
        return
    for name in ("parallel", "report_path"):
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            _usage(f"--{name.split('_')[0]} is for several tenants (--tenant repeated, --tenant-file or --cache-dir).")

    def open_url(url):
        if print_url:
            click.echo(f"Open this URL in the browser with codecatch:\n{url}", err=True)
            return
        import webbrowser

        click.echo("Opening the sign-in in your browser\u2026", err=True)
        if not webbrowser.open(url):
            click.echo(f"Could not open a browser; open this URL:\n{url}", err=True)

    try:
        cfg = _login_settings(client, client_id, redirect_uri, tenants[0] if tenants else None, scopes,
                              authority_host, ca_bundle)
        if paste:
            receive = lg.paste_receiver(sys.stdin.readline, lambda text: click.echo(text, err=True))
        else:
            receive = lg.stream_receiver(on_status=_login_stream_status)
        result = lg.login(cfg, receive, open_url, timeout=timeout, cache_path=cache,
                          reuse_cache=not fresh, username=account, prompt=prompt, login_hint=login_hint,
                          domain_hint=domain_hint)
    except lg.LoginError as exc:
        _login_failed(exc)
    except KeyboardInterrupt:
        sys.exit(130)
    _print_token(result, fmt)


def _usage(message):
    click.echo(f"codecatch: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


def _login_many(ctx, settings_args, tenants, tenant_file, cache_dir, parallel, report_path, **login_args):
    """`login` over several tenants (host/codecatch/batch.py): one cache file each, at most
    `parallel` sign-ins at once, a live view, a report; exit 0 all, 1 any failed."""
    import time

    from . import batch, display, login as lg

    for name, flag in (("cache", "--cache FILE (use --cache-dir DIR)"), ("print_url", "--print-url"),
                       ("paste", "--paste"), ("fmt", "--format")):
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            _usage(f"{flag} is for one tenant; several tenants sign in through the browser and keep their "
                   "tokens in --cache-dir, one file each.")
    try:
        tenants = batch.read_tenants(tenants, tenant_file)
        if not cache_dir:
            raise batch.BatchError("Several tenants need --cache-dir DIR: one token cache per tenant, "
                                   "so a rerun skips the tenants that still have a token.")
        if report_path:
            batch.report_format(report_path)
        batch.prepare_cache_dir(cache_dir)
        for tenant in tenants:  # every tenant's settings, before any browser opens
            lg.settings(tenant=tenant, **settings_args)
    except (batch.BatchError, lg.LoginError) as exc:
        _usage(exc.message if isinstance(exc, lg.LoginError) else str(exc))

    import threading

    from . import stream_client

    in_flight = stream_client.InFlight()  # the sign-ins waiting in the browser: Ctrl-C abandons them
    said = set()  # the stream's news, each kind once for the whole batch (from the workers' threads)
    no_host = threading.Event()  # a sign-in waited its whole --timeout and no browser host ever ran

    def on_status(kind):
        if kind in ("untrusted", "lost") and kind not in said:
            said.add(kind)
            _login_stream_status(kind)

    receive = lg.stream_receiver(on_status=on_status, in_flight=in_flight)
    opening = threading.Lock()

    def open_url(url):
        import webbrowser

        # One at a time: webbrowser finds the browsers on first use and, while it does,
        # shows a second thread an empty list (CPython 3.11's register_standard_browsers
        # sets _tryorder to [] before filling it): that thread's open() returns False.
        with opening:
            opened = webbrowser.open(url)
        if not opened:
            click.echo(f"codecatch: could not open a browser; open this URL:\n{url}", err=True)

    def job(tenant, phase):
        started = time.monotonic()
        if no_host.is_set():
            # The tenants after it would wait as long for nothing: they fail at once.
            return batch.failed(tenant, lg.LoginError(
                "no_host", "Not tried: no browser host of codecatch ran during an earlier tenant's wait.",
                hint="Open the browser with the codecatch extension (`codecatch doctor` checks the set-up), "
                     "then rerun: tenants with a token are skipped."), 0.0)
        seen = []

        def on_phase(name):
            seen.append(name)
            phase(name)

        try:
            result = lg.login(lg.settings(tenant=tenant, **settings_args), receive, open_url,
                              cache_path=batch.cache_path(cache_dir, tenant), on_phase=on_phase, **login_args)
        except lg.LoginError as exc:
            if exc.reason == "no_host":
                no_host.set()
            how = ("interactive" if "interactive" in seen or login_args["prompt"] != "none" else "none") \
                if ("browser" in seen or "interactive" in seen) else None
            return batch.failed(tenant, exc, time.monotonic() - started, sign_in=how)
        return batch.succeeded(tenant, result, time.monotonic() - started)

    with display.for_stream(sys.stdout, len(tenants)) as view:
        results = batch.run(tenants, job, parallel=parallel, on_event=view.event)
    if report_path:
        batch.write_report(results, report_path)  # first: a resume needs it, whatever comes next
    if results.interrupted:
        # Ctrl-C: the sign-in tabs still waiting for the user are closed (each flow is
        # abandoned on the hosts that hold its claim), within ABANDON_TIMEOUT_S; a second
        # Ctrl-C skips it.
        try:
            asked, told = in_flight.abandon_all()
        except KeyboardInterrupt:
            asked, told = len(in_flight), 0
        display.print_abandoned(sys.stdout, asked, told)
    display.print_table(sys.stdout, results)
    if report_path:
        click.echo(f"report: {report_path}", err=True)
    sys.exit(130 if results.interrupted else batch.exit_status(results))


@main.command()
@lambda f: _login_options(f, cache_required=True)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=15.0, show_default=True,
              metavar="S", help="Give up after S seconds (exit 5) when the authority does not answer.")
def token(client, client_id, redirect_uri, tenant, scopes, authority_host, fmt, cache, account, ca_bundle, timeout):
    """Print a token from the --cache FILE (required), refreshing it silently; never opens a browser.

    The access token goes to stdout. Exit status: 0 token printed, 1 Microsoft refused
    the refresh, 2 unusable options (--cache missing, an unknown client), 4 no usable
    token for that client and account in the cache (run `codecatch login --cache FILE`
    first), 5 the authority (or a proxy on the way) cannot be reached or did not answer
    within --timeout, 130 interrupted (docs/login.md).
    """
    from . import login as lg

    try:
        cfg = _login_settings(client, client_id, redirect_uri, tenant, scopes, authority_host, ca_bundle)
        result = lg.token(cfg, cache, username=account, timeout=timeout)
    except lg.LoginError as exc:
        _login_failed(exc)
    except KeyboardInterrupt:
        sys.exit(130)
    _print_token(result, fmt)


# --- watch, wait: the local event stream (host/codecatch/stream_client.py) ------------

EXIT_TIMEOUT, EXIT_NO_STREAM = 3, 4


def _stream_status(kind, advert):
    if kind == "no_hosts":
        click.echo("codecatch: waiting for a browser host to start (open the browser with the "
                   "codecatch extension)\u2026", err=True)
    elif kind == "connected":
        click.echo(f"codecatch: listening to the browser host with pid {advert.pid}", err=True)
    elif kind == "lost":
        click.echo(f"codecatch: the browser host with pid {advert.pid} went away", err=True)
    elif kind == "untrusted":
        click.echo(f"codecatch: warning: on 127.0.0.1:{advert.port} (host {advert.pid}), {_UNTRUSTED}", err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (the code redacted unless --reveal).")
@click.option("--reveal", is_flag=True, help="Show whole codes instead of their first 6 characters.")
def watch(as_json, reveal):
    """Print every capture and report from running browser hosts as it happens, until Ctrl-C."""
    from . import stream_client as sc

    def show(event):
        if as_json:
            click.echo(json.dumps(event if reveal else sc.redact_event(event), ensure_ascii=False))
        else:
            click.echo(sc.describe_event(event, reveal=reveal))

    try:
        sc.watch(show, on_status=_stream_status)
    except KeyboardInterrupt:
        sys.exit(0)
    except sc.StreamError as exc:
        click.echo(f"codecatch: {exc}", err=True)
        sys.exit(EXIT_NO_STREAM)


@main.command()
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="S",
              help="Give up after S seconds (exit 3; 4 when no browser host ran). Default: wait forever.")
@click.option("--format", "fmt", type=click.Choice(["url", "code", "json"]), default="url", show_default=True,
              help="url: the https URL to paste; code: the bare code; json: the whole capture.")
@click.option("--state", default=None, help="Wait for the capture with this OAuth state only.")
@click.option("--claim", is_flag=True, help="Claim that capture (needs --state): the extension will not fill it into a panel.")
def wait(timeout, fmt, state, claim):
    """Wait for the next capture from a browser host and print it, e.g. URL=$(codecatch wait).

    Exit status: 0 for a code, 1 for an error response from Microsoft (hint on stderr),
    2 for a usage error, 3 on timeout while listening to a browser host, 4 when no
    browser host ran within --timeout or the event stream cannot be used.
    """
    from . import stream_client as sc

    if claim and not state:
        raise click.UsageError("--claim needs --state (the capture to claim).")
    hosts_seen = set()

    def on_status(kind, advert):
        if kind == "connected":
            hosts_seen.add(advert.pid)
        _stream_status(kind, advert)

    try:
        capture = sc.wait_for_capture(timeout=timeout, state=state, claim=claim, on_status=on_status)
    except KeyboardInterrupt:
        sys.exit(130)
    except sc.StreamError as exc:
        click.echo(f"codecatch: {exc}", err=True)
        sys.exit(EXIT_NO_STREAM)
    if capture is None and not hosts_seen:
        click.echo(f"codecatch: no browser host ran within {timeout:g} s, so nothing could be captured: open "
                   "the browser with the codecatch extension (`codecatch doctor` checks the set-up).", err=True)
        sys.exit(EXIT_NO_STREAM)
    if capture is None:
        click.echo(f"codecatch: no capture within {timeout:g} s (listened to {len(hosts_seen)} browser "
                   f"host{'s' if len(hosts_seen) != 1 else ''}).", err=True)
        sys.exit(EXIT_TIMEOUT)
    response = capture["response"]
    if fmt == "json":
        click.echo(json.dumps(capture, ensure_ascii=False, indent=2))
    elif response["kind"] == "code":
        click.echo(capture["https_url"] if fmt == "url" else response["code"])
    if response["kind"] != "code":
        aadsts = f" ({response['aadsts']})" if response.get("aadsts") else ""
        click.echo(f"codecatch: Microsoft returned an error: {response['error']}{aadsts}", err=True)
        if response.get("hint"):
            click.echo(f"hint: {response['hint']}", err=True)
        sys.exit(EXIT_ERROR_RESPONSE)
    sys.exit(EXIT_CODE)


@main.command()
@click.option("--style", "styles", multiple=True, type=click.Choice(["302", "cmsi"]),
              help="How the mock sign-in ends (repeatable; default: both).")
@click.option("--browser", metavar="PATH", help="A Chromium, Chrome or Edge executable to use.")
@click.option("--headed", is_flag=True, help="Show the browser window.")
def demo(styles, browser, headed):
    """The whole flow in a headless browser against built-in mock sign-in and panel pages."""
    from . import demo as demo_module

    try:
        demo_module.run(click.echo, styles=styles or ("302", "cmsi"), browser=browser,
                        headless=not headed)
    except demo_module.DemoError as exc:
        click.echo(f"codecatch demo: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("codecatch demo: interrupted; the throwaway profile was removed", err=True)
        sys.exit(130)


@main.command()
@click.option("--target", "targets", multiple=True, type=click.Choice(["chromium", "chromium-store", "firefox"]),
              help="Which zip to build (repeatable; default: all three).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="dist", show_default=True,
              help="Folder for the zip files.")
@click.option("--source", type=click.Path(file_okay=False, exists=True), default=None,
              help="The source tree holding manifest.json (default: the checkout codecatch runs from, else .).")
def pack(targets, out_dir, source):
    """Build the extension's zip files: to load unpacked, for the stores, for Firefox."""
    from . import pack as pack_module
    from .source_tree import repo_root

    try:
        written = pack_module.pack(source or repo_root() or ".", out_dir, targets or pack_module.TARGETS)
    except pack_module.PackError as exc:
        click.echo(f"codecatch pack: {exc}", err=True)
        sys.exit(2)
    for target, path in written.items():
        click.echo(f"{target}: {path}")


if __name__ == "__main__":
    main()
