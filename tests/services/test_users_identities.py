"""User actions, user sync and discrepancies, identities: pure classifiers (hypothesis) and the services over a
real cache with fake servers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.models import AccountRef, User
from app.services.identities import suggest_links
from app.services.users import classify
from tests.services.people_fakes import PLEX_LIKE, AccountServer, Harness

ids = st.sets(st.text("abcdef0123", min_size=1, max_size=3), max_size=15)


@given(listed=ids, known=ids, excluded=ids)
def test_classify_orphaned_and_stale_for_any_sets(
    listed: set[str], known: set[str], excluded: set[str]
) -> None:
    found = classify(listed, known, excluded)
    for rid in listed | known | excluded:
        assert (rid in found.orphaned) == (rid in listed and rid not in known and rid not in excluded)
        assert (rid in found.stale) == (rid in known and rid not in listed)
    assert not found.orphaned & found.stale


def _user(i: int, server_id: int, name: str, email: str | None, identity: int | None = None) -> User:
    return User(i, server_id, f"S{server_id}", str(i), name, email, False, False, identity)


def test_suggest_links_by_email_then_username() -> None:
    users = [
        _user(1, 1, "ann", "ANN@x.org"),
        _user(2, 2, "annie", "ann@x.org"),
        _user(3, 1, "bob", None),
        _user(4, 2, "Bob", None),
        _user(5, 1, "cy", None),
        _user(6, 1, "cy2", None),
        _user(7, 2, "dee", None, identity=3),
        _user(8, 1, "dee", None),
    ]
    found = {(s.by, s.key): sorted(u.id for u in s.accounts) for s in suggest_links(users)}
    assert found == {("email", "ann@x.org"): [1, 2], ("username", "bob"): [3, 4]}


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    jelly = AccountServer()
    plex = AccountServer(capabilities=PLEX_LIKE)
    harness = Harness(tmp_path / "data", {"Jelly": jelly, "Plex": plex})
    jelly.add("owner", admin=True)
    plex.add("owner", admin=True)
    yield harness
    harness.close()


def _sync(h: Harness) -> None:
    reports = asyncio.run(h.people.users.sync_all())
    assert all(r.ok for r in reports), reports


def test_disable_enable_delete_with_per_account_results(h: Harness) -> None:
    ann = h.servers["Jelly"].add("ann")
    bea = h.servers["Plex"].add("bea", ("1", "3"))
    _sync(h)
    users = h.people.users
    out = asyncio.run(users.act("disable", "Jelly", ["ann", "ghost"]))
    assert [(o.user, o.ok) for o in out] == [("ghost", False), ("ann", True)]
    assert h.servers["Jelly"].users[ann.remote_id].is_disabled

    [o] = asyncio.run(users.act("disable", "Plex", ["bea"]))  # no disabled state: shares removed, remembered
    assert o.ok and bea.remote_id not in h.servers["Plex"].users
    assert h.cache.shares.recall(h.cache.servers.get_by_name("Plex").id, bea.remote_id).library_keys == (
        "1",
        "3",
    )  # type: ignore[union-attr]
    [o] = asyncio.run(users.act("enable", "Plex", ["bea"]))
    assert o.ok and h.servers["Plex"].users[bea.remote_id].library_keys == ("1", "3")

    h.servers["Jelly"].down = True
    [o] = asyncio.run(users.act("enable", "Jelly", ["ann"]))
    assert not o.ok and o.reason == "server unavailable"
    h.servers["Jelly"].down = False
    [o] = asyncio.run(users.act("delete", "Jelly", ["ann"]))
    assert o.ok and ann.remote_id not in h.servers["Jelly"].users
    jelly_id = h.cache.servers.get_by_name("Jelly").id
    assert h.cache.exclusions.excluded(jelly_id) == {ann.remote_id}  # never re-imported


def test_zero_users_leaves_local_data_untouched(h: Harness) -> None:
    h.servers["Jelly"].add("ann")
    _sync(h)
    before = h.cache.users.list("Jelly")
    h.servers["Jelly"].users.clear()
    [report] = [r for r in asyncio.run(h.people.users.sync_all()) if r.server == "Jelly"]
    assert report.ok and report.untouched and "kept" in report.message
    assert h.cache.users.list("Jelly") == before


def test_one_failing_server_does_not_stop_user_sync(h: Harness) -> None:
    h.servers["Plex"].add("bea")
    h.servers["Jelly"].down = True
    reports = {r.server: r for r in asyncio.run(h.people.users.sync_all())}
    assert not reports["Jelly"].ok and reports["Plex"].ok
    assert [u.username for u in h.cache.users.list("Plex") if not u.is_admin] == ["bea"]


def test_discrepancies_and_identities(h: Harness) -> None:
    ann_j = h.servers["Jelly"].add("ann")
    ann_p = h.servers["Plex"].add("ann", ("2",))
    h.servers["Jelly"].add("orphan")
    _sync(h)
    ids = h.people.identities
    [s] = ids.suggestions()
    assert {u.server for u in s.accounts} == {"Jelly", "Plex"}
    refs = ids.resolve(["Jelly:ann", "Plex:ann"])
    person = asyncio.run(ids.link("Ann", refs))
    assert ids.suggestions() == []
    [view] = ids.views()
    assert view.identity.id == person.id and {u.server for u in view.accounts} == {"Jelly", "Plex"}
    grid = {r.server: dict(r.libraries) for r in ids.grid("Ann")}
    assert grid == {
        "Jelly": {"Lib 1": True, "Lib 2": True, "Lib 3": True},
        "Plex": {"Lib 1": False, "Lib 2": True, "Lib 3": False},
    }
    orphaned, stale = h.people.users.discrepancies("Jelly")
    assert [u.username for u in orphaned] == ["orphan"] and stale == []
    del h.servers["Jelly"].users[ann_j.remote_id]  # gone from the server behind Zondarr's back
    _sync(h)
    orphaned, stale = h.people.users.discrepancies("Jelly")
    jelly_id = h.cache.servers.get_by_name("Jelly").id
    assert stale == [AccountRef(jelly_id, ann_j.remote_id)]  # kept for review, nothing deleted
    outcomes = asyncio.run(ids.act("Ann", "disable"))
    assert {o.server: o.ok for o in outcomes} == {"Plex": True, "Jelly": False}  # Jelly's account is gone
    assert ann_p.remote_id not in h.servers["Plex"].users
