"""`codecatch parse` as a user and a script call it."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from codecatch.cli import main
from codes import entra_code

TEAMS = "12128f48-ec9e-42f0-b203-ea49fb6af367"
CODE = entra_code("abc-_x")
LINE = (f"Failed to launch 'ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={CODE}&state=s1"
        "&session_state=ss' because the scheme does not have a registered handler.")
FIELDS = {"ok", "kind", "original_uri", "https_url", "scheme", "redirect_uri", "code", "state", "session_state",
          "error", "error_description", "aadsts", "hint"}


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_json_for_a_code():
    result = run("parse", LINE, "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert FIELDS <= set(data)
    assert data["https_url"] == f"https://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={CODE}&state=s1&session_state=ss"
    assert (data["code"], data["state"], data["kind"], data["ok"]) == (CODE, "s1", "code", True)


def test_human_output_redacts_the_code_unless_revealed():
    code = entra_code("verysecretpart")
    uri = f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={code}&state=s1"
    shown = run("parse", uri)
    assert shown.exit_code == 0
    assert "verysecretpart" not in shown.output and "0.AXkA" in shown.output and f"{len(code)} chars" in shown.output
    assert "Teams PowerShell" in shown.output
    assert "--reveal" in shown.output  # how to get the address to paste
    revealed = run("parse", uri, "--reveal")
    assert code in revealed.output and f"https://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={code}" in revealed.output


def test_error_response_exits_1_with_number_and_hint():
    uri = (f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}?error=access_denied"
           "&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+the+app.&state=s")
    result = run("parse", uri, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["aadsts"] == "AADSTS65004" and data["hint"] and data["kind"] == "error"
    human = run("parse", uri)
    assert human.exit_code == 1 and "AADSTS65004" in human.output and "consent" in human.output


def test_unusable_input_exits_2_with_one_line_on_stderr():
    proc = subprocess.run(["codecatch", "parse", "javascript:alert(1)"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "javascript" in proc.stderr


def test_reads_stdin_when_no_argument():
    result = run("parse", "--json", input=LINE + "\n")
    assert result.exit_code == 0 and json.loads(result.output)["state"] == "s1"


@pytest.mark.parametrize("text, name", [("javascript:alert(1)", "refused_scheme"), ("hello", "no_uri")])
def test_json_for_unusable_input_is_still_one_object_on_stdout(text, name):
    proc = subprocess.run(["codecatch", "parse", "--json", text], capture_output=True, text=True)
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert data["ok"] is False and data["kind"] is None and data["error"]["name"] == name
    assert data["error"]["message"] in proc.stderr  # and the person still reads why


def test_a_terminal_gets_told_to_paste():
    # With no argument and a terminal on stdin, say what to do instead of waiting silently.
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(["codecatch", "parse"], stdin=follower, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.write(leader, (LINE + "\n").encode() + b"\x04")
        out, err = proc.communicate(timeout=20)
    finally:
        os.close(leader)
        os.close(follower)
    assert "Paste the console line" in err and "Ctrl-D" in err
    assert proc.returncode == 0 and "state:    s1" in out


def test_a_code_given_on_the_command_line_is_warned_about_on_a_terminal(monkeypatch):
    from codecatch import cli

    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    warned = run("parse", LINE)
    assert warned.exit_code == 0 and "warning: the code was on the command line" in warned.stderr
    piped = CliRunner().invoke(main, ["parse"], input=LINE)
    assert piped.exit_code == 0 and "warning" not in piped.stderr
    monkeypatch.setattr(cli, "_on_terminal", lambda: False)  # a script: nothing to say
    assert "warning" not in run("parse", LINE).stderr
