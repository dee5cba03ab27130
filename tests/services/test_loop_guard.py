"""The loop-thread check of the service tests (tests/loop_guard.py) catches a planted violation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.runner import ThreadRunner
from app.storage import open_cache
from tests.loop_guard import LoopThreadCall, guarded_methods


def test_a_store_call_on_the_loop_thread_fails_and_through_the_runner_passes(tmp_path: Path) -> None:
    cache = open_cache(tmp_path / "data")
    runner = ThreadRunner()

    async def planted() -> None:
        cache.servers.list()  # a service doing this would block the window

    async def routed() -> list[object]:
        return list(await runner.read(cache.servers.list))

    try:
        with pytest.raises(LoopThreadCall, match="SqliteServerStore.list"):
            asyncio.run(planted())
        assert asyncio.run(routed()) == []
        assert cache.servers.list() == []  # outside a loop (test set-up) it is allowed
    finally:
        runner.close()
        cache.close()


def test_the_guard_covers_every_store_client_and_fake() -> None:
    owners = {cls.__name__ for cls, _, _ in guarded_methods()}
    assert {"SqliteTrackStore", "SqliteServerStore", "FileJobLocks", "PlexClient", "JellyfinClient"} <= owners
    assert {"ServerRegistry", "FakeClient", "MemorySecrets", "AccountClient"} <= owners
