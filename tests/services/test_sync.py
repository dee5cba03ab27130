"""SyncService against fake media servers and the real SQLite cache: the sync contract of DESIGN §4."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

from app.core.errors import AlreadyRunning, AuthFailed
from app.core.models import AlbumRecord, SyncStage, SyncStatus
from app.core.progress import CancelToken, JobProgress
from app.services.sync import SyncJobResult
from tests.services.conftest import SyncHarness
from tests.services.fakes import FakeMediaServer, fail_with, make_tracks, server_error


def test_first_sync_caches_every_track_and_reports_progress(harness: SyncHarness) -> None:
    reports: list[JobProgress] = []
    result = harness.run(progress=reports.append)
    assert result.status is SyncStatus.SUCCEEDED, result.summary
    assert result.exit_code == 0
    assert result.counts.added == 68
    assert len(harness.snapshot()) == 68
    fetching = [r for r in reports if r.stage is SyncStage.FETCHING and r.total]
    assert [r.done for r in fetching] == sorted(r.done for r in fetching)
    assert reports[-1].done == reports[-1].total == 68
    run = harness.cache.sync_runs.list()[0]
    assert run.status is SyncStatus.SUCCEEDED and run.added == 68 and run.finished_at is not None


def test_unchanged_resync_writes_nothing(harness: SyncHarness) -> None:
    harness.run()
    before = harness.snapshot()
    result = harness.run()
    assert (result.counts.added, result.counts.updated, result.counts.removed) == (0, 0, 0)
    assert result.counts.unchanged == 68
    assert harness.snapshot() == before


def test_changed_and_vanished_tracks_are_merged(harness: SyncHarness) -> None:
    harness.run()
    fake = harness.fakes["Plex"]
    lib = fake.libraries["1"]
    lib[0] = dataclasses.replace(lib[0], title="Renamed")
    del lib[5]
    result = harness.run()
    assert (result.counts.added, result.counts.updated, result.counts.removed) == (0, 1, 1)
    titles = {t["title"] for t in harness.snapshot()}
    assert "Renamed" in titles and len(harness.snapshot()) == 67


def test_page_failing_after_retries_fails_the_run_and_keeps_the_cache(harness: SyncHarness) -> None:
    harness.run()
    before = harness.snapshot()
    fake = harness.fakes["Plex"]
    fake.libraries["1"][0] = dataclasses.replace(fake.libraries["1"][0], title="Would change")
    fake.faults[("fetch_tracks", 20)] = fail_with(server_error)
    fake.calls.clear()
    result = harness.run()
    assert result.status is SyncStatus.FAILED and result.exit_code == 1
    assert harness.snapshot() == before
    attempts = [c for c in fake.calls if c == ("fetch_tracks", 20)]
    assert len(attempts) == 3  # first try + settings.retries
    run = harness.cache.sync_runs.list()[0]
    assert run.status is SyncStatus.FAILED and run.correlation_id and run.error


def test_transient_failure_is_retried(harness: SyncHarness) -> None:
    harness.fakes["Plex"].faults[("fetch_tracks", 10)] = fail_with(server_error, times=2)
    result = harness.run()
    assert result.status is SyncStatus.SUCCEEDED
    assert len(harness.snapshot()) == 68


def test_auth_failure_is_not_retried(harness: SyncHarness) -> None:
    fake = harness.fakes["Plex"]
    fake.faults[("fetch_tracks", 0)] = fail_with(lambda: AuthFailed("Plex"))
    result = harness.run()
    assert result.status is SyncStatus.FAILED
    assert fake.calls.count(("fetch_tracks", 0)) == 1
    assert "credentials" in result.summary


def test_unparseable_items_make_a_partial_run_without_deletions(harness: SyncHarness) -> None:
    harness.run()
    fake = harness.fakes["Plex"]
    fake.unparseable = {"a3", "a4"}
    result = harness.run()
    assert result.status is SyncStatus.PARTIAL and result.exit_code == 3
    assert result.counts.removed == 0
    assert len(harness.snapshot()) == 68
    assert "2 items could not be read" in result.summary


def test_empty_answer_for_a_cached_library_is_held_until_allowed(harness: SyncHarness) -> None:
    harness.run()
    before = harness.snapshot()
    fake = harness.fakes["Plex"]
    fake.libraries["1"] = []
    result = harness.run()
    assert result.status is SyncStatus.HELD and result.exit_code == 3
    assert harness.snapshot() == before
    assert "Would remove 45 of 45 tracks from Library 1 on Plex." in result.servers[0].message
    result = harness.run(allow_removals=True)
    assert result.status is SyncStatus.SUCCEEDED and result.counts.removed == 45
    assert len(harness.snapshot()) == 68 - 45


def test_short_listing_is_not_taken_as_deletions(harness: SyncHarness) -> None:
    harness.run()
    before = harness.snapshot()
    fake = harness.fakes["Plex"]
    fake.count_overrides["1"] = 45
    fake.libraries["1"] = fake.libraries["1"][:12]  # pages run dry before the announced total
    result = harness.run()
    assert result.status is SyncStatus.PARTIAL
    assert harness.snapshot() == before


def test_cancel_mid_sync_leaves_the_cache_as_it_was(harness: SyncHarness) -> None:
    harness.run()
    before = harness.snapshot()
    fake = harness.fakes["Plex"]
    fake.libraries["2"] = make_tracks("c", 40)
    token = CancelToken()
    fake.on_page = lambda start: token.cancel() if start >= 20 else None
    result = harness.run(cancel=token)
    assert result.status is SyncStatus.CANCELLED
    assert harness.snapshot() == before
    assert harness.cache.sync_runs.list()[0].status is SyncStatus.CANCELLED


def test_identity_change_clears_the_old_servers_rows(harness: SyncHarness) -> None:
    harness.run()
    fake = harness.fakes["Plex"]
    fake.machine_id = "another-machine"
    fake.libraries = {"9": make_tracks("z", 5)}
    result = harness.run()
    assert result.status is SyncStatus.SUCCEEDED
    assert {t["id"] for t in harness.snapshot()} == {f"z{i}" for i in range(5)}
    assert harness.cache.servers.get_by_name("Plex").machine_id == "another-machine"


def _second_request_while_plex_syncs(
    harness: SyncHarness, second: Callable[[], Awaitable[object]]
) -> tuple[SyncJobResult, AlreadyRunning | None]:
    """Syncs every server, slowing Plex's pages; once a page was asked, awaits ``second()``. Returns the first
    job's result and the AlreadyRunning the second request raised (None: it ran)."""
    started = asyncio.Event()

    async def both() -> tuple[SyncJobResult, AlreadyRunning | None]:
        fake = harness.fakes["Plex"]
        loop = asyncio.get_running_loop()
        fake.on_page = lambda start: (loop.call_soon_threadsafe(started.set), time.sleep(0.05))
        first = asyncio.create_task(harness.service.sync(), name="first-sync")
        await started.wait()
        try:
            await second()
            second_error = None
        except AlreadyRunning as err:
            second_error = err
        return await first, second_error

    return asyncio.run(both())


def test_second_sync_of_the_same_server_is_refused(harness: SyncHarness) -> None:
    first, err = _second_request_while_plex_syncs(harness, lambda: harness.service.sync())
    assert isinstance(err, AlreadyRunning)
    assert first.status is SyncStatus.SUCCEEDED


def test_a_request_no_running_job_covers_is_refused_by_the_server_claims(harness: SyncHarness) -> None:
    # a named request is not covered by the running job's "every enabled server": the job's claims refuse it
    first, err = _second_request_while_plex_syncs(harness, lambda: harness.service.start(["Plex"]))
    assert isinstance(err, AlreadyRunning) and "Plex" in err.user_message
    assert first.status is SyncStatus.SUCCEEDED
    assert len(harness.cache.sync_runs.list()) == len(
        harness.fakes
    )  # one run per server: none for the refused


def test_album_genres_and_year_fill_tracks_that_have_none(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    from app.storage import open_cache

    albums = [AlbumRecord(f"al{i}", f"Album {i}", "X", 1990 + i, (f"G{i}",)) for i in range(3)]
    fake = FakeMediaServer(
        libraries={"1": make_tracks("p", 20, album_ids=3)}, albums={"1": albums}, needs_album_pass=True
    )
    cache = open_cache(tmp_path / "d")
    h = SyncHarness(cache, {"Plex": fake}, settings)
    try:
        assert h.run().status is SyncStatus.SUCCEEDED
        for t in h.snapshot():
            n = int(str(t["id"])[1:]) % 3
            assert t["genres"] == [f"G{n}"] and t["year"] == 1990 + n
    finally:
        h.runner.close()
        cache.close()


def test_one_failing_server_makes_a_partial_job(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    from app.storage import open_cache

    fakes = {
        "Plex": FakeMediaServer(libraries={"1": make_tracks("a", 15)}),
        "Jelly": FakeMediaServer(libraries={"1": make_tracks("j", 12)}, machine_id="m2"),
    }
    fakes["Plex"].faults[("identity", 0)] = fail_with(server_error)
    cache = open_cache(tmp_path / "d")
    h = SyncHarness(cache, fakes, settings)
    try:
        result = h.run()
        assert result.status is SyncStatus.PARTIAL and result.exit_code == 3
        assert result.summary.startswith("1 of 2 servers synced, 1 failed")
        assert len(h.snapshot()) == 12
    finally:
        h.runner.close()
        cache.close()


def test_a_listing_removing_most_users_is_held_until_allowed(harness: SyncHarness) -> None:
    from app.core.models import RemoteUser

    fake = harness.fakes["Plex"]
    fake.users = [RemoteUser(str(i), f"user{i}") for i in range(4)]
    harness.run()
    fake.users = fake.users[:1]
    tracks = harness.snapshot()
    result = harness.run()
    assert result.status is SyncStatus.HELD and result.exit_code == 3
    assert "Would remove 3 of 4 users from Plex." in result.summary
    assert len(harness.cache.users.list()) == 4 and harness.snapshot() == tracks
    assert harness.cache.sync_runs.list()[0].status is SyncStatus.HELD
    result = harness.run(allow_removals=True)
    assert result.status is SyncStatus.SUCCEEDED
    assert len(harness.cache.users.list()) == 1


def test_a_server_listing_no_users_at_all_is_held_like_any_mass_removal(harness: SyncHarness) -> None:
    from app.core.models import RemoteUser

    fake = harness.fakes["Plex"]
    fake.users = [RemoteUser(str(i), f"user{i}") for i in range(3)]
    harness.run()
    fake.users = []
    result = harness.run()
    assert result.status is SyncStatus.HELD
    assert "Would remove 3 of 3 users from Plex." in result.summary
    assert len(harness.cache.users.list()) == 3


def test_a_listing_removing_most_of_a_library_is_held(harness: SyncHarness) -> None:
    harness.run()
    before = harness.snapshot()
    harness.fakes["Plex"].libraries["1"] = make_tracks("a", 20)  # 25 of 45 gone: over the 50 % floor
    result = harness.run()
    assert result.status is SyncStatus.HELD
    assert "Would remove 25 of 45 tracks from Library 1 on Plex." in result.servers[0].message
    assert harness.snapshot() == before
