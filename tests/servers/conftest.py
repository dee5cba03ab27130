"""Fixtures of the adapter tests (helpers live in fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.servers.fakes import FakeServer, Route


@pytest.fixture
def serve() -> Iterator[Callable[[Route], FakeServer]]:
    servers: list[FakeServer] = []

    def start(route: Route) -> FakeServer:
        server = FakeServer(route)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
