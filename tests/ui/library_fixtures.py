"""Fixtures for the library page tests: a real cache filled by syncing demo servers over HTTP on loopback, inside
the session qasync loop (a task pumped until done: never a second loop), and the brute-force reference view.

Import the fixtures into a test module with ``from tests.ui.library_fixtures import library_ctx_fixture, ...``
(they register under the names ``library_ctx`` and ``all_tracks``).
"""

from __future__ import annotations

import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
import qasync
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from app.core.filters import TrackFilter, TrackSort
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind, SyncStatus, Track
from app.demo import DemoConfig, start_demo_server
from app.services.context import AppContext
from app.wiring import build_context
from tests.e2e.conftest import MemoryKeyring
from tests.storage.reference import filter_and_sort

T = TypeVar("T")

JELLYFIN_TRACKS = 3000
PLEX_TRACKS = 1000


def run_in_loop(loop: qasync.QEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Runs ``coro`` as a task on the (already running) session loop and pumps Qt until it is done."""
    task = loop.create_task(coro, name="test-helper")
    app = QApplication.instance()
    deadline = time.monotonic() + timeout
    while not task.done():
        if time.monotonic() > deadline:
            task.cancel()
            raise TimeoutError("the task did not finish in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)  # type: ignore[union-attr]
        time.sleep(0.001)
    return task.result()


@pytest.fixture(scope="module", name="library_ctx")
def library_ctx_fixture(
    qloop: qasync.QEventLoop, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppContext]:
    """An AppContext over a real cache holding a Jellyfin (3,000 tracks) and a Plex (1,000 tracks) demo server,
    synced through ``ctx.sync.sync()`` over HTTP."""
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    jelly = start_demo_server(DemoConfig(kind="jellyfin", tracks=JELLYFIN_TRACKS, seed=3))
    plex = start_demo_server(DemoConfig(kind="plex", tracks=PLEX_TRACKS, seed=4))
    ctx = build_context(Path(tmp_path_factory.mktemp("library")), overrides={"plex_tv_url": plex.url})
    try:

        async def fill() -> SyncStatus:
            await ctx.servers.add(
                NewServer("Jelly", ServerKind.JELLYFIN, jelly.url, AuthMethod.API_KEY),
                Credentials(token="demo-jellyfin-key"),
            )
            await ctx.servers.add(
                NewServer("plex home", ServerKind.PLEX, plex.url, AuthMethod.TOKEN),
                Credentials(token="demo-plex-token"),
            )
            result = await ctx.sync.sync(trigger="manual")
            return result.status

        assert run_in_loop(qloop, fill()) is SyncStatus.SUCCEEDED
        yield ctx
    finally:
        ctx.close()
        jelly.stop()
        plex.stop()
        keyring.set_keyring(previous)


@pytest.fixture(scope="module", name="all_tracks")
def all_tracks_fixture(library_ctx: AppContext) -> list[Track]:
    """Every cached track, read once."""
    tracks = library_ctx.tracks.query(TrackFilter(), TrackSort())
    assert len(tracks) == JELLYFIN_TRACKS + PLEX_TRACKS
    return tracks


def reference_ids(tracks: list[Track], flt: TrackFilter, sort: TrackSort) -> list[int]:
    """The ids of the view in view order, by brute force over ``tracks`` (``tests/storage/reference.py``
    states ``core.filters`` and the TrackStore sort order in plain Python)."""
    records = [{**t.to_json(), "_id": t.id} for t in tracks]
    return [int(r["_id"]) for r in filter_and_sort(records, flt, sort)]
