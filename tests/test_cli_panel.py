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
        {"origin": "https://cp.example.com", "selector": "#code", "value": "code"}]
    assert run("panel", "add", "https://cp.example.com").exit_code == 0  # replaces, never duplicates
    assert config.load()[0]["panels"] == [{"origin": "https://cp.example.com", "selector": None, "value": "url"}]
    assert run("panel", "remove", "https://cp.example.com").exit_code == 0
    assert config.load()[0]["panels"] == []


def test_bad_rules_are_refused_and_change_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    run("panel", "add", "https://cp.example.com")
    before = (tmp_path / "config.json").read_bytes()
    bad = run("panel", "add", "javascript:alert(1)")
    assert bad.exit_code == 1 and "origin" in bad.output
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
        assert panels == [{"origin": "https://cp.example.com", "selector": None, "value": "code"}]
    finally:
        host.close()
