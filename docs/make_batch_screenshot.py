#!/usr/bin/env python3
"""Make docs/screenshots/batch-live.png and batch-report.png: `codecatch login` over ten
tenants, drawn by its live view in a real terminal (tmux), captured mid-run and at the end.

    python3 docs/make_batch_screenshot.py          # needs tmux; run from the clone's .venv

The run is real but for the browser: the real `codecatch login` command on a terminal,
MSAL, a real `codecatch-host` with its event stream, one token cache per tenant, and the
mock identity provider of tests/idp.py (six tenants sign in silently, two need an
interactive sign-in, one lacks consent, one account is no member). The "browser" follows
each authorization URL and hands the host the frame the extension would send; an
interactive sign-in waits three seconds for its "user". `tmux capture-pane -e` takes the
terminal's cells with their colours; rich turns them into HTML and Chromium into a PNG.
Only 127.0.0.1 is contacted.
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SIGNIN = "login.microsoftonline.com"
WIDTH, HEIGHT = 118, 30
TENANTS = [("contoso.onmicrosoft.com", "silent"), ("fabrikam.onmicrosoft.com", "silent"),
           ("northwind.onmicrosoft.com", "mfa"), ("adatum.onmicrosoft.com", "silent"),
           ("alpineski.onmicrosoft.com", "consent"), ("litware.onmicrosoft.com", "silent"),
           ("margies.onmicrosoft.com", "non_member"), ("tailspin.onmicrosoft.com", "silent"),
           ("woodgrove.onmicrosoft.com", "login"), ("wingtip.onmicrosoft.com", "silent")]


def scene(workdir):
    """The batch itself, run inside tmux: its stdout is the terminal."""
    sys.path.insert(0, str(REPO / "tests"))
    import webbrowser

    from hostproc import HostProcess, wait_for_advert
    from idp import MockIdP, Tenant

    from codecatch import cli

    runtime = os.path.join(workdir, "run")
    os.mkdir(runtime, 0o700)
    os.makedirs(os.path.join(workdir, "config"))
    os.environ.update(CODECATCH_RUNTIME_DIR=runtime, CODECATCH_CONFIG_DIR=os.path.join(workdir, "config"),
                      CODECATCH_EVENTS="1")
    host = HostProcess(env=dict(os.environ))
    host.recv()
    wait_for_advert(runtime)
    idp = MockIdP(hostnames=("127.0.0.1", "localhost", SIGNIN), authorize_host=SIGNIN,
                  tenants=[Tenant(name, kind) for name, kind in TENANTS], delay_s=2.5).start()
    ca = idp.ca_file(workdir)
    session = idp.session(ca)
    lock = threading.Lock()

    def browser(url, *args, **kwargs):
        direct = url.replace(f"https://{SIGNIN}/", f"https://{idp.host}/", 1)

        def browse():
            if "prompt=none" not in url:
                time.sleep(3)  # the user confirms in the tab
            uri = session.get(direct, allow_redirects=False).headers["Location"]
            with lock:
                host.request({"id": 1, "type": "capture", "uri": uri, "source": {
                    "channel": "webrequest", "proof": "redirect", "tab_id": 7, "frame_id": 0, "flow": "signin",
                    "page_url": url}})

        threading.Thread(target=browse, daemon=True).start()
        return True

    webbrowser.open = browser
    Path(workdir, "tenants.txt").write_text("# customers\n" + "\n".join(n for n, _ in TENANTS) + "\n")
    os.chdir(workdir)
    try:
        cli.main(["login", "--client", "teams-powershell", "--tenant-file", "tenants.txt", "--cache-dir", "caches",
                  "--prompt", "none", "--login-hint", "admin@contoso.test", "--report", "report.csv",
                  "--authority-host", idp.host, "--ca-bundle", ca])
    finally:
        host.close()
        idp.stop()


def capture(session):
    return subprocess.run(["tmux", "capture-pane", "-p", "-e", "-t", session], capture_output=True,
                          text=True, check=True).stdout


def wait_for(session, *texts, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = capture(session)
        if all(text in screen for text in texts):
            return screen
        time.sleep(0.05)
    raise SystemExit(f"the terminal never showed {texts!r}; it shows:\n{capture(session)}")


def render(ansi, path, title):
    """The terminal's cells (ANSI) as a PNG, through rich's HTML export and Chromium."""
    from playwright.sync_api import sync_playwright
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=WIDTH, file=open(os.devnull, "w"), color_system="truecolor")
    console.print(Text.from_ansi(ansi.rstrip("\n")))
    html = console.export_html(inline_styles=True, code_format=(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + title + "</title></head>"
        "<body style='margin:0;background:{background}'><pre style='margin:0;padding:12px 16px;"
        "font-family:\"DejaVu Sans Mono\",monospace;font-size:13px;line-height:1.35;color:{foreground}'>"
        "<code>{code}</code></pre></body></html>"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CODECATCH_BROWSER", "/usr/bin/chromium"),
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1000, "height": 200})
        page.set_content(html)
        page.locator("pre").screenshot(path=str(path))
        browser.close()
    print(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scene:
        scene(args.scene)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"codecatch-shot-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="codecatch-shot-") as workdir:
        command = f"{shlex.quote(sys.executable)} {shlex.quote(__file__)} --scene {shlex.quote(workdir)}; sleep 30"
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
                        "env", "TERM=xterm-256color", "COLORTERM=truecolor", "bash", "-c", command], check=True)
        try:
            # Mid-run: some tenants done, one waiting for its user, others for the browser.
            live = wait_for(name, "waiting for you to confirm", "4/10")
            end = wait_for(name, "tenants have a token")
        finally:
            subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    render(live, OUT / "batch-live.png", "codecatch login: the live view")
    render(end, OUT / "batch-report.png", "codecatch login: the report")


if __name__ == "__main__":
    main()
