"""Account expiry, sent reminders, history and last activity on a real SQLite file, and the v8 migration that
seeds expiry from the redemptions' account durations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.core.models import (
    AccountEvent,
    AccountRef,
    InvitationTarget,
    NewInvitation,
    RemoteUser,
    Restrictions,
)
from app.storage.cache import Cache
from app.storage.schema import LATEST, migrate
from tests.storage.conftest import add_server


def test_expiry_set_due_disable_clear_and_rearm(cache: Cache) -> None:
    s = add_server(cache, "Jelly")
    a, b = AccountRef(s.id, "a"), AccountRef(s.id, "b")
    cache.expiry.set_expiry([(a, 100.0), (b, 200.0)])
    assert [e.remote_id for e in cache.expiry.due(150.0)] == ["a"]
    cache.expiry.mark_disabled(a, 150.0)
    assert cache.expiry.due(150.0) == []
    assert [e.remote_id for e in cache.expiry.disabled_before(150.0)] == ["a"]
    cache.expiry.set_expiry([(a, 300.0)])  # a new date re-arms the account
    assert cache.expiry.expiries()[a].disabled_at is None and cache.expiry.disabled_before(1e9) == []
    cache.expiry.set_expiry([(b, None)])
    assert set(cache.expiry.expiries(s.id)) == {a}


def test_reminders_are_recorded_once_and_forgotten_with_the_account(cache: Cache) -> None:
    s = add_server(cache, "Jelly")
    a = AccountRef(s.id, "a")
    assert cache.expiry.record_reminder(a, 100.0, 7, mailed=True)
    assert not cache.expiry.record_reminder(a, 100.0, 7, mailed=False)
    assert cache.expiry.record_reminder(a, 200.0, 7, mailed=False)  # a new expiry date has its own reminders
    assert cache.expiry.reminders_sent() == {(a, 100.0, 7), (a, 200.0, 7)}
    cache.expiry.forget(a)
    assert cache.expiry.reminders_sent() == set()


def test_history_by_account_and_by_person_keeps_the_server_name(cache: Cache) -> None:
    s = add_server(cache, "Jelly")
    cache.users.replace_server_users(s.id, [RemoteUser("a", "ann"), RemoteUser("b", "bob")])
    person = cache.identities.create("Ann", None)
    cache.identities.link(person.id, [AccountRef(s.id, "a")])
    ev = [
        AccountEvent(1.0, "Jelly", "a", "ann", "created", "invitation", True, "", s.id),
        AccountEvent(2.0, "Jelly", "b", "bob", "disabled", "admin", False, "down", s.id),
        AccountEvent(3.0, "Jelly", "a", "ann", "expiry set", "admin", True, "2027-01-01", s.id),
    ]
    cache.history.record(ev)
    assert [e.at for e in cache.history.list()] == [3.0, 2.0, 1.0]
    assert [e.action for e in cache.history.list(identity_id=person.id)] == ["expiry set", "created"]
    assert [e.username for e in cache.history.list(server_id=s.id, remote_id="b")] == ["bob"]
    cache.servers.remove(s.id)
    kept = cache.history.list()
    assert len(kept) == 3 and {e.server for e in kept} == {"Jelly"} and {e.server_id for e in kept} == {None}


def test_last_activity_and_expiry_reach_the_user_rows(cache: Cache) -> None:
    s = add_server(cache, "Jelly")
    cache.users.replace_server_users(
        s.id, [RemoteUser("a", "ann", last_active_at=50.0), RemoteUser("b", "bob")]
    )
    cache.expiry.set_expiry([(AccountRef(s.id, "a"), 99.0)])
    rows = {u.username: u for u in cache.users.list()}
    assert (rows["ann"].last_active_at, rows["ann"].expires_at) == (50.0, 99.0)
    assert (rows["bob"].last_active_at, rows["bob"].expires_at) == (None, None)
    counts = cache.users.replace_server_users(
        s.id, [RemoteUser("a", "ann", last_active_at=60.0), RemoteUser("b", "bob")]
    )
    assert counts.updated == 1 and cache.accounts.find(s.id, "ann").last_active_at == 60.0  # type: ignore[union-attr]
    cache.accounts.set_library_access(s.id, "a", ("k1",))
    assert cache.accounts.library_access(s.id)["a"] == ("k1",)


def test_invitation_restrictions_round_trip(cache: Cache) -> None:
    s = add_server(cache, "Jelly")
    limits = Restrictions(max_sessions=2, allow_downloads=False)
    inv = cache.invitations.create(
        NewInvitation("RSTRCTNS22", (InvitationTarget(s.id, s.name),), restrictions=limits)
    )
    assert inv.restrictions == limits and cache.invitations.get(inv.id).restrictions == limits  # type: ignore[union-attr]


def test_v8_seeds_expiry_from_redemptions(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "cache.sqlite3", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    assert migrate(conn, 7) == 7  # the file as it was before account expiry existed
    conn.execute(
        "INSERT INTO servers(id, name, kind, url, auth_method, created_at) VALUES (1, 'Jelly', 'jellyfin', "
        "'http://127.0.0.1:8096', 'api_key', 0)"
    )
    conn.execute("INSERT INTO invitations(id, code, created_at) VALUES (1, 'SEEDSEED22', 0)")
    for name, rid, expires, status in (("ann", "a", 500.0, "ok"), ("old", "o", 400.0, "expired"),
                                       ("bob", "b", None, "ok"), ("rolled", "r", 300.0, "rolled_back")):  # fmt: skip
        conn.execute(
            "INSERT INTO redemptions(invitation_id, server_id, username, redeemed_at, expires_at, status, remote_id) "
            "VALUES (1, 1, ?, 0, ?, ?, ?)",
            (name, expires, status, rid),
        )
    assert migrate(conn) == LATEST
    rows = sorted(conn.execute("SELECT remote_id, expires_at, disabled_at FROM account_expiry").fetchall())
    conn.close()
    assert rows == [("a", 500.0, None), ("o", 400.0, 400.0)]
