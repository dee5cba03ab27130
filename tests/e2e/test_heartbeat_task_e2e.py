"""The heartbeat is one of the scheduler's tasks: `tasks list` shows it and `tasks run heartbeat` records checks."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import demo_pair, run_cli


def test_heartbeat_task_runs_a_health_round(tmp_path: Path) -> None:
    with demo_pair(50) as pair:
        pair.add_both(tmp_path)
        listed = run_cli(tmp_path, "tasks", "list", "--json")
        assert listed.code == 0, listed.err
        assert "heartbeat" in {t["name"] for t in listed.json()}  # type: ignore[union-attr, index]
        pair.jellyfin.stop()
        ran = run_cli(tmp_path, "tasks", "run", "heartbeat", "--json")
        assert ran.code == 0, ran.err
        assert ran.json()["message"] == "2 servers checked, 1 down"  # type: ignore[index]
        health = run_cli(tmp_path, "health", "--json").json()
        status = {s["server"]: s["status"] for s in health}  # type: ignore[union-attr, index]
        assert status["Plex"] == "up" and status["Jelly"] != "up", status
