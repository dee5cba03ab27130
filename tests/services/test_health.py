"""HealthService against a real demo server over HTTP, a real cache file and an injectable clock: incidents open
after the second consecutive failure, close on recovery with the right duration, alert exactly once each way;
uptime matches the recorded checks; an expired token opens an "auth failed" incident, not "down"."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.health import IncidentKind
from app.core.models import AuthMethod, NewServer, ServerKind
from app.core.settings import Settings
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.servers import ServerRegistry
from app.services.error_recorder import ErrorRecorder
from app.services.health import HealthService, IncidentAlert
from app.services.runner import ThreadRunner
from app.services.servers import ServerService
from app.storage import Cache, open_cache
from tests.services.fakes import MemorySecrets


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self, cache: Cache, demo: DemoServer) -> None:
        self.cache, self.demo, self.clock = cache, demo, Clock()
        self.secrets = MemorySecrets()
        self.runner = ThreadRunner()
        settings = Settings(request_timeout_s=2.0, connect_timeout_s=1.0, plex_tv_url=demo.url)
        registry = ServerRegistry(settings)
        self.alerts: list[IncidentAlert] = []
        self.errors = ErrorRecorder(cache.error_events, self.runner, self.clock)
        self.health = HealthService(
            servers=cache.servers,
            health=cache.health,
            secrets=self.secrets,
            clients=registry,
            runner=self.runner,
            clock=self.clock,
            alert=self.alerts.append,
            errors=self.errors,
        )
        self.servers = ServerService(
            servers=cache.servers, secrets=self.secrets, clients=registry, runner=self.runner
        )
        self.loop = asyncio.new_event_loop()

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def round_at(self, t: float) -> bool:
        self.clock.now = t
        checks = self.run(self.health.heartbeat_round())
        assert len(checks) == 1
        return bool(checks[0].ok)

    def close(self) -> None:
        self.run(self.health.close())
        self.loop.close()
        self.runner.close()


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=10)) as srv:
        yield srv


@pytest.fixture
def h(tmp_path: Path, demo: DemoServer) -> Iterator[Harness]:
    demo.set_faults("")
    harness = Harness(open_cache(tmp_path / "data"), demo)
    from app.core.models import Credentials

    harness.run(
        harness.servers.add(
            NewServer("Home", ServerKind.PLEX, demo.url, AuthMethod.TOKEN),
            Credentials(token=demo.config.effective_token),
        )
    )
    yield harness
    harness.close()
    harness.cache.close()
    demo.set_faults("")


def test_up_down_twice_up_opens_and_closes_one_incident(h: Harness) -> None:
    t0 = h.clock.now
    assert h.round_at(t0)
    h.demo.set_faults("identity:500")
    assert not h.round_at(t0 + 60)
    assert h.health.incidents() == [] and h.alerts == []  # one failure is not an incident
    assert not h.round_at(t0 + 120)
    [incident] = h.health.incidents(open_only=True)
    assert incident.kind == IncidentKind.DOWN.value and incident.opened_at == t0 + 60
    assert [a.opened for a in h.alerts] == [True]
    assert not h.round_at(t0 + 180)  # still down: no second incident, no second alert
    assert len(h.health.incidents()) == 1 and len(h.alerts) == 1
    h.demo.set_faults("")
    assert h.round_at(t0 + 240)
    [closed] = h.health.incidents()
    assert closed.id == incident.id and closed.closed_at == t0 + 240 and closed.duration_s == 180.0
    assert [a.opened for a in h.alerts] == [True, False] and h.alerts[1].incident.duration_s == 180.0
    assert h.round_at(t0 + 300)
    assert len(h.alerts) == 2
    # uptime over the recorded checks: 3 of 6 up; the 24 h sparkline has every check, failed ones as None
    sid = h.cache.servers.get_by_name("Home").id
    assert h.health.uptime(sid, 86400) == pytest.approx(50.0)
    series = h.health.latency_series(sid)
    assert [lat is not None for _, lat in series] == [True, False, False, False, True, True]
    [row] = h.health.summary()
    assert row.status == "up" and row.open_incident is None and row.uptime["30d"] == pytest.approx(50.0)
    # the opening failure is an error event, traceable by its reference
    events = h.errors.list()
    assert len(events) == 1 and events[0].server == "Home" and "ref" not in events[0].correlation_id


def test_uptime_windows_only_count_their_checks(h: Harness) -> None:
    sid = h.cache.servers.get_by_name("Home").id
    t0 = h.clock.now
    for offset, ok in [(0, True), (86400 * 2, True), (86400 * 6, False)]:
        h.cache.health.record_check(sid, t0 + offset, ok, 1.0 if ok else None, "up" if ok else "timeout", "")
    h.clock.now = t0 + 86400 * 6 + 10
    assert h.health.uptime(sid, 86400) == 0.0
    assert h.health.uptime(sid, 7 * 86400) == pytest.approx(100 * 2 / 3)
    h.clock.now = t0 + 86400 * 40
    assert h.health.uptime(sid, 86400) is None  # no checks in the window: unknown, not 0 or 100


def test_expired_token_opens_auth_failed_not_down(h: Harness) -> None:
    server = h.cache.servers.get_by_name("Home")
    t0 = h.clock.now
    assert h.round_at(t0)
    h.secrets.set(server.secret_ref, "expired-token-123")
    assert not h.round_at(t0 + 60)
    assert not h.round_at(t0 + 120)
    [incident] = h.health.incidents(open_only=True)
    assert incident.kind == IncidentKind.AUTH_FAILED.value
    assert [c.status for c in h.cache.health.last_checks(server.id, 2)] == ["auth_failed", "auth_failed"]
    assert h.health.summary()[0].status == "auth failed"
    # a server going down while the token is bad stays one "auth failed" incident per streak kind
    acked = h.run(h.health.acknowledge(incident.id, "rotating the token"))
    assert acked.acknowledged_note == "rotating the token"
    h.secrets.set(server.secret_ref, h.demo.config.effective_token)
    assert h.round_at(t0 + 180)
    assert h.health.incidents(open_only=True) == []


def test_drafts_and_disabled_servers_get_no_heartbeat(h: Harness) -> None:
    from app.core.models import Credentials

    draft, notes = h.run(
        h.servers.save_draft(
            NewServer("Draft", ServerKind.PLEX, h.demo.url + "/web/", AuthMethod.TOKEN),
            Credentials(token=h.demo.config.effective_token),
        )
    )
    assert draft.status == "draft" and draft.url == h.demo.url and notes
    assert [s.name for s in h.health.active_servers()] == ["Home"]
    identity = h.run(h.servers.test("Draft"))
    verified = h.cache.servers.get_by_name("Draft")
    assert verified.status == "verified" and verified.last_verified_at is not None and identity.machine_id
    h.run(h.servers.activate("Draft"))
    assert sorted(s.name for s in h.health.active_servers()) == ["Draft", "Home"]
