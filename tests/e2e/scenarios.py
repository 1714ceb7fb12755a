"""The end-to-end scenarios, defined once and run by every browser driver.

A scenario is data (which panel pages, how each opens the sign-in, how the sign-in
ends, what must happen); `run(driver, site, scenario)` plays it through a driver and
checks the outcome on three independent witnesses:

- the panel page: the field's value and the `input`/`change` events it recorded;
- the mock sign-in: what it issued (the oracle for the expected value); the mock panel:
  what its Save button posted (scenarios with the panel rule's save button);
- the extension: its status message ({type: "status"}, answered by the background).

A driver is anything with the methods of `Driver` below; the Chromium one lives in
chromium_driver.py, a Firefox one (issue 5) implements the same few methods.
"""

import dataclasses
import json
import time
from typing import Protocol

from codecatch.mocksite.browser import codecatch_command, wait_for  # tests import wait_for from here too
from codecatch.mocksite.panel import AUTH_FIELD_ID, SAVE_BUTTON_ID

FILL_TIMEOUT_S = 10.0
# How long "nothing happens" is watched for. A fill takes well under 0.5 s here
# (docs/browser-notes.md section 3), so 2 s of silence is a clear negative.
QUIET_S = 2.0


@dataclasses.dataclass(frozen=True)
class Start:
    """One sign-in, started from one panel tab."""
    panel_host: str = "panel.test"
    open: str = "blank"  # blank (target=_blank) | window_open | popup
    outcome: str = "302"  # 302 | cmsi | error | nativeclient (mock_outcome)
    signin_host: str = "login.microsoftonline.com"  # or evil.test: a clone on a non-Microsoft host
    evil: bool = False  # the link goes to evil.test's launcher page instead of a sign-in
    response_mode: str = "query"
    client: str = "teams"
    save: str = "enabled"  # the panel's Save button: enabled | after_input | after_check | never

    def knobs(self):
        if self.evil:
            return {"evil": "1", "open": self.open}
        knobs = {"outcome": self.outcome, "open": self.open, "client": self.client}
        if self.save != "enabled":
            knobs["save"] = self.save
        if self.signin_host != "login.microsoftonline.com":
            knobs["signin_host"] = self.signin_host
        if self.response_mode != "query":
            knobs["response_mode"] = self.response_mode
        return knobs


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    starts: tuple
    expect: str  # "filled" | "error" | "ignored"
    # CMSI: the order in which the sign-in tabs' Continue buttons are pressed.
    continue_order: tuple = ()
    # The panel rule's save button (`codecatch panel add ORIGIN --save SELECTOR`) for
    # every panel: "saved" (pressed after the fill) or "not_saved" (it stayed disabled).
    save: str | None = None
    doc: str = ""


SCENARIOS = [
    Scenario("redirect_302", (Start(outcome="302"),), "filled",
             doc="authorize answers 302 to the custom scheme"),
    Scenario("confirm_my_signin", (Start(outcome="cmsi"),), "filled", continue_order=(0,),
             doc="Continue posts to /appverify, whose script navigates with JS escapes"),
    Scenario("error_response", (Start(outcome="error"),), "error",
             doc="AADSTS65004 (user declined consent): nothing filled, error surfaced"),
    Scenario("evil_page_ignored", (Start(evil=True),), "ignored",
             doc="a non-Microsoft page launches a custom-scheme URI carrying a code"),
    Scenario("evil_signin_clone_ignored", (Start(outcome="302", signin_host="evil.test"),), "ignored",
             doc="a sign-in look-alike on a non-Microsoft host 302s to the custom scheme"),
    Scenario("two_panels", (Start(panel_host="panel.test", outcome="cmsi"),
                            Start(panel_host="panel2.test", outcome="cmsi", open="window_open")),
             "filled", continue_order=(1, 0),
             doc="two panel tabs, two sign-ins finished in reverse order: each code to its opener"),
    Scenario("us_government_cloud_fragment",
             (Start(outcome="cmsi", signin_host="login.microsoftonline.us", response_mode="fragment"),),
             "filled", continue_order=(0,),
             doc="GCC High sign-in host, response in the fragment (response_mode=fragment)"),
    Scenario("popup_window", (Start(outcome="302", open="popup"),), "filled",
             doc="the panel opens the sign-in in a popup window"),
    Scenario("fill_then_save", (Start(outcome="302", save="after_check"),), "filled", save="saved",
             doc="the panel rule's save button, disabled until the page has checked the filled value "
                 "with its server, is pressed once it is enabled"),
    Scenario("fill_then_save_cmsi", (Start(outcome="cmsi", save="after_input"),), "filled", save="saved",
             continue_order=(0,), doc="the same after Confirm My Sign-In; the button is enabled by the input event"),
    Scenario("fill_but_save_stays_disabled", (Start(outcome="302", save="never"),), "filled", save="not_saved",
             doc="a save button that never becomes enabled is not pressed, and the user is told to press it"),
]

BY_NAME = {s.name: s for s in SCENARIOS}


class Driver(Protocol):
    name: str

    def open_panel(self, url: str): ...  # -> a tab handle, page loaded
    def link_state(self, panel) -> str: ...  # data-state of the sign-in link
    def click_signin(self, panel, want_tab: bool = False): ...  # -> the sign-in tab if want_tab
    def click_continue(self, signin) -> None: ...  # CMSI Continue in the sign-in tab
    def field_value(self, panel) -> str: ...
    def page_events(self, panel) -> list: ...  # window.__mockEvents
    def extension_status(self) -> dict: ...  # reply to {type: "status"}


@dataclasses.dataclass
class Started:
    start: Start
    panel: object
    state: str
    signin: object = None


def add_save_rule(driver, site, env, panel_host="panel.test"):
    """`codecatch panel add ORIGIN --save #SAVE_BUTTON_ID`, with the real CLI, in the
    configuration the browser's host reads (`env`: the browser_env fixture)."""
    import subprocess

    origin = site.url(panel_host, "", with_port=getattr(driver, "needs_port", False))
    done = subprocess.run([*codecatch_command(), "panel", "add", origin, "--save", f"#{SAVE_BUTTON_ID}"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and f"save=#{SAVE_BUTTON_ID}" in done.stdout, (done.stdout, done.stderr)


def run(driver, site, scenario, env=None):
    """Play `scenario`; raise AssertionError with the evidence when it goes wrong.
    Returns the list of Started (with the issued records checked). `env` (the
    browser_env fixture) is needed by scenarios with a panel rule."""
    if scenario.save:
        assert env is not None, f"{scenario.name} needs the browser's environment for its panel rule"
        for host in sorted({s.panel_host for s in scenario.starts}):
            add_save_rule(driver, site, env, host)
    started = []
    for start in scenario.starts:
        url = site.panel_url(start.panel_host, with_port=getattr(driver, "needs_port", False),
                             **start.knobs())
        panel = driver.open_panel(url)
        started.append(Started(start, panel, driver.link_state(panel)))
    for index, s in enumerate(started):
        s.signin = driver.click_signin(s.panel, want_tab=index in scenario.continue_order)
    for index in scenario.continue_order:
        driver.click_continue(started[index].signin)
    expect = {"filled": _expect_filled, "error": _expect_error, "ignored": _expect_ignored}
    expect[scenario.expect](driver, site, started)
    if scenario.save == "saved":
        expect_saved(driver, site, started)
    elif scenario.save == "not_saved":
        _expect_not_saved(driver, site, started)
    elif scenario.expect == "filled":
        expect_no_save(driver, site, started)  # no rule: the save stays the admin's
    return started


def _save_clicks(driver, panel):
    return [e for e in driver.page_events(panel) if e.get("type") == "click" and e.get("target") == SAVE_BUTTON_ID]


def expect_saved(driver, site, started):
    """Each panel's Save was pressed once, after the fill, and posted the value filled."""
    for s in started:
        issued = issued_for(site, s.state)
        saved = wait_for(lambda state=s.state: site.saves_for_state(state), FILL_TIMEOUT_S)
        assert saved, (f"{s.start.panel_host}: the panel's save button was never pressed.\n"
                       + _evidence(driver, site, started))
        assert [x.value for x in saved] == [issued.https_url], "the save posted another value, or twice"
        types = [e["type"] for e in driver.page_events(s.panel)
                 if e.get("target") in (AUTH_FIELD_ID, SAVE_BUTTON_ID)]
        assert types.index("click") > types.index("change"), f"the save came before the fill: {types}"
        assert len(_save_clicks(driver, s.panel)) == 1, types
    filled = wait_for(lambda: [c for c in captures(driver.extension_status())
                               if c.get("outcome") == "filled" and c.get("saved")], 3.0)
    assert len(filled) == len(started) and all(c["saved"]["pressed"] for c in filled), (
        "the extension does not say it saved:\n" + _evidence(driver, site, started))
    assert all("Pressed the save button" in c["outcome_detail"] for c in filled), filled


def _expect_not_saved(driver, site, started):
    """The save button stayed disabled: the fill stands, nothing was pressed, and the
    extension says so (pressSave waits a bounded time first)."""
    said = wait_for(lambda: [c for c in captures(driver.extension_status())
                             if c.get("outcome") == "filled" and c.get("saved")], FILL_TIMEOUT_S)
    assert said and said[0]["saved"] == {"pressed": False, "reason": "disabled"}, (
        "the extension never said the save was not pressed:\n" + _evidence(driver, site, started))
    assert "press save yourself" in said[0]["outcome_detail"], said[0]
    for s in started:
        assert not site.saves_for_state(s.state) and not _save_clicks(driver, s.panel), "a disabled save was pressed"


def expect_no_save(driver, site, started):
    for s in started:
        assert not _save_clicks(driver, s.panel) and not site.saves_for_state(s.state), (
            f"{s.start.panel_host}: the save button was pressed without a save rule")


def issued_for(site, state, timeout=FILL_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = site.issued_for_state(state)
        if found:
            return found[-1]
        time.sleep(0.02)
    raise AssertionError(f"the mock issued nothing for state {state}: the sign-in never ran "
                         f"(requests seen: {[(e.host, e.path, e.status) for e in site.log][-10:]})")


def captures(status):
    """The captures the extension reports (each the host's verdict on one URI:
    capture_id, kind, aadsts, fill_reason, outcome ...), oldest first."""
    return list((status or {}).get("captures") or [])


def _field_events(driver, panel):
    return [e for e in driver.page_events(panel) if e.get("target") == AUTH_FIELD_ID]


def _evidence(driver, site, started):
    lines = [f"browser: {driver.name}"]
    for s in started:
        lines.append(f"panel {s.start.panel_host}: field={_short(driver.field_value(s.panel))!r} "
                     f"events={[e['type'] for e in _field_events(driver, s.panel)]}")
    lines.append("issued: " + "; ".join(f"{i.style}@{i.host} state={i.state[:6] if i.state else None} "
                                        f"{i.code_redacted or i.error}" for i in site.issued))
    try:
        lines.append("extension status: " + json.dumps(driver.extension_status())[:1500])
    except Exception as exc:  # the status is evidence only; its absence is reported
        lines.append(f"extension status unavailable: {exc!r}")
    return "\n".join(lines)


def _short(value):
    return value if not value or len(value) < 60 else value[:50] + f"…({len(value)})"


def _expect_filled(driver, site, started):
    for s in started:
        issued = issued_for(site, s.state)
        assert issued.kind == "code", f"expected a code for {s.start}, the mock issued {issued}"
        expected = issued.https_url
        ok = wait_for(lambda panel=s.panel, want=expected: driver.field_value(panel) == want, FILL_TIMEOUT_S)
        assert ok, (f"{s.start.panel_host}: the field never received the https URL of the code "
                    f"issued for its sign-in ({issued.code_redacted}).\n"
                    + _evidence(driver, site, started))
        types = [e["type"] for e in _field_events(driver, s.panel)]
        assert "input" in types and "change" in types and types.index("input") < types.index("change"), (
            f"the fill did not look like typing (input then change): {types}")
    # Each panel received its own code, not another panel's.
    values = [driver.field_value(s.panel) for s in started]
    assert len(set(values)) == len(values), "two panels received the same value"
    # What the host received and decided, as the extension reports it: one capture per
    # sign-in, each a code filled into its opener.
    # (A capture's outcome is settled after its save, which may wait for the button.)
    filled = wait_for(lambda: [c for c in captures(driver.extension_status())
                               if c.get("outcome") == "filled"], FILL_TIMEOUT_S)
    status = driver.extension_status()
    assert len(filled) == len(started), (
        f"expected {len(started)} filled capture(s) in the extension's status:\n"
        + _evidence(driver, site, started))
    for capture in filled:
        assert capture["kind"] == "code" and capture["fill_reason"] in ("opener", "armed"), capture
        assert capture["page_host"] in {s.start.signin_host for s in started}, capture
    assert status["connection"]["state"] == "connected", status["connection"]


def _expect_error(driver, site, started):
    for s in started:
        issued = issued_for(site, s.state)
        assert issued.kind == "error"
    errors = wait_for(lambda: [c for c in captures(driver.extension_status())
                               if c.get("kind") == "error"], FILL_TIMEOUT_S)
    assert errors, ("the extension never surfaced the error response:\n"
                    + _evidence(driver, site, started))
    (capture,) = errors
    assert capture["aadsts"] == "AADSTS65004" and capture["error"] == "access_denied", capture
    assert capture["hint"], f"no hint for the admin: {capture}"
    assert capture["fill_reason"] == "error_response", capture
    time.sleep(0.3)
    for s in started:
        assert driver.field_value(s.panel) == "", "an error response filled the field"
        assert not _field_events(driver, s.panel), "an error response touched the field"


def _expect_ignored(driver, site, started):
    for s in started:
        issued = issued_for(site, s.state)
        assert issued.host not in ("login.microsoftonline.com",), issued
    # The browser did try the launch, and the extension saw and refused it (so the
    # silence below is not merely a navigation that never happened).
    refused = wait_for(lambda: [i for i in (driver.extension_status().get("ignored") or [])
                                if i.get("reason") == "not_signin_host"], QUIET_S)
    assert refused, ("the extension never reported ignoring the non-Microsoft launch:\n"
                     + _evidence(driver, site, started))
    time.sleep(QUIET_S)
    for s in started:
        assert driver.field_value(s.panel) == "", (
            "a custom-scheme URI from a non-Microsoft page was filled:\n"
            + _evidence(driver, site, started))
        assert not _field_events(driver, s.panel), "the field saw events"
    status = driver.extension_status()
    for issued in site.issued:
        assert issued.code[:12] not in json.dumps(status), "the evil code reached the extension's state"
    assert not captures(status), (
        f"the extension accepted a capture from a non-Microsoft page: {captures(status)}")
