"""The fill decision and the configuration file: pure rules, plain values."""

import json
import os
import stat

import pytest

from codecatch import config
from codecatch.errors import CodecatchError
from codecatch.fill import decide_fill, origin_of

RESPONSE = {"kind": "code", "code": "0.AXkAcode", "https_url": "https://Microsoft.AAD.BrokerPlugin/x?code=0.AXkAcode"}
SOURCE = {"tab_id": 5, "channel": "navigate", "page_url": "https://login.microsoftonline.com/appverify",
          "frame_id": 0, "proof": "navigate", "flow": "signin", "flow_started_at": 2000,
          "opener_tab_id": 2, "opener_url": "https://panel.example.com:8443/t/1",
          "opener_origin": "https://panel.example.com:8443", "opener_by_page": True}
NOW = 5000
ARMED = {"armed_at": 1000, "armed_until": 1000 + 600_000}


@pytest.mark.parametrize("url,origin", [
    ("https://Panel.Example.com/x?y", "https://panel.example.com"),
    ("https://panel.example.com:443/", "https://panel.example.com"),
    ("https://panel.example.com:8443/", "https://panel.example.com:8443"),
    ("http://localhost:8080/a", "http://localhost:8080"),
    ("chrome://newtab/", None), ("javascript:alert(1)", None), ("https://:80/", None), (None, None),
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def test_opener_gets_the_https_url_by_default():
    fill, reason = decide_fill(RESPONSE, SOURCE, config.DEFAULTS)
    assert reason == "opener" and fill["tab_id"] == 2 and fill["value"] == RESPONSE["https_url"]
    assert fill["origin"] == "https://panel.example.com:8443" and fill["selector"] is None


def test_panel_rule_selects_field_and_bare_code():
    cfg = config.validate({"panels": [{"origin": "https://panel.example.com:8443", "selector": "#c", "value": "code"}]})
    fill, _ = decide_fill(RESPONSE, SOURCE, cfg)
    assert fill["value"] == "0.AXkAcode" and fill["selector"] == "#c" and fill["value_kind"] == "code"


def test_the_save_rule_is_off_unless_set_and_goes_only_with_a_proven_capture():
    assert decide_fill(RESPONSE, SOURCE, config.DEFAULTS)[0]["save"] is None  # off by default
    cfg = config.validate({"panels": [{"origin": "https://panel.example.com:8443", "save": " #btnSave "}]})
    assert cfg["panels"][0] == {"origin": "https://panel.example.com:8443", "selector": None, "value": "url",
                                "save": "#btnSave"}
    fill, reason = decide_fill(RESPONSE, SOURCE, cfg)
    assert reason == "opener" and fill["save"] == "#btnSave"
    armed = dict(SOURCE, **ARMED, opener_tab_id=None, opener_by_page=False, armed_tab_id=9,
                 armed_url="https://panel.example.com:8443/t/2", armed_origin="https://panel.example.com:8443")
    assert decide_fill(RESPONSE, armed, cfg, now_ms=NOW)[0]["save"] == "#btnSave"
    # Another origin's rule is not this one's; an unproven capture gets neither fill nor save.
    other = dict(SOURCE, opener_url="https://panel.example.com/t/1", opener_origin="https://panel.example.com")
    assert decide_fill(RESPONSE, other, cfg)[0]["save"] is None
    for unproven in ({"proof": None}, {"proof": "redirect"}, {"frame_id": 3}, {"page_url": "https://evil.test/"}):
        assert decide_fill(RESPONSE, dict(SOURCE, **unproven), cfg) == (None, "unverified")


@pytest.mark.parametrize("save,problem", [
    ("", "must be a CSS selector"), (7, "must be a CSS selector"), ("x" * 501, "must be a CSS selector"),
    ("button[type=submit", "unclosed '['"), ("#save)", "unmatched ')'"),
])
def test_a_bad_save_selector_is_refused_with_why(save, problem):
    with pytest.raises(CodecatchError) as e:
        config.validate({"panels": [{"origin": "https://panel.example.com", "save": save}]})
    assert "panels[0].save" in e.value.message and problem in e.value.message


def test_armed_tab_wins_even_when_auto_fill_is_off():
    cfg = dict(config.DEFAULTS, auto_fill=False)
    assert decide_fill(RESPONSE, SOURCE, cfg) == (None, "disabled")
    fill, reason = decide_fill(RESPONSE, dict(SOURCE, **ARMED, opener_tab_id=None, opener_by_page=False, armed_tab_id=9,
                                              armed_url="https://other.example/", armed_origin="https://other.example"),
                               cfg, now_ms=NOW)
    assert reason == "armed" and fill["tab_id"] == 9


@pytest.mark.parametrize("change,reason", [
    ({"opener_tab_id": None}, "no_target"),
    ({"opener_url": "https://login.microsoftonline.com/x", "opener_origin": "https://login.microsoftonline.com"},
     "target_is_signin"),
    ({"opener_tab_id": 5}, "target_is_signin"),
    ({"opener_url": "chrome://newtab/"}, "target_moved"),
    ({"opener_url": "https://panel.example.com/t/1"}, "target_moved"),  # origins are exact: another port
    ({"proof": None}, "unverified"),
    ({"flow": "left", "flow_via": "evil.test"}, "left_signin_hosts"),
    ({"flow": "foreign"}, "started_elsewhere"),
])
def test_no_fill(change, reason):
    assert decide_fill(RESPONSE, dict(SOURCE, **change), config.DEFAULTS) == (None, reason)


def test_error_claimed_duplicate():
    assert decide_fill(dict(RESPONSE, kind="error"), SOURCE, config.DEFAULTS) == (None, "error_response")
    assert decide_fill(RESPONSE, SOURCE, config.DEFAULTS, claimed=True) == (None, "claimed")
    assert decide_fill(RESPONSE, SOURCE, config.DEFAULTS, duplicate=True) == (None, "duplicate")


@pytest.mark.parametrize("raw", [
    [], {"auto_fill": "yes"}, {"panels": "x"}, {"panels": [{"origin": "https://a.example/path"}]},
    {"panels": [{"origin": "https://a.example"}, {"origin": "https://A.example"}]},
    {"panels": [{"origin": "https://a.example", "value": "token"}]},
    {"panels": [{"origin": "https://a.example", "selector": ""}]},
])
def test_invalid_config_is_refused(raw):
    with pytest.raises(CodecatchError) as info:
        config.validate(raw)
    assert info.value.code == 40


def test_save_is_atomic_private_and_load_survives_a_broken_file(tmp_path):
    path = str(tmp_path / "cc" / "config.json")
    config.save({"panels": [{"origin": "https://panel.example.com"}], "close_signin_tab": True}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded, problem = config.load(path)
    assert problem is None and loaded["close_signin_tab"] and loaded["panels"][0]["value"] == "url"
    with pytest.raises(CodecatchError):
        config.save({"panels": 1}, path)
    assert config.load(path)[0] == loaded  # a refused save changed nothing
    with open(path, "w") as f:
        f.write("{broken")
    loaded, problem = config.load(path)
    assert loaded == config.DEFAULTS and "unusable" in problem


def test_an_armed_tab_never_takes_a_signin_that_another_tab_opened():
    armed = dict(SOURCE, **ARMED, armed_tab_id=9, armed_url="https://panel.example.com/",
                 armed_origin="https://panel.example.com")

    def target(**change):
        return decide_fill(RESPONSE, dict(armed, **change), config.DEFAULTS, now_ms=NOW)

    # Opened by another tab (say a hostile page): it goes to that opener, never to the armed panel.
    fill, reason = target(opener_url="https://evil.example/", opener_origin="https://evil.example")
    assert reason == "opener" and fill["tab_id"] == 2 and fill["origin"] == "https://evil.example"
    # Typed by the user (no opener, or only the tab that was active: not page-opened), or
    # opened by the armed tab itself: the armed tab.
    assert target(opener_tab_id=None, opener_by_page=False)[1] == "armed"
    assert target(opener_by_page=False)[1] == "armed"
    assert target(opener_tab_id=9)[0]["tab_id"] == 9
    # Only a sign-in started after arming, while the arming lasts, and into the armed site.
    assert target(opener_by_page=False, flow_started_at=500)[1] == "opener"
    assert decide_fill(RESPONSE, dict(armed, opener_by_page=False), config.DEFAULTS, now_ms=700_000)[1] == "opener"
    assert target(opener_by_page=False, armed_url="https://elsewhere.example/")[1] == "target_moved"


@pytest.mark.parametrize("given, origin", [
    ("https://Panel.Example.com", "https://panel.example.com"),
    ("https://panel.example.com/", "https://panel.example.com"),
    ("https://panel.example.com:443", "https://panel.example.com"),  # the default port
    ("http://panel.test:8080", "http://panel.test:8080"),
    ("https://Bücher.example", "https://xn--bcher-kva.example"),  # as the browser reports it
    ("https://[::1]:8443", "https://[::1]:8443"),
])
def test_panel_origins_are_normalised(given, origin):
    assert config.normalize_origin(given) == origin
    assert config.validate({"panels": [{"origin": given}]})["panels"][0]["origin"] == origin


@pytest.mark.parametrize("given, says", [
    ("cp3.example.com", "did you mean https://cp3.example.com?"),
    ("https://*.example.com", "wildcards are not supported"),
    ("https://panel.example.com/CP/Tenant.aspx", "use https://panel.example.com"),
    ("https://panel.example.com/?a=1", "without a path"),
    ("ftp://panel.example.com", "https://"),
    ("https://admin:pw@panel.example.com", "user name or password"),
    ("https://panel.example.com:99999", "not a valid URL"),
    ("https://panel.example.com:0", "not a valid URL"),
    ("*.example.com", "wildcards are not supported"),  # not "did you mean https://*..."
    ("https:/panel.example.com", "did you mean https://panel.example.com?"),
    ("", "give the panel's address"),
])
def test_a_bad_panel_origin_says_what_to_write_instead(given, says):
    with pytest.raises(CodecatchError) as e:
        config.validate({"panels": [{"origin": "https://ok.example"}, {"origin": given}]})
    assert e.value.name == "invalid_config"
    assert says in e.value.message and e.value.message.startswith("panels[1]: ")


@pytest.mark.parametrize("selector, problem", [
    ("###bad[", "an unclosed '['"),
    ("div:not(.a", "an unclosed '('"),
    ("a)", "an unmatched ')'"),
    ("input[name='x", "an unclosed '"),
    ("#ctl00_MainContent_txtAuthCode", None),
    ("form#f input[name=\"a]b\"]", None),
    (r"#weird\[id", None),  # an escaped bracket
])
def test_a_selector_that_cannot_be_css_is_refused_with_why(selector, problem):
    assert config.selector_problem(selector) == problem
    rule = {"origin": "https://panel.example.com", "selector": selector}
    if problem is None:
        assert config.validate({"panels": [rule]})["panels"][0]["selector"] == selector
    else:
        with pytest.raises(CodecatchError) as e:
            config.validate({"panels": [rule]})
        assert problem in e.value.message


def test_a_file_an_earlier_version_saved_still_loads(tmp_path):
    # Earlier versions saved a wildcard origin and an unbalanced selector; refusing the
    # whole file now would turn automatic filling back on and drop every rule.
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auto_fill": False, "panels": [
        {"origin": "https://cp.example.com", "value": "code"},
        {"origin": "https://*.example.com"},
        {"origin": "https://old.example.com", "selector": 'input[name="code"'},
    ]}))
    loaded, problem = config.load(str(path))
    assert problem is None and loaded["auto_fill"] is False
    assert [p["origin"] for p in loaded["panels"]] == ["https://cp.example.com", "https://*.example.com", "https://old.example.com"]
    # Saving is strict, and says which rule to fix.
    with pytest.raises(CodecatchError) as e:
        config.save(loaded, str(path))
    assert "panels[1]" in e.value.message and "wildcards" in e.value.message
