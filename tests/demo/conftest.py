"""Demo-server fixtures: real servers on 127.0.0.1, started once per module where the tests only read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo import DemoConfig, DemoServer, start_demo_server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=230, users=5, seed=7)) as server:
        yield server


@pytest.fixture(scope="module")
def jellyfin() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=230, users=5, seed=7)) as server:
        yield server
