"""People over time end to end: library access, expiry, the expire-accounts task with its grace period,
reminders by e-mail (the aiosmtpd stand-in), last activity and the history — the real CLI and services over real
HTTP against the demo servers (demo Plex + plex.tv, demo Jellyfin). The demo servers' own state and the SMTP
stand-in's inbox are the oracles; the clock of the expiry task is injected (no sleeping until a date)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from app.core.models import AccountRef
from app.storage import open_cache
from app.wiring import build_context
from tests.e2e.conftest import DemoPair, demo_pair, run_cli
from tests.smtp_standin import SmtpStandIn, smtp_standin

DAY = 86_400.0


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoPair, Path, SmtpStandIn]]:
    data_dir = tmp_path_factory.mktemp("people-time") / "data"
    with demo_pair(tracks=60, libraries=3) as pair, smtp_standin() as smtp:
        pair.add_both(data_dir)
        assert run_cli(data_dir, "sync", "--json").code == 0
        for name, value in (
            ("smtp_host", smtp.host), ("smtp_port", str(smtp.port)), ("smtp_starttls", "false"),
            ("smtp_from", "admin@example.org"),
        ):  # fmt: skip
            assert run_cli(data_dir, "settings", "set", name, value).code == 0
        yield pair, data_dir, smtp


def _libs(pair: DemoPair, kind: str) -> list[tuple[str, str]]:
    server = pair.plex if kind == "plex" else pair.jellyfin
    return [(k, t) for k, t, _ in server.library.music_libraries()]


def _jelly_policy(pair: DemoPair, name: str) -> dict:  # type: ignore[type-arg]
    """The policy the demo Jellyfin holds (a user never changed has the one derived from its library keys)."""
    user = next(u for u in pair.jellyfin._ctx.users if u.username == name)
    stored = pair.jellyfin._ctx.policies.get(user.jellyfin_id)
    if stored is not None:
        return stored
    return {"EnableAllFolders": user.library_keys is None, "EnabledFolders": list(user.library_keys or ())}


def _jelly_folders(pair: DemoPair, name: str) -> set[str] | None:
    policy = _jelly_policy(pair, name)
    return None if policy["EnableAllFolders"] else set(policy["EnabledFolders"])


def _plex_shares(pair: DemoPair, who: str) -> list[set[str]]:
    return [set(s.section_keys) for s in pair.plex._ctx.shares if who in (s.username, s.email)]


def _user_rows(data_dir: Path, server: str) -> dict[str, dict]:  # type: ignore[type-arg]
    rows = run_cli(data_dir, "users", "--server", server, "--json").json()
    return {r["username"]: r for r in rows}  # type: ignore[union-attr,index]


def _redeem(data_dir: Path, name: str, *args: str) -> None:
    r = run_cli(data_dir, "invite", "create", "--server", "Plex", "--server", "Jelly", *args, "--json")
    assert r.code == 0, r.err
    code = r.json()["code"]  # type: ignore[index]
    r = run_cli(
        data_dir, "invite", "redeem", code, "--username", name, "--email", f"{name}@example.com",
        "--password-stdin", "--json", stdin="pw-secret-1\n",
    )  # fmt: skip
    assert r.code == 0, r.out + r.err


def test_access_of_one_account_on_jellyfin_and_plex(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, _ = env
    jlibs, plibs = _libs(pair, "jellyfin"), _libs(pair, "plex")
    jname = pair.jellyfin.library.users[2].username
    assert _jelly_folders(pair, jname) is None  # every library before
    r = run_cli(
        data_dir, "users", "access", "--server", "Jelly", jname, "--library", jlibs[0][1], "--library", jlibs[2][0],
        "--json",
    )  # fmt: skip
    assert r.code == 0, r.out + r.err
    assert r.json()["results"][0]["ok"] is True  # type: ignore[index]
    assert _jelly_folders(pair, jname) == {jlibs[0][0], jlibs[2][0]}  # exactly the new libraries
    assert _jelly_policy(pair, jname)["AuthenticationProviderId"]  # read-modify-write kept the rest

    friend = pair.plex.library.users[2]
    r = run_cli(
        data_dir, "users", "access", "--server", "Plex", friend.username, "--library", plibs[1][1], "--json"
    )
    assert r.code == 0, r.out + r.err
    assert _plex_shares(pair, friend.username) == [{plibs[1][0]}]
    r = run_cli(data_dir, "users", "access", "--server", "Plex", friend.username, "--all-libraries")
    assert r.code == 0, r.out + r.err
    assert _plex_shares(pair, friend.username) == [{"1"} | {k for k, _ in plibs}]  # every section, Movies too

    bad = run_cli(data_dir, "users", "access", "--server", "Jelly", jname, "--library", "No Such Library")
    assert bad.code == 2 and "Pick one of" in bad.err  # a usage error: nothing was tried
    partial = run_cli(
        data_dir, "users", "access", "--server", "Jelly", jname, "ghost", "--all-libraries", "--json"
    )
    assert partial.code == 3 and _jelly_folders(pair, jname) is None


def test_access_of_an_identity(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, _ = env
    jlibs, plibs = _libs(pair, "jellyfin"), _libs(pair, "plex")
    _redeem(data_dir, "tina")
    r = run_cli(
        data_dir, "identity", "access", "tina", f"Plex:{plibs[2][1]}", f"Jelly:{jlibs[0][1]}", f"Jelly:{jlibs[1][0]}",
        "--json",
    )  # fmt: skip
    assert r.code == 0, r.out + r.err
    assert _plex_shares(pair, "tina") == [{plibs[2][0]}]
    assert _jelly_folders(pair, "tina") == {jlibs[0][0], jlibs[1][0]}
    shown = run_cli(data_dir, "identity", "show", "tina", "--json").json()
    grid = {row["server"]: {c["library"] for c in row["libraries"] if c["access"]} for row in shown}  # type: ignore[union-attr,index]
    assert grid == {"Plex": {plibs[2][1]}, "Jelly": {jlibs[0][1], jlibs[1][1]}}
    assert run_cli(data_dir, "identity", "access", "tina", "Nowhere:x").code == 1


def test_expiry_set_extend_and_clear_in_bulk(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, _ = env
    names = [u.username for u in pair.jellyfin.library.users[1:3]]
    before = time.time()
    r = run_cli(data_dir, "users", "expire", "--server", "Jelly", *names, "--in", "10", "--json")
    assert r.code == 0, r.out + r.err
    rows = _user_rows(data_dir, "Jelly")
    for n in names:
        assert before + 10 * DAY <= rows[n]["expires_at"] <= time.time() + 10 * DAY
    first = rows[names[0]]["expires_at"]
    assert run_cli(data_dir, "users", "expire", "--server", "Jelly", *names, "--extend", "5").code == 0
    assert _user_rows(data_dir, "Jelly")[names[0]]["expires_at"] == pytest.approx(first + 5 * DAY)
    assert run_cli(data_dir, "users", "expire", "--server", "Jelly", *names, "--never").code == 0
    assert [_user_rows(data_dir, "Jelly")[n]["expires_at"] for n in names] == [None, None]
    r = run_cli(data_dir, "users", "expire", "--server", "Jelly", names[0], "--on", "2001-01-01")
    assert r.code == 2 and "not in the future" in r.err
    with pytest.raises(SystemExit) as usage:  # no mode: argparse refuses it
        run_cli(data_dir, "users", "expire", "--server", "Jelly", names[0])
    assert usage.value.code == 2


def test_expiry_task_reminders_and_grace_period(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, smtp = env
    _redeem(data_dir, "ursula")
    plex_friend = pair.plex.library.users[1]  # has an e-mail address on plex.tv
    jelly_only = pair.jellyfin.library.users[
        1
    ].username  # Jellyfin lists no e-mail and it is linked to no one
    assert run_cli(data_dir, "identity", "expire", "ursula", "--in", "10").code == 0
    assert (
        run_cli(data_dir, "users", "expire", "--server", "Plex", plex_friend.username, "--in", "10").code == 0
    )
    assert run_cli(data_dir, "users", "expire", "--server", "Jelly", jelly_only, "--in", "10").code == 0
    for name, value in (("expiry_action", "disable-then-delete"), ("delete_after_days", "30")):
        assert run_cli(data_dir, "settings", "set", name, value).code == 0
    expires = _user_rows(data_dir, "Jelly")[jelly_only]["expires_at"]
    smtp.inbox.messages.clear()
    now = [time.time()]
    ctx = build_context(data_dir, clock=lambda: now[0])
    try:
        while now[0] < expires + 2 * DAY:  # every 6 hours until two days after the day
            asyncio.run(ctx.people.expiry.run())
            now[0] += 6 * 3600
        got = sorted(m.recipients[0] for m in smtp.inbox.messages)
        assert got == ["ursula@example.com"] * 4 + [plex_friend.email] * 2  # 7 and 1 days, once each
        day = datetime.fromtimestamp(expires).astimezone().date().isoformat()
        assert all(day in str(m.message["Subject"]) for m in smtp.inbox.messages)
        assert all(day in m.message.get_payload(decode=True).decode() for m in smtp.inbox.messages)
        # disabled on the day, on both kinds of server
        assert next(u for u in pair.jellyfin._ctx.users if u.username == jelly_only).is_disabled
        assert next(u for u in pair.jellyfin._ctx.users if u.username == "ursula").is_disabled
        assert _plex_shares(pair, "ursula") == [] and _plex_shares(pair, plex_friend.username) == []
        # deleted only after the grace period, and only once the admin confirms
        now[0] = expires + 29 * DAY
        asyncio.run(ctx.people.expiry.run())
        assert ctx.people.expiry.pending_deletions() == []
        now[0] = expires + 31 * DAY
        report = asyncio.run(ctx.people.expiry.run())
        assert report.deleted == 0 and report.awaiting_confirmation == 4
        assert any(u.username == jelly_only for u in pair.jellyfin._ctx.users)
        jelly = ctx.server_store.get_by_name("Jelly")
        [pending] = [
            p
            for p in ctx.people.expiry.pending_deletions()
            if p.server_id == jelly.id
            and p.remote_id
            == next(u.jellyfin_id for u in pair.jellyfin._ctx.users if u.username == jelly_only)
        ]
        out = asyncio.run(
            ctx.people.expiry.confirm_deletions([AccountRef(pending.server_id, pending.remote_id)])
        )
        assert [o.ok for o in out] == [True]
        assert not any(u.username == jelly_only for u in pair.jellyfin._ctx.users)
    finally:
        ctx.close()
    # headless, the same confirmation: the three left disabled 31 (fake) days ago are not past it in real time
    listed = run_cli(data_dir, "users", "expired", "--json")
    assert listed.code == 0 and listed.json() == []
    for name in ("expiry_action", "delete_after_days"):
        assert run_cli(data_dir, "settings", "unset", name).code == 0
    history = run_cli(data_dir, "users", "history", "--server", "Jelly", jelly_only, "--json").json()
    actions = [e["action"] for e in history]  # type: ignore[union-attr,index]
    assert actions[:3] == ["deleted", "disabled", "reminder sent"] and "expiry set" in actions
    reminder = next(e for e in history if e["action"] == "reminder sent")  # type: ignore[union-attr]
    assert reminder["ok"] and "mailed" not in reminder["message"]  # no address: no mail
    timeline = run_cli(data_dir, "identity", "history", "ursula", "--json").json()
    seen = {(e["server"], e["action"], e["trigger"]) for e in timeline}  # type: ignore[union-attr,index]
    for server in ("Plex", "Jelly"):
        assert {(server, "created", "invitation"), (server, "expiry set", "admin"), (server, "reminder sent", "task"),
                (server, "disabled", "task")} <= seen  # fmt: skip


def test_last_activity_and_the_inactive_filter(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, _ = env
    now = time.time()
    for server in (pair.jellyfin, pair.plex):
        for u in server._ctx.users:
            server._ctx.activity[u.username] = now - 3600
    sleeper = pair.jellyfin.library.users[2].username
    pair.jellyfin._ctx.activity[sleeper] = now - 100 * DAY
    plex_sleeper = pair.plex.library.users[4].username
    pair.plex._ctx.activity[plex_sleeper] = now - 45 * DAY
    assert run_cli(data_dir, "users", "sync", "--json").code == 0
    rows = _user_rows(data_dir, "Jelly")
    assert rows[sleeper]["last_active_at"] == pytest.approx(now - 100 * DAY, abs=1)
    inactive = run_cli(data_dir, "users", "--inactive-days", "30", "--json").json()
    assert {(u["server"], u["username"]) for u in inactive} == {("Jelly", sleeper), ("Plex", plex_sleeper)}  # type: ignore[index]
    inactive = run_cli(data_dir, "users", "--inactive-days", "60", "--json").json()
    assert [u["username"] for u in inactive] == [sleeper]  # type: ignore[union-attr,index]
    r = run_cli(data_dir, "users", "disable", "--server", "Jelly", sleeper, "--json")
    assert r.code == 0 and next(u for u in pair.jellyfin._ctx.users if u.username == sleeper).is_disabled


def test_restrictions_applied_at_redemption_and_again_later(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, _ = env
    _redeem(data_dir, "vera", "--max-sessions", "2", "--no-downloads", "--no-remote")
    policy = _jelly_policy(pair, "vera")
    assert (policy["MaxActiveSessions"], policy["EnableContentDownloading"], policy["EnableRemoteAccess"]) == (
        2, False, False,
    )  # fmt: skip
    [share] = [s for s in pair.plex._ctx.shares if "vera" in (s.username, s.email)]
    assert share.allow_sync is False  # Plex has "allow downloads" only; sessions and remote are left out
    r = run_cli(
        data_dir,
        "users",
        "restrict",
        "--server",
        "Jelly",
        "vera",
        "--max-sessions",
        "3",
        "--downloads",
        "--json",
    )
    assert r.code == 0, r.out + r.err
    policy = _jelly_policy(pair, "vera")
    assert (policy["MaxActiveSessions"], policy["EnableContentDownloading"], policy["EnableRemoteAccess"]) == (
        3, True, False,
    )  # fmt: skip
    friend = pair.plex.library.users[2]
    r = run_cli(
        data_dir, "users", "restrict", "--server", "Plex", friend.username, "--no-downloads", "--json"
    )
    assert r.code == 0, r.out + r.err
    assert [s.allow_sync for s in pair.plex._ctx.shares if s.username == friend.username] == [False]
    refused = run_cli(
        data_dir, "users", "restrict", "--server", "Plex", friend.username, "--max-sessions", "1", "--json"
    )
    assert refused.code == 1
    [result] = refused.json()["results"]  # type: ignore[index]
    assert result["reason"] == "not supported" and "limit active sessions" in result["message"]
    with pytest.raises(SystemExit):  # argparse refuses more than 100 sessions (the service does too)
        run_cli(data_dir, "users", "restrict", "--server", "Jelly", "vera", "--max-sessions", "1000")
    with pytest.raises(SystemExit):  # argparse refuses an out-of-range limit
        run_cli(data_dir, "users", "history", "--limit", "0")
    text = run_cli(data_dir, "users", "history", "--server", "Jelly", "vera")
    assert text.code == 0 and "restrictions set" in text.out and "created" in text.out
    actions = [e["action"] for e in run_cli(data_dir, "identity", "history", "vera", "--json").json()]  # type: ignore[union-attr,index]
    assert actions.count("restrictions set") == 1 and actions.count("created") == 2


def test_headless_confirmation_of_expired_accounts(env: tuple[DemoPair, Path, SmtpStandIn]) -> None:
    pair, data_dir, _ = env
    victim = pair.jellyfin.library.users[3].username
    [row] = [
        u for u in run_cli(data_dir, "users", "--server", "Jelly", "--json").json() if u["username"] == victim
    ]  # type: ignore[union-attr,index]
    with open_cache(data_dir) as cache:  # it expired 40 days ago and the task disabled it then
        server = cache.servers.get_by_name("Jelly")
        ref = AccountRef(server.id, row["id"])
        cache.expiry.set_expiry([(ref, time.time() - 40 * DAY)])
        cache.expiry.mark_disabled(ref, time.time() - 40 * DAY)
    assert run_cli(data_dir, "users", "expired", "--json").json() == []  # default action: disable only
    assert run_cli(data_dir, "settings", "set", "expiry_action", "disable-then-delete").code == 0
    try:
        listed = run_cli(data_dir, "users", "expired", "--json").json()
        assert [(r["server"], r["username"]) for r in listed] == [("Jelly", victim)]  # type: ignore[index,union-attr]
        assert any(u.username == victim for u in pair.jellyfin._ctx.users)  # nothing deleted by listing
        r = run_cli(data_dir, "users", "expired", "--delete", "--json")
        assert r.code == 0 and r.json()["results"][0]["ok"] is True  # type: ignore[index]
        assert not any(u.username == victim for u in pair.jellyfin._ctx.users)
        assert run_cli(data_dir, "users", "expired", "--json").json() == []
    finally:
        assert run_cli(data_dir, "settings", "unset", "expiry_action").code == 0
