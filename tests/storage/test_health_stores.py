"""The health stores on a real cache file: heartbeats and incidents, diagnostics runs, error events, and the
draft → verified → active life of a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck as HypoHealth
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import NotFoundError, ValidationError, register_secret
from app.core.health import DiagnosticResult, Outcome
from app.core.models import AuthMethod, ConnectResult, NewServer, ServerIdentity, ServerKind
from app.storage import Cache, open_cache


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    c = open_cache(tmp_path / "data", clock=lambda: 1000.0)
    yield c
    c.close()


def add(cache: Cache, name: str = "Plex") -> int:
    new = NewServer(name, ServerKind.PLEX, "http://127.0.0.1:1", AuthMethod.TOKEN)
    ident = ServerIdentity("m-1", name, "1.41", ServerKind.PLEX)
    return cache.servers.add(new, ConnectResult(ident, "t")).id


def test_checks_uptime_and_incident_lifecycle(cache: Cache) -> None:
    sid = add(cache)
    h = cache.health
    for t, ok in [(10.0, True), (20.0, False), (30.0, False), (40.0, True)]:
        h.record_check(sid, t, ok, 5.0 if ok else None, "up" if ok else "timeout", "")
    assert h.uptime_counts(sid, 0) == (2, 4)
    assert h.uptime_counts(sid, 25) == (1, 2)
    assert [c.checked_at for c in h.checks(sid, 15, 35)] == [20.0, 30.0]
    assert [c.checked_at for c in h.last_checks(sid, 2)] == [40.0, 30.0]
    assert h.open_incident(sid) is None
    inc = h.open(sid, "down", 20.0, "timeout")
    assert h.open_incident(sid) == inc and inc.is_open
    closed = h.close(inc.id, 40.0)
    assert closed.duration_s == 20.0 and h.open_incident(sid) is None
    acked = h.acknowledge(inc.id, "router rebooted", 50.0)
    assert (acked.acknowledged_note, acked.acknowledged_at) == ("router rebooted", 50.0)
    assert [i.id for i in h.incidents(sid)] == [inc.id] and h.incidents(sid, open_only=True) == []
    with pytest.raises(NotFoundError):
        h.acknowledge(9999, "x", 1.0)


@settings(deadline=None, suppress_health_check=[HypoHealth.function_scoped_fixture])
@given(st.lists(st.booleans(), max_size=30), st.integers(min_value=0, max_value=30))
def test_uptime_counts_match_the_recorded_checks(cache: Cache, oks: list[bool], cut: int) -> None:
    sid = add(cache, f"S{len(cache.servers.list())}")
    for i, ok in enumerate(oks):
        cache.health.record_check(sid, float(i), ok, None, "up" if ok else "down", "")
    expected = oks[cut:]
    assert cache.health.uptime_counts(sid, float(cut)) == (sum(expected), len(expected))


def test_diagnostic_runs_keep_results_with_duration_and_evidence(cache: Cache) -> None:
    sid = add(cache)
    run = cache.diagnostics.start_run(100.0)
    results = [
        DiagnosticResult("reachable", Outcome.PASS, "HTTP 200", 12.5, "GET /identity -> 200", sid, "Plex"),
        DiagnosticResult("cache integrity", Outcome.FAIL, "damaged", 3.0, "quick_check: x"),
    ]
    cache.diagnostics.add_results(run, results)
    cache.diagnostics.finish_run(run, 101.0, "failed", "1 passed, 1 failed")
    got = cache.diagnostics.get(run)
    assert got is not None and got.status == "failed" and got.finished_at == 101.0
    assert [(r.check, r.outcome, r.duration_ms, r.evidence, r.server) for r in got.results] == [
        ("reachable", Outcome.PASS, 12.5, "GET /identity -> 200", "Plex"),
        ("cache integrity", Outcome.FAIL, 3.0, "quick_check: x", None),
    ]
    assert [r.id for r in cache.diagnostics.runs()] == [run]
    assert cache.diagnostics.get(run + 1) is None


def test_error_events_search_and_redaction(cache: Cache) -> None:
    register_secret("sekrit-token-77")
    a = cache.error_events.add(
        "abc123defg", "AuthFailed", "Plex: refused.", "GET /?X-Plex-Token=sekrit-token-77", "Plex", 1.0
    )
    cache.error_events.add("zzz999yyyy", "ServerError", "Jelly: 500 (100%_done)", "boom", "Jelly", 2.0)
    assert "sekrit" not in a.detail
    assert [e.correlation_id for e in cache.error_events.by_correlation("ABC123DEFG")] == ["abc123defg"]
    assert [e.correlation_id for e in cache.error_events.list()] == ["zzz999yyyy", "abc123defg"]
    assert [e.correlation_id for e in cache.error_events.list(search="abc")] == ["abc123defg"]
    assert [e.server for e in cache.error_events.list(search="Jelly")] == ["Jelly"]
    assert [e.server for e in cache.error_events.list(search="%_")] == ["Jelly"]  # LIKE wildcards are literal
    assert cache.error_events.list(search="nothing-like-this") == []


def test_draft_until_verified_and_only_verified_activates(cache: Cache) -> None:
    draft = cache.servers.add_draft(
        NewServer("Den", ServerKind.JELLYFIN, "http://h:8096", AuthMethod.API_KEY)
    )
    assert (draft.status, draft.enabled, draft.last_verified_at) == ("draft", False, None)
    with pytest.raises(ValidationError):
        cache.servers.set_enabled(draft.id, True)
    with pytest.raises(ValidationError):
        cache.servers.add_draft(NewServer("Den", ServerKind.JELLYFIN, "http://h", AuthMethod.API_KEY))
    ident = ServerIdentity("jf-1", "Den", "10.11.1", ServerKind.JELLYFIN)
    verified = cache.servers.mark_verified(draft.id, ident, 1234.0)
    assert (verified.status, verified.last_verified_at, verified.machine_id) == ("verified", 1234.0, "jf-1")
    cache.servers.set_enabled(draft.id, True)
    assert cache.servers.get(draft.id).enabled
    cache.servers.set_status(draft.id, "draft")
    back = cache.servers.get(draft.id)
    assert (back.status, back.enabled) == ("draft", False)
    with pytest.raises(NotFoundError):
        cache.servers.set_enabled(9999, True)
