"""`codecatch panel`: the CLI edits the same panel rules the options page does."""

import json

from click.testing import CliRunner

from codecatch import config
from codecatch.cli import main
from hostproc import HostProcess


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_add_list_replace_remove(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    assert "no panel rules" in run("panel", "list").output
    assert run("panel", "add", "https://CP.example.com/", "--selector", "#code", "--value", "code").exit_code == 0
    assert json.loads(run("panel", "list", "--json").output) == [
        {"origin": "https://cp.example.com", "selector": "#code", "value": "code", "save": None}]
    assert run("panel", "add", "https://other.example.com").output.startswith("added: https://other.example.com")
    replaced = run("panel", "add", "https://cp.example.com")  # replaces in place, never duplicates
    assert replaced.exit_code == 0
    assert replaced.output.splitlines() == [
        "replaced: https://cp.example.com  value=url  selector=(found automatically)  save=(off)",
        "  (was: https://cp.example.com  value=code  selector=#code  save=(off))"]
    assert config.load()[0]["panels"] == [
        {"origin": "https://cp.example.com", "selector": None, "value": "url", "save": None},
        {"origin": "https://other.example.com", "selector": None, "value": "url", "save": None}]
    assert run("panel", "add", "https://cp.example.com").output.startswith("unchanged: ")
    assert run("panel", "remove", "https://other.example.com").exit_code == 0
    assert run("panel", "remove", "https://cp.example.com").exit_code == 0
    assert config.load()[0]["panels"] == []


def test_bad_rules_are_refused_and_change_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    run("panel", "add", "https://cp.example.com")
    before = (tmp_path / "config.json").read_bytes()
    bad = run("panel", "add", "javascript:alert(1)")
    assert bad.exit_code == 2 and "not a panel origin" in bad.output
    missing = run("panel", "remove", "https://other.example")
    assert missing.exit_code == 1 and "no rule for" in missing.output
    assert (tmp_path / "config.json").read_bytes() == before


def test_a_running_host_follows_the_cli(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    host = HostProcess(dict(os.environ, CODECATCH_RUNTIME_DIR=str(tmp_path / "run")))
    try:
        assert host.recv()["type"] == "hello"
        assert host.request({"id": 1, "type": "config.get"})["result"]["panels"] == []
        run("panel", "add", "https://cp.example.com", "--value", "code")
        panels = host.request({"id": 2, "type": "config.get"})["result"]["panels"]
        assert panels == [{"origin": "https://cp.example.com", "selector": None, "value": "code", "save": None}]
    finally:
        host.close()


def test_panel_add_says_what_to_write_and_normalises(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    no_scheme = run("panel", "add", "cp3.example.com")
    assert no_scheme.exit_code == 2 and "did you mean https://cp3.example.com?" in no_scheme.output
    assert "panels[" not in no_scheme.output  # no internal index in a message for a person
    wildcard = run("panel", "add", "https://*.example.com")
    assert wildcard.exit_code == 2 and "wildcards are not supported" in wildcard.output
    selector = run("panel", "add", "https://cp.example.com", "--selector", "###bad[")
    assert selector.exit_code == 2 and "unclosed '['" in selector.output
    assert not (tmp_path / "config.json").exists()  # nothing saved by any of those
    ok = run("panel", "add", "https://CP11.example.com:443/")
    assert ok.exit_code == 0 and "added: https://cp11.example.com" in ok.output
    assert run("panel", "remove", "https://cp11.example.com:443").exit_code == 0


def test_panel_list_reports_an_unusable_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    listed = run("panel", "list")
    assert listed.exit_code == 1 and "unusable" in listed.output and "no panel rules" not in listed.output
    add = run("panel", "add", "https://cp.example.com")
    assert add.exit_code == 1 and "fix the file or delete it" in add.output
    assert (tmp_path / "config.json").read_text(encoding="utf-8") == "{not json"


def test_panel_add_empty_selector_and_plain_http(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    empty = run("panel", "add", "https://cp.example.com", "--selector", " ")
    assert empty.exit_code == 2 and "leave --selector out" in empty.output
    plain = run("panel", "add", "http://cp.example.com")
    assert plain.exit_code == 0 and "plain http" in plain.output
    missing = run("panel", "remove", "cp9.example.com")
    assert missing.exit_code == 1 and "did you mean https://cp9.example.com?" in missing.output


def test_the_save_rule_is_off_unless_set_shown_and_checked_like_the_field(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    added = run("panel", "add", "https://cp.example.com", "--save", " #btnSave ")
    assert added.exit_code == 0, added.output
    assert added.output == "added: https://cp.example.com  value=url  selector=(found automatically)  save=#btnSave\n"
    assert config.load()[0]["panels"] == [
        {"origin": "https://cp.example.com", "selector": None, "value": "url", "save": "#btnSave"}]
    assert "save=#btnSave" in run("panel", "list").output
    assert json.loads(run("panel", "list", "--json").output)[0]["save"] == "#btnSave"
    # Replacing the rule without --save turns the save off again, and says so.
    off = run("panel", "add", "https://cp.example.com")
    assert off.output.splitlines()[0].endswith("save=(off)") and "save=#btnSave)" in off.output
    before = (tmp_path / "config.json").read_bytes()
    bad = run("panel", "add", "https://cp.example.com", "--save", "button[type=submit")
    assert bad.exit_code == 2 and "--save" in bad.output and "unclosed '['" in bad.output
    empty = run("panel", "add", "https://cp.example.com", "--save", "")
    assert empty.exit_code == 2 and "leave --save out" in empty.output
    assert (tmp_path / "config.json").read_bytes() == before
