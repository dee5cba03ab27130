"""Invitations, account actions and tasks end to end: the real CLI over real HTTP against the demo servers
(demo Plex + plex.tv, demo Jellyfin). The demo servers' own state is the oracle."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.demo import DemoConfig, DemoServer, start_demo_server
from tests.e2e.conftest import DemoPair, demo_pair, run_cli


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoPair, Path]]:
    data_dir = tmp_path_factory.mktemp("people") / "data"
    with demo_pair(tracks=60, libraries=3) as pair:
        pair.add_both(data_dir)
        r = run_cli(data_dir, "sync", "--json")
        assert r.code == 0, r.err
        yield pair, data_dir


def _jelly_user(server: DemoServer, name: str):  # type: ignore[no-untyped-def]
    return next((u for u in server._ctx.users if u.username == name), None)


def _plex_shares(server: DemoServer, who: str) -> list[tuple[str, ...]]:
    return [s.section_keys for s in server._ctx.shares if who in (s.username, s.email)]


def _create(data_dir: Path, *args: str) -> str:
    r = run_cli(data_dir, "invite", "create", *args, "--json")
    assert r.code == 0, r.err
    code = r.json()["code"]  # type: ignore[index]
    assert isinstance(code, str) and len(code) == 10
    return code


def _redeem(  # type: ignore[type-arg]
    data_dir: Path,
    code: str,
    user: str,
    password: str = "pw-secret-1",
    clock: Callable[[], float] = time.time,
) -> tuple[int, dict]:
    r = run_cli(
        data_dir, "invite", "redeem", code, "--username", user, "--email", f"{user}@example.com",
        "--password-stdin", "--json", stdin=password + "\n", clock=clock,
    )  # fmt: skip
    assert password not in r.out + r.err
    return r.code, r.json()  # type: ignore[return-value]


def test_redeem_creates_accounts_with_exactly_the_chosen_libraries(env: tuple[DemoPair, Path]) -> None:
    pair, data_dir = env
    plex_libs = pair.plex.library.music_libraries()
    jelly_libs = pair.jellyfin.library.music_libraries()
    plex_pick = [plex_libs[0], plex_libs[2]]
    jelly_pick = [jelly_libs[1], jelly_libs[2]]
    code = _create(
        data_dir, "--server", "Plex", "--server", "Jelly", "--max-uses", "1", "--duration-days", "30",
        "--library", f"Plex:{plex_pick[0][1]}", "--library", f"Plex:{plex_pick[1][0]}",  # by title and by key
        "--library", f"Jelly:{jelly_pick[0][1]}", "--library", f"Jelly:{jelly_pick[1][1]}",
    )  # fmt: skip
    code_ok, result = _redeem(data_dir, code.lower(), "newbie")
    assert code_ok == 0, result
    assert result["ok"] and {o["server"] for o in result["servers"]} == {"Plex", "Jelly"}

    jelly = _jelly_user(pair.jellyfin, "newbie")
    assert jelly is not None and set(jelly.library_keys) == {k for k, _, _ in jelly_pick}
    policy = pair.jellyfin._ctx.policies[jelly.jellyfin_id]
    assert policy["EnableAllFolders"] is False
    assert sorted(policy["EnabledFolders"]) == sorted(k for k, _, _ in jelly_pick)  # type: ignore[arg-type]
    assert [set(keys) for keys in _plex_shares(pair.plex, "newbie")] == [{k for k, _, _ in plex_pick}]

    again, second = _redeem(data_dir, code, "second")
    assert again == 1 and second["reason"] == "used up"
    assert _jelly_user(pair.jellyfin, "second") is None and not _plex_shares(pair.plex, "second")

    listed = run_cli(data_dir, "invite", "list", "--json").json()
    [row] = [i for i in listed if i["code"] == code]  # type: ignore[union-attr,index]
    assert row["status"] == "used up" and row["use_count"] == 1
    people = run_cli(data_dir, "identity", "list", "--json").json()
    [person] = [p for p in people["identities"] if p["name"] == "newbie"]  # type: ignore[index]
    assert {a["server"] for a in person["accounts"]} == {"Plex", "Jelly"}


def test_refusals_name_the_reason(env: tuple[DemoPair, Path]) -> None:
    _, data_dir = env
    disabled = _create(data_dir, "--server", "Jelly")
    assert run_cli(data_dir, "invite", "disable", disabled).code == 0
    assert _redeem(data_dir, disabled, "dora")[1]["reason"] == "disabled"
    expiring = _create(data_dir, "--server", "Jelly", "--expires-in", "0.01")  # about 14 minutes
    code, result = _redeem(data_dir, expiring, "erin", clock=lambda: time.time() + 3600)  # an hour later
    assert code == 1 and result["reason"] == "expired"
    code, result = _redeem(data_dir, "NOSUCHCODE", "nina")
    assert code == 1 and result["reason"] == "not found"
    r = run_cli(data_dir, "invite", "redeem", "NOSUCHCODE", "--username", "nina")
    assert r.code == 1 and "not found" in r.out
    assert all(_jelly_user(env[0].jellyfin, n) is None for n in ("dora", "erin", "nina"))
    taken = _create(data_dir, "--server", "Jelly")
    code, result = _redeem(data_dir, taken, env[0].jellyfin.library.users[1].username)
    assert code == 1 and result["reason"] == "username taken"


def test_target_server_down_is_refused_before_anything_is_created(env: tuple[DemoPair, Path]) -> None:
    pair, data_dir = env
    spare = start_demo_server(DemoConfig(kind="jellyfin", tracks=10, seed=9))
    r = run_cli(
        data_dir, "server", "add", "--kind", "jellyfin", "--name", "Spare", "--url", spare.url, "--token-stdin",
        stdin="demo-jellyfin-key\n",
    )  # fmt: skip
    assert r.code == 0, r.err
    code = _create(data_dir, "--server", "Plex", "--server", "Spare")
    spare.stop()
    shares_before = len(pair.plex._ctx.shares)
    status, result = _redeem(data_dir, code, "late")
    assert status == 1 and result["reason"] == "server unavailable"
    assert len(pair.plex._ctx.shares) == shares_before and not _plex_shares(pair.plex, "late")
    assert run_cli(data_dir, "invite", "list", "--json").json()[0]["use_count"] == 0  # type: ignore[index]
    assert run_cli(data_dir, "server", "remove", "Spare").code == 0


def test_disable_enable_delete_accounts_on_both_servers(env: tuple[DemoPair, Path]) -> None:
    pair, data_dir = env
    friend = pair.plex.library.users[2]
    before = _plex_shares(pair.plex, friend.username)
    assert before
    r = run_cli(data_dir, "users", "disable", "--server", "Plex", friend.username, "--json")
    assert r.code == 0, r.out + r.err
    assert not _plex_shares(pair.plex, friend.username)  # shares removed ...
    r = run_cli(data_dir, "users", "sync", "Plex", "--json")
    assert r.code == 0, r.out
    listed = run_cli(data_dir, "users", "--server", "Plex", "--json").json()
    [row] = [u for u in listed if u["username"] == friend.username]  # type: ignore[union-attr,index]
    assert row["is_disabled"] is True  # ... remembered, and still listed as disabled
    r = run_cli(data_dir, "users", "enable", "--server", "Plex", friend.username, "--json")
    assert r.code == 0, r.out
    assert [set(k) for k in _plex_shares(pair.plex, friend.username)] == [set(before[0])]

    jf = pair.jellyfin.library.users[3]
    r = run_cli(data_dir, "users", "disable", "--server", "Jelly", jf.username, "no-such-user", "--json")
    assert r.code == 3  # one done, one unknown: partial
    results = r.json()["results"]  # type: ignore[index]
    assert {x["user"]: x["ok"] for x in results} == {jf.username: True, "no-such-user": False}
    assert _jelly_user(pair.jellyfin, jf.username).is_disabled  # type: ignore[union-attr]
    assert run_cli(data_dir, "users", "enable", "--server", "Jelly", jf.username).code == 0
    assert not _jelly_user(pair.jellyfin, jf.username).is_disabled  # type: ignore[union-attr]
    assert run_cli(data_dir, "users", "delete", "--server", "Jelly", jf.username).code == 0
    assert _jelly_user(pair.jellyfin, jf.username) is None
    names = [u["username"] for u in run_cli(data_dir, "users", "--server", "Jelly", "--json").json()]  # type: ignore[union-attr,index]
    assert jf.username not in names


def test_tasks_list_and_run(env: tuple[DemoPair, Path]) -> None:
    _, data_dir = env
    r = run_cli(data_dir, "tasks", "run", "expire-invitations", "--json")
    assert r.code == 0, r.err
    assert r.json()["status"] == "succeeded"  # type: ignore[index]
    r = run_cli(data_dir, "tasks", "run", "sync-users", "--json")
    assert r.code == 0 and "2 of 2" in r.json()["message"]  # type: ignore[index]
    tasks = {t["name"]: t for t in run_cli(data_dir, "tasks", "list", "--json").json()}  # type: ignore[union-attr]
    assert set(tasks) == {
        "expire-invitations", "sync-users", "expire-accounts", "refresh-stale", "pending-invites", "heartbeat",
        "backup",
    }  # fmt: skip
    assert tasks["expire-invitations"]["last_status"] == "succeeded"
    assert tasks["expire-invitations"]["interval_s"] == 3600
    assert run_cli(data_dir, "tasks", "run", "nope").code == 1
