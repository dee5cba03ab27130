from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import AuthMethod, ConnectResult, NewServer, ServerIdentity, ServerKind
from app.core.settings import Settings
from app.services.runner import ThreadRunner
from app.services.sync import SyncService
from app.storage import Cache, open_cache
from tests.loop_guard import blocking_calls_off_the_loop  # noqa: F401 - autouse fixture
from tests.services.fakes import FakeFactory, FakeMediaServer, MemorySecrets, make_tracks


class SyncHarness:
    """A real cache in tmp_path, fake media servers behind the ClientFactory port, the real SyncService."""

    def __init__(self, cache: Cache, fakes: dict[str, FakeMediaServer], settings: Settings) -> None:
        self.cache = cache
        self.fakes = fakes
        self.secrets = MemorySecrets()
        self.runner = ThreadRunner()
        self.clock_value = 1_800_000_000.0
        self.service = SyncService(
            servers=cache.servers,
            tracks=cache.tracks,
            users=cache.users,
            runs=cache.sync_runs,
            secrets=self.secrets,
            clients=FakeFactory(fakes),
            locks=cache.locks,
            runner=self.runner,
            settings=settings,
            clock=lambda: self.clock_value,
        )
        for name, fake in fakes.items():
            new = NewServer(name, ServerKind.PLEX, f"http://127.0.0.1/{name}", AuthMethod.TOKEN)
            result = ConnectResult(ServerIdentity(fake.machine_id, name, "1", ServerKind.PLEX), token="tok")
            server = cache.servers.add(new, result)
            self.secrets.set(server.secret_ref, "secret-token-value")

    def run(self, *names: str, **kw: object):  # type: ignore[no-untyped-def]
        return asyncio.run(self.service.sync(list(names) or None, **kw))  # type: ignore[arg-type]

    def snapshot(self) -> list[dict[str, object]]:
        from app.core.filters import TrackFilter, TrackSort

        return [t.to_json() for t in self.cache.tracks.query(TrackFilter(), TrackSort())]


@pytest.fixture
def settings() -> Settings:
    return Settings(page_size=10, retries=2, retry_backoff_s=0.0)


@pytest.fixture
def harness(tmp_path: Path, settings: Settings) -> Iterator[SyncHarness]:
    fake = FakeMediaServer(libraries={"1": make_tracks("a", 45), "2": make_tracks("b", 23)})
    cache = open_cache(tmp_path / "data")
    h = SyncHarness(cache, {"Plex": fake}, settings)
    yield h
    h.runner.close()
    cache.close()
