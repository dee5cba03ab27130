"""Signing in someone's device by code, end to end: a "device" starts Quick Connect on the demo Jellyfin over
HTTP as a Jellyfin app would, the admin approves its code with the real CLI as that person's account, and the
device then gets an access token for exactly that account — no password typed or sent."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import DemoPair, demo_pair, run_cli

DEVICE_AUTH = (
    'MediaBrowser Client="Jellyfin Android", Device="Kim\'s TV", DeviceId="tv-123", Version="10.11.0"'
)


def _http(url: str, method: str = "GET", body: dict[str, object] | None = None, token: str = "") -> object:
    auth = DEVICE_AUTH + (f', Token="{token}"' if token else "")
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": auth})
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoPair, Path, str]]:
    data_dir = tmp_path_factory.mktemp("devices") / "data"
    with demo_pair(tracks=20, users=3) as pair:
        pair.add_both(data_dir)
        assert run_cli(data_dir, "users", "sync").code == 0
        kim = pair.jellyfin.library.users[1]
        yield pair, data_dir, kim.username


def test_device_code_approved_as_the_account_gets_that_accounts_token(
    env: tuple[DemoPair, Path, str],
) -> None:
    pair, data_dir, kim = env
    base = pair.jellyfin.url
    assert _http(f"{base}/QuickConnect/Enabled") is True
    started = _http(f"{base}/QuickConnect/Initiate", "POST")
    assert isinstance(started, dict) and len(started["Code"]) == 6 and started["Authenticated"] is False
    before = _http(f"{base}/QuickConnect/Connect?secret={started['Secret']}")
    assert isinstance(before, dict) and before["Authenticated"] is False

    r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", kim, started["Code"], "--json")
    assert r.code == 0, r.out + r.err
    result = r.json()
    assert result["ok"] is True and result["results"][0]["user"] == kim  # type: ignore[index]

    after = _http(f"{base}/QuickConnect/Connect?secret={started['Secret']}")
    assert isinstance(after, dict) and after["Authenticated"] is True
    auth = _http(f"{base}/Users/AuthenticateWithQuickConnect", "POST", {"Secret": started["Secret"]})
    assert isinstance(auth, dict) and auth["User"]["Name"] == kim
    me = _http(f"{base}/Users/Me", token=str(auth["AccessToken"]))
    assert isinstance(me, dict) and me["Name"] == kim
    with pytest.raises(urllib.error.HTTPError) as used:  # a secret signs in once
        _http(f"{base}/Users/AuthenticateWithQuickConnect", "POST", {"Secret": started["Secret"]})
    assert used.value.code == 401


def test_refusals_say_what_to_do(env: tuple[DemoPair, Path, str]) -> None:
    pair, data_dir, kim = env
    r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", kim, "000000")
    assert r.code == 1 and "no device is waiting" in r.out and "start Quick Connect again" in r.out
    r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", kim, "12ab")
    assert r.code == 1 and "6 digits" in r.out
    r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", "nobody", "123456")
    assert r.code == 1 and "no user nobody" in r.out
    plex_user = pair.plex.library.users[1].username
    r = run_cli(data_dir, "users", "quick-connect", "--server", "Plex", plex_user, "123456", "--json")
    assert r.code == 1 and "cannot sign in devices" in r.out

    qc = pair.jellyfin._ctx.quick_connect
    started = _http(f"{pair.jellyfin.url}/QuickConnect/Initiate", "POST")
    assert isinstance(started, dict)
    qc.ttl_s = 0.0  # the code has expired (real servers: after 10 minutes)
    try:
        r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", kim, started["Code"])
        assert r.code == 1 and "no device is waiting" in r.out
    finally:
        qc.ttl_s = 600.0
    qc.enabled = False
    try:
        r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", kim, "123456")
        assert r.code == 1 and "Quick Connect is turned off" in r.out
    finally:
        qc.enabled = True
