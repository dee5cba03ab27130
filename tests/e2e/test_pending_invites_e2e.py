"""Plex invitations tracked until accepted, and Jellyfin accounts without a password, end to end: the real CLI
over real HTTP against the demo Plex + plex.tv and the demo Jellyfin. The demo servers' own state is the oracle;
the invitee's answer to the e-mail from Plex comes through the demo plex.tv's loopback control endpoint."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import DemoPair, demo_pair, run_cli

DAY = 86_400


def _invitee(pair: DemoPair, op: str, who: str) -> int:
    req = urllib.request.Request(
        f"{pair.plex.url}/zondarr-demo/invites",
        data=json.dumps({"op": op, "who": who}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Plex-Token": "demo-plex-token"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # loopback demo plex.tv
        return int(resp.status)


def _pending_shares(pair: DemoPair) -> dict[str, int]:
    return {s.email: s.id for s in pair.plex._ctx.shares if s.pending}


def _user(data_dir: Path, server: str, who: str) -> dict[str, object] | None:
    users = run_cli(data_dir, "users", "--server", server, "--json").json()
    assert isinstance(users, list)
    return next((u for u in users if who in (u["username"], u["email"])), None)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoPair, Path, str, str]]:
    data_dir = tmp_path_factory.mktemp("pending") / "data"
    with demo_pair(tracks=20, users=3) as pair:
        pair.add_both(data_dir)
        assert run_cli(data_dir, "sync").code == 0
        plex_code = run_cli(
            data_dir, "invite", "create", "--server", "Plex", "--max-uses", "10", "--json"
        ).json()
        jelly_code = run_cli(data_dir, "invite", "create", "--server", "Jelly", "--json").json()
        yield pair, data_dir, plex_code["code"], jelly_code["code"]  # type: ignore[index]


def test_plex_redemption_is_pending_until_accepted(env: tuple[DemoPair, Path, str, str]) -> None:
    pair, data_dir, code, _ = env
    r = run_cli(data_dir, "invite", "redeem", code, "--username", "ana@example.org", "--json")
    assert r.code == 0, r.out
    assert "pending on plex.tv" in r.json()["servers"][0]["message"]  # type: ignore[index]
    assert "ana@example.org" in _pending_shares(pair)
    assert run_cli(data_dir, "users", "sync", "Plex").code == 0
    ana = _user(data_dir, "Plex", "ana@example.org")
    assert ana is not None and isinstance(ana["pending_since"], float)
    listed = run_cli(data_dir, "users", "pending", "--json").json()
    assert [u["email"] for u in listed] == ["ana@example.org"]  # type: ignore[union-attr, index]
    text = run_cli(data_dir, "users", "pending").out
    assert "ana@example.org" in text and "pending on plex.tv since" in text

    assert _invitee(pair, "accept", "ana@example.org") == 200
    assert run_cli(data_dir, "users", "sync", "Plex").code == 0
    ana_now = _user(data_dir, "Plex", "ana@example.org")
    assert ana_now is not None and ana_now["pending_since"] is None and ana_now["id"] == ana["id"]
    assert run_cli(data_dir, "users", "pending", "--json").json() == []
    r = run_cli(data_dir, "users", "resend", "--server", "Plex", str(ana_now["id"]))
    assert r.code == 1 and "no pending invitation" in r.out


def test_resend_makes_the_invitation_again_and_cancel_removes_it(
    env: tuple[DemoPair, Path, str, str],
) -> None:
    pair, data_dir, code, _ = env
    assert run_cli(data_dir, "invite", "redeem", code, "--username", "bo@example.org").code == 0
    assert run_cli(data_dir, "users", "sync", "Plex").code == 0
    before = _pending_shares(pair)["bo@example.org"]
    r = run_cli(data_dir, "users", "resend", "--server", "Plex", "bo@example.org", "--json")
    assert r.code == 0, r.out
    assert r.json()["results"][0]["message"] == "Plex: sent the invitation to bo@example.org again."  # type: ignore[index]
    again = _pending_shares(pair)
    assert "bo@example.org" in again and again["bo@example.org"] != before  # a new share: plex.tv mails anew
    history = run_cli(data_dir, "users", "history", "--json").json()
    assert any(e["action"] == "invitation sent again" for e in history)  # type: ignore[union-attr, index]

    r = run_cli(data_dir, "users", "cancel", "--server", "Plex", "bo@example.org")
    assert r.code == 0, r.out
    assert "bo@example.org" not in _pending_shares(pair)
    assert _user(data_dir, "Plex", "bo@example.org") is None
    assert run_cli(data_dir, "users", "sync", "Plex").code == 0
    assert _user(data_dir, "Plex", "bo@example.org") is None


def test_old_invitations_are_offered_never_cancelled_by_the_task(
    env: tuple[DemoPair, Path, str, str],
) -> None:
    pair, data_dir, code, _ = env
    assert run_cli(data_dir, "invite", "redeem", code, "--username", "cy@example.org").code == 0
    ctx = pair.plex._ctx
    with ctx.lock:  # invited 40 days ago
        ctx.shares = [
            dataclasses.replace(s, invited_at=s.invited_at - 40 * DAY) if s.email == "cy@example.org" else s
            for s in ctx.shares
        ]
    assert run_cli(data_dir, "users", "sync", "Plex").code == 0
    old = run_cli(data_dir, "users", "pending", "--older-than", "30", "--json").json()
    assert [u["email"] for u in old] == ["cy@example.org"]  # type: ignore[union-attr, index]
    r = run_cli(data_dir, "tasks", "run", "pending-invites", "--json")
    assert r.code == 0 and "cy@example.org" in r.json()["message"]  # type: ignore[index]
    assert "cy@example.org" in _pending_shares(pair)  # offered, not cancelled
    with pytest.raises(SystemExit) as usage:
        run_cli(data_dir, "users", "pending", "--older-than", "1e400")
    assert usage.value.code == 2


def test_preflight_says_when_plex_tv_wants_a_verified_email(env: tuple[DemoPair, Path, str, str]) -> None:
    pair, data_dir, code, _ = env
    pair.plex._ctx.account_confirmed = False
    try:
        r = run_cli(data_dir, "invite", "check", code, "--username", "dee@example.org")
        assert r.code == 1 and "e-mail address is verified" in r.out
    finally:
        pair.plex._ctx.account_confirmed = True


def test_jellyfin_account_with_quick_connect_has_no_known_password(
    env: tuple[DemoPair, Path, str, str],
) -> None:
    pair, data_dir, _, code = env
    qc = pair.jellyfin._ctx.quick_connect
    qc.enabled = False
    try:
        r = run_cli(data_dir, "invite", "check", code, "--username", "kim", "--quick-connect")
        assert r.code == 1 and "Quick Connect is turned off" in r.out
    finally:
        qc.enabled = True
    r = run_cli(data_dir, "invite", "redeem", code, "--username", "kim", "--quick-connect", "--json")
    assert r.code == 0, r.out
    kim = next(u for u in pair.jellyfin._ctx.users if u.username == "kim")
    password = pair.jellyfin._ctx.passwords[kim.jellyfin_id]
    assert len(password) >= 32 and password not in r.out + r.err
    assert password not in (data_dir / "cache.sqlite3").read_bytes().decode("latin-1")
    started = qc.initiate('MediaBrowser Client="Jellyfin", Device="TV", DeviceId="tv", Version="10.11"')
    assert started is not None
    assert run_cli(data_dir, "users", "sync", "Jelly").code == 0
    r = run_cli(data_dir, "users", "quick-connect", "--server", "Jelly", "kim", started.code)
    assert r.code == 0, r.out
    assert qc.by_secret(started.secret).user_id == kim.jellyfin_id  # type: ignore[union-attr]
