"""Servers, users, sync runs and settings."""

from __future__ import annotations

import pytest

from app.core.errors import CacheError, NotFoundError, ValidationError
from app.core.models import MergeCounts, RemoteUser, ServerIdentity, ServerKind, SyncStage, SyncStatus
from app.storage import Cache, open_cache
from tests.storage.conftest import add_server


def test_server_add_list_get(cache: Cache) -> None:
    s = add_server(cache, "Home", ServerKind.JELLYFIN)
    assert (s.kind, s.status, s.machine_id, s.version) == (
        ServerKind.JELLYFIN,
        "verified",
        "machine-Home",
        "1.0",
    )
    assert s.created_at > 0 and s.last_verified_at == s.created_at and s.last_synced_at is None
    add_server(cache, "attic")
    assert [x.name for x in cache.servers.list()] == ["attic", "Home"]
    assert cache.servers.get_by_name("Home") == s == cache.servers.get(s.id)


def test_server_name_taken(cache: Cache) -> None:
    add_server(cache, "Home")
    with pytest.raises(ValidationError, match="already exists"):
        add_server(cache, "Home")


def test_server_not_found_names_it(cache: Cache) -> None:
    with pytest.raises(NotFoundError) as err:
        cache.servers.get_by_name("Nope")
    assert "No server named Nope." in err.value.user_message and "zondarr server list" in err.value.remedy
    with pytest.raises(NotFoundError):
        cache.servers.get(42)


def test_server_identity_and_synced(cache: Cache) -> None:
    s = add_server(cache)
    cache.servers.set_identity(s.id, ServerIdentity("new-machine", "x", "2.0", ServerKind.PLEX))
    cache.servers.mark_synced(s.id, 1234.5)
    got = cache.servers.get(s.id)
    assert (got.machine_id, got.version, got.last_synced_at) == ("new-machine", "2.0", 1234.5)


def test_users_replace_counts_and_empty_list_guard(cache: Cache) -> None:
    s = add_server(cache)
    a, b = RemoteUser("1", "ann", "ann@example.org"), RemoteUser("2", "bob", library_keys=("1",))
    assert cache.users.replace_server_users(s.id, [a, b]) == MergeCounts(added=2)
    c = RemoteUser("3", "cy", is_admin=True)
    assert cache.users.replace_server_users(
        s.id, [a, RemoteUser("2", "bob", is_disabled=True), c]
    ) == MergeCounts(added=1, updated=1, unchanged=1)
    assert cache.users.replace_server_users(s.id, []) == MergeCounts()
    assert len(cache.users.list()) == 3  # an empty answer never wipes known accounts
    assert cache.users.replace_server_users(s.id, [c]) == MergeCounts(removed=2, unchanged=1)
    [u] = cache.users.list(server="Home")
    assert (u.username, u.is_admin, u.server, u.seen_at is not None) == ("cy", True, "Home", True)


def test_users_list_filters(cache: Cache) -> None:
    s1, s2 = add_server(cache, "One"), add_server(cache, "Two")
    cache.users.replace_server_users(s1.id, [RemoteUser("1", "Ann_B", "ann@x.org"), RemoteUser("2", "bob")])
    cache.users.replace_server_users(s2.id, [RemoteUser("1", "annie")])
    assert [(u.server, u.username) for u in cache.users.list(search="ANN")] == [
        ("One", "Ann_B"),
        ("Two", "annie"),
    ]
    assert [u.username for u in cache.users.list(search="n_b")] == ["Ann_B"]
    assert [u.username for u in cache.users.list(search="%")] == []
    assert cache.users.list(server="Two", search="bob") == []
    assert cache.users.list(search="x.org")[0].email == "ann@x.org"


def test_sync_runs_lifecycle(cache: Cache) -> None:
    s = add_server(cache)
    run = cache.sync_runs.start(s.id, "cli")
    assert run.id > 0 and run.status is SyncStatus.RUNNING and run.correlation_id
    assert cache.sync_runs.last_finished(s.id) is None
    run.status, run.stage, run.added, run.finished_at, run.message = (
        SyncStatus.PARTIAL, SyncStage.DONE, 7, run.started_at + 2, "1 of 2 succeeded"
    )  # fmt: skip
    cache.sync_runs.save(run)
    assert cache.sync_runs.last_finished(s.id) == run
    second = cache.sync_runs.start(s.id, "manual")
    assert [r.id for r in cache.sync_runs.list()] == [second.id, run.id]
    assert cache.sync_runs.list(limit=1) == [second]


def test_runs_left_running_are_abandoned_on_open(data_dir) -> None:  # type: ignore[no-untyped-def]
    with open_cache(data_dir) as c:
        run = c.sync_runs.start(None, "startup")
    with open_cache(data_dir) as c:
        [again] = c.sync_runs.list()
        assert again.id == run.id and again.status is SyncStatus.FAILED and again.finished_at is not None
        assert "Interrupted" in again.message
        assert c.sync_runs.abandon_running() == 0


def test_settings_roundtrip(cache: Cache) -> None:
    # a new cache holds only its client identifier (random once, kept: see test_client_identity_e2e)
    client_id = cache.settings.load_raw()["client_identifier"]
    assert set(cache.settings.load_raw()) == {"client_identifier"}
    cache.settings.save_raw({"page_size": "200", "verify_tls": "false"})
    cache.settings.save_raw({"page_size": "300"})
    cache.settings.ensure("client_identifier", "another")  # never replaces a stored value
    assert cache.settings.load_raw() == {
        "page_size": "300",
        "verify_tls": "false",
        "client_identifier": client_id,
    }


def test_closed_cache_raises_cache_error(data_dir) -> None:  # type: ignore[no-untyped-def]
    c = open_cache(data_dir)
    c.close()
    with pytest.raises(CacheError):
        c.settings.load_raw()
    with pytest.raises(CacheError):
        c.settings.save_raw({"a": "b"})


def test_a_run_with_counts_beyond_64_bits_is_recorded_clamped(cache: Cache) -> None:
    """A server announcing 10**23 tracks: recording the failed run must not overflow like the sync did."""
    s = add_server(cache)
    run = cache.sync_runs.start(s.id, "cli")
    run.total, run.done, run.failed_items = 10**23, -5, 2**64
    cache.sync_runs.save(run)
    saved = cache.sync_runs.list()[0]
    assert (saved.total, saved.done, saved.failed_items) == (2**63 - 1, 0, 2**63 - 1)
