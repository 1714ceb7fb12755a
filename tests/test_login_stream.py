"""`login` receiving the redirect through a real `codecatch-host` and its event stream.

No browser: the test plays the extension by sending the host the `capture` frame it
would send (PROTOCOL.md), with the custom-scheme URI the mock IdP redirected to. The
login's claim must reach the host first, so the host answers `fill_reason: claimed`
and fills nothing, and MSAL redeems the code against the mock.
"""

import os
import threading

import pytest

from codecatch import login
from hostproc import HostProcess, wait_for_advert
from idp import MockIdP

pytest.importorskip("msal")
pytest.importorskip("websockets")


@pytest.fixture
def env(tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    config = tmp_path / "config"
    config.mkdir()
    return dict(os.environ, CODECATCH_RUNTIME_DIR=str(runtime), CODECATCH_CONFIG_DIR=str(config),
                CODECATCH_EVENTS="1")


def test_login_claims_the_capture_and_redeems_it(env, tmp_path):
    folder = env["CODECATCH_RUNTIME_DIR"]
    host = HostProcess(env=env)
    try:
        assert host.recv()["type"] == "hello"
        wait_for_advert(folder)
        with MockIdP() as idp:
            ca = idp.ca_file(str(tmp_path))
            session = idp.session(ca)
            cfg = login.settings(client="teams-powershell", tenant="contoso", authority_host=idp.host, ca_bundle=ca)
            replies = []

            def open_url(url):
                # The 'browser': follow the sign-in, then hand the host what the extension
                # would capture, from a Microsoft sign-in page, with the panel as opener.
                uri = session.get(url, allow_redirects=False).headers["Location"]

                def extension():
                    replies.append(host.request({
                        "id": 1, "type": "capture", "uri": uri,
                        "source": {"channel": "navigate", "tab_id": 12, "frame_id": 0,
                                   "page_url": "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize",
                                   "opener_tab_id": 9, "opener_url": "https://panel.test/tenant/edit"}}))

                threading.Thread(target=extension, daemon=True).start()

            receive = login.stream_receiver(folder=folder)
            result = login.login(cfg, receive, open_url, timeout=20, http_client=session)

        assert result["access_token"].startswith("at-")
        assert idp.token_requests[0]["redirect_uri"] == cfg.redirect_uri
        (reply,) = replies
        assert reply["ok"], reply
        assert reply["result"]["fill"] is None
        assert reply["result"]["fill_reason"] == "claimed"
    finally:
        status, _, stderr = host.close()
    assert result["access_token"] not in stderr  # the host logs no token (it never sees one)


def test_no_host_running_is_reported_as_such(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    receive = login.stream_receiver(folder=str(folder))
    opened = []
    with pytest.raises(login.LoginError) as err:
        receive("some-state", 1, lambda: opened.append(True))
    assert err.value.reason == "no_host"
    assert "--paste" in err.value.hint and "doctor" in err.value.hint
    assert opened == [True]  # the URL was still opened: the browser may start a host
