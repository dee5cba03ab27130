"""Jellyfin without a typed password, over real HTTP/UDP against the demo Jellyfin: LAN discovery on loopback,
Quick Connect approved and expired, an API key created, used and revoked, and a non-administrator told what will
not work. Clock and sleep are injected where the service waits."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.core.errors import AuthFailed
from app.core.signin import QuickConnectSignIn, SignInCodeGone, SignInExpired, not_admin_note
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.demo.jellyfin_signin import QC_CONTROL_PATH
from app.demo.server import DEFAULT_JELLYFIN_API_KEY
from app.services.context import AppContext
from app.wiring import build_context
from tests.e2e.conftest import run_cli
from tests.e2e.test_plex_signin_e2e import FakeTime

ADMIN = {"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'}


@pytest.fixture
def jellyfin() -> Iterator[DemoServer]:
    server = start_demo_server(DemoConfig(kind="jellyfin", tracks=20))
    yield server
    server.stop()


def approve(server: DemoServer, code: str, action: str = "approve") -> None:
    r = requests.post(
        server.url + QC_CONTROL_PATH,
        data=json.dumps({"code": code, "action": action}),
        headers=ADMIN,
        timeout=5,
    )
    assert r.status_code == 200, r.text


def context(tmp_path: Path, jellyfin: DemoServer, fake: FakeTime) -> AppContext:
    ctx = build_context(tmp_path, {"discovery_address": f"127.0.0.1:{jellyfin.discovery_port}"})
    assert ctx.jellyfin_signin is not None
    ctx.jellyfin_signin._clock = fake.clock  # the injected clock and sleep of this test
    ctx.jellyfin_signin._sleep = fake.sleep
    return ctx


def keys(server: DemoServer) -> list[dict[str, object]]:
    return requests.get(server.url + "/Auth/Keys", headers=ADMIN, timeout=5).json()["Items"]  # type: ignore[no-any-return]


def test_discovery_on_loopback_lists_the_demo_and_marks_it_once_added(
    tmp_path: Path, jellyfin: DemoServer
) -> None:
    env = {"ZONDARR_DISCOVERY_ADDRESS": f"127.0.0.1:{jellyfin.discovery_port}"}
    first = run_cli(tmp_path, "server", "discover", "--kind", "jellyfin", "--json", env=env)
    assert first.code == 0, first.err
    assert first.json() == [
        {"name": "Zondarr Demo Jellyfin", "url": jellyfin.url, "id": jellyfin.machine_id, "added_as": None}
    ]
    added = run_cli(
        tmp_path, "server", "add", "--kind", "jellyfin", "--name", "Jelly", "--url", jellyfin.url, "--token-stdin",
        stdin=DEFAULT_JELLYFIN_API_KEY + "\n",
    )  # fmt: skip
    assert added.code == 0, added.err
    again = run_cli(tmp_path, "server", "discover", "--kind", "jellyfin", env=env)
    assert (
        f"Zondarr Demo Jellyfin  {jellyfin.url}  {jellyfin.machine_id}  (already added as Jelly)" in again.out
    )


def test_quick_connect_approved_adds_the_server_then_an_api_key_is_created_used_and_revoked(
    tmp_path: Path, jellyfin: DemoServer
) -> None:
    fake = FakeTime()
    ctx = context(tmp_path, jellyfin, fake)
    try:
        svc = ctx.jellyfin_signin
        assert svc is not None

        async def go() -> QuickConnectSignIn:
            code, notes = await svc.start_quick_connect(jellyfin.url + "/web/#/home")
            assert code.url == jellyfin.url and notes and len(code.code) == 6 and code.code.isdigit()
            fake.on_sleep = lambda n: approve(jellyfin, code.code) if n == 2 else None
            signed = await svc.wait_quick_connect(code)
            await svc.add_signed_in(None, code, signed)
            return signed

        signed = asyncio.run(go())
        assert signed.is_admin and fake.sleeps == 2
        [server] = ctx.server_store.list()
        assert (server.name, server.machine_id) == ("Zondarr Demo Jellyfin", jellyfin.machine_id)
        assert ctx.secrets is not None
        assert ctx.secrets.get(server.secret_ref) == signed.result.token  # an access token, no password

        asyncio.run(svc.create_api_key(server.name))
        key = ctx.secrets.get(server.secret_ref)
        assert key and key != signed.result.token
        assert [k["AppName"] for k in keys(jellyfin) if k["AccessToken"] == key] == ["Zondarr"]
        assert asyncio.run(ctx.servers.test(server.name)).machine_id == jellyfin.machine_id  # used

        asyncio.run(svc.revoke_api_key(server.name))
        assert all(k["AccessToken"] != key for k in keys(jellyfin))
        assert ctx.secrets.get(server.secret_ref) is None
        refused = requests.get(
            jellyfin.url + "/System/Info", headers={"Authorization": f'MediaBrowser Token="{key}"'}, timeout=5
        )
        assert refused.status_code == 401
    finally:
        ctx.close()


def test_quick_connect_not_approved_in_ten_minutes_expires(tmp_path: Path, jellyfin: DemoServer) -> None:
    fake = FakeTime()
    ctx = context(tmp_path, jellyfin, fake)
    try:
        svc = ctx.jellyfin_signin
        assert svc is not None

        async def go() -> None:
            code, _ = await svc.start_quick_connect(jellyfin.url)
            fake.on_sleep = lambda n: setattr(fake, "now", fake.now + 600) if n == 3 else None
            with pytest.raises(SignInExpired) as err:
                await svc.wait_quick_connect(code)
            assert "10 minutes" in err.value.user_message
            approve(jellyfin, code.code, "expire")  # the server forgets it too
            with pytest.raises(SignInCodeGone):
                await svc.wait_quick_connect(code)

        asyncio.run(go())
        assert ctx.server_store.list() == []
    finally:
        ctx.close()


def test_a_non_administrator_is_told_what_will_not_work(tmp_path: Path, jellyfin: DemoServer) -> None:
    new = requests.post(
        jellyfin.url + "/Users/New", json={"Name": "kid", "Password": "pw"}, headers=ADMIN, timeout=5
    )
    kid = requests.post(
        jellyfin.url + "/Users/AuthenticateByName",
        json={"Username": "kid", "Pw": "pw"},
        headers={"Authorization": 'MediaBrowser Client="t", Device="t", DeviceId="t", Version="1"'},
        timeout=5,
    ).json()["AccessToken"]
    kid_auth = {"Authorization": f'MediaBrowser Token="{kid}"'}
    assert new.status_code == 200
    for method, path in (("GET", "/Library/VirtualFolders"), ("POST", "/Users/New"), ("GET", "/Auth/Keys")):
        assert (
            requests.request(method, jellyfin.url + path, headers=kid_auth, json={}, timeout=5).status_code
            == 403
        )
    fake = FakeTime()
    ctx = context(tmp_path, jellyfin, fake)
    try:
        svc = ctx.jellyfin_signin
        assert svc is not None

        async def go() -> QuickConnectSignIn:
            code, _ = await svc.start_quick_connect(jellyfin.url)
            r = requests.post(
                jellyfin.url + f"/QuickConnect/Authorize?code={code.code}", headers=kid_auth, timeout=5
            )
            assert r.status_code == 200
            signed = await svc.wait_quick_connect(code)
            await svc.add_signed_in("Kid's view", code, signed)
            return signed

        signed = asyncio.run(go())
        assert not signed.is_admin and signed.username == "kid"
        note = not_admin_note(signed.username, "Kid's view")
        assert "not an administrator" in note and "manage users" in note
        with pytest.raises(AuthFailed):
            asyncio.run(svc.create_api_key("Kid's view"))
    finally:
        ctx.close()


def test_cli_quick_connect_prints_the_code_and_waits_for_approval(
    tmp_path: Path, jellyfin: DemoServer
) -> None:
    done = threading.Event()

    def admin_approves() -> None:
        while not done.wait(0.2):
            approve(jellyfin, "*")

    helper = threading.Thread(target=admin_approves, name="approver", daemon=True)
    helper.start()
    try:
        r = run_cli(
            tmp_path, "server", "add", "--kind", "jellyfin", "--quick-connect", "--url", jellyfin.url,
            "--name", "Jelly", "--create-api-key", "--json",
        )  # fmt: skip
    finally:
        done.set()
        helper.join()
    assert r.code == 0, r.err
    assert "Quick Connect code: " in r.err and "Created an API key for Zondarr on Jelly" in r.err
    row = r.json()
    assert row["name"] == "Jelly" and row["administrator"] is True  # type: ignore[index]
    assert [k["AppName"] for k in keys(jellyfin)] == ["Zondarr"]
    assert run_cli(tmp_path, "server", "api-key", "revoke", "Jelly").code == 0
    assert keys(jellyfin) == []


def test_a_password_sign_in_as_a_non_administrator_says_what_will_not_work(
    tmp_path: Path, jellyfin: DemoServer
) -> None:
    made = requests.post(
        jellyfin.url + "/Users/New", json={"Name": "guest", "Password": "pw"}, headers=ADMIN, timeout=5
    )
    assert made.status_code == 200
    r = run_cli(
        tmp_path, "server", "add", "--kind", "jellyfin", "--name", "Guest view", "--url", jellyfin.url,
        "--username", "guest", "--password-stdin", stdin="pw\n",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "guest is not an administrator on Guest view" in r.err and "manage users" in r.err
