"""`health`, `server test`, `errors` and `diagnose` through the real CLI against demo servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import DemoPair, demo_pair, run_cli


@pytest.fixture(scope="module")
def pair() -> Iterator[DemoPair]:
    with demo_pair(60) as p:
        yield p


@pytest.fixture
def data(tmp_path: Path, pair: DemoPair) -> Iterator[Path]:
    pair.add_both(tmp_path)
    yield tmp_path
    pair.plex.set_faults("")
    pair.jellyfin.set_faults("")


def test_health_check_json_lists_every_server(data: Path) -> None:
    r = run_cli(data, "health", "--check", "--json")
    assert r.code == 0, r.err
    rows = {row["server"]: row for row in r.json()}  # type: ignore[union-attr]
    assert set(rows) == {"Plex", "Jelly"}
    for row in rows.values():
        assert row["status"] == "up" and row["open_incident"] is None and row["failure_class"] is None
        assert row["uptime"] == {"24h": 100.0, "7d": 100.0, "30d": 100.0}
        assert isinstance(row["latency_ms"], float) and row["latency_ms"] >= 0
    text = run_cli(data, "health")
    assert text.code == 0 and "Plex" in text.out and "100.0%" in text.out


def test_server_test_prints_class_and_remedy_and_the_error_is_traceable(data: Path, pair: DemoPair) -> None:
    pair.plex.set_faults("identity:401")
    r = run_cli(data, "server", "test", "Plex")
    assert r.code == 1
    assert "failure class: auth_failed" in r.err and "remedy: " in r.err and "expired" in r.err
    j = run_cli(data, "server", "test", "Plex", "--json")
    assert j.code == 1
    body = j.json()
    assert isinstance(body, dict) and body["failure_class"] == "auth_failed" and body["server"] == "Plex"
    found = run_cli(data, "errors", "--id", str(body["correlation_id"]), "--json")
    assert found.code == 0, found.err
    [event] = found.json()  # type: ignore[misc]
    assert event["server"] == "Plex" and event["error"] == "AuthFailed" and "[auth_failed]" in event["detail"]
    shown = run_cli(data, "errors", "--id", str(body["correlation_id"]))
    assert "detail: [auth_failed]" in shown.out
    assert run_cli(data, "errors", "--id", "nosuchref0").code == 1
    listed = run_cli(data, "errors", "--json").json()
    assert isinstance(listed, list) and len(listed) >= 2


def test_two_failed_heartbeats_open_an_incident_and_recovery_closes_it(data: Path, pair: DemoPair) -> None:
    assert run_cli(data, "health", "--check").code == 0
    pair.jellyfin.set_faults("identity:500")
    first = run_cli(data, "health", "--check", "--json")
    assert first.code == 1
    rows = {row["server"]: row for row in first.json()}  # type: ignore[union-attr]
    assert rows["Jelly"]["status"] == "down" and rows["Jelly"]["open_incident"] is None
    assert rows["Jelly"]["failure_class"] == "server_error" and rows["Plex"]["status"] == "up"
    second = run_cli(data, "health", "--check", "--json")
    incident = {row["server"]: row for row in second.json()}["Jelly"]["open_incident"]  # type: ignore[union-attr]
    assert incident is not None and incident["kind"] == "down" and incident["closed_at"] is None
    ack = run_cli(data, "health", "--ack", str(incident["id"]), "--note", "disk full", "--json")
    assert ack.code == 0 and ack.json()["note"] == "disk full"  # type: ignore[index]
    pair.jellyfin.set_faults("")
    third = run_cli(data, "health", "--check", "--json")
    assert third.code == 0
    row = {row["server"]: row for row in third.json()}["Jelly"]  # type: ignore[union-attr]
    assert row["status"] == "up" and row["open_incident"] is None
    assert row["uptime"]["24h"] == pytest.approx(50.0)  # 2 of 4 checks up


def test_diagnose_json_passes_on_healthy_servers(data: Path) -> None:
    r = run_cli(data, "diagnose", "--json")
    assert r.code == 0, r.out
    run = r.json()
    assert isinstance(run, dict) and run["status"] == "passed"
    checks = {(x["server"], x["check"]) for x in run["results"]}
    assert (
        ("Plex", "auth valid") in checks
        and ("Jelly", "user listing") in checks
        and (None, "free disk") in checks
    )
    text = run_cli(data, "diagnose", "--server", "Jelly")
    assert text.code == 0 and "[PASS] Jelly · reachable" in text.out and "Plex ·" not in text.out
