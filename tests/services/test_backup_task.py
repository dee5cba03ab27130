"""The daily "backup" task: the first one a few minutes after the first start, then one a day; each run makes a
backup and keeps the newest ``backup_keep``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.settings import Settings
from app.services.backups import DAILY_S, FIRST_DELAY_S, BackupService
from app.services.runner import ThreadRunner
from app.services.tasks import TaskScheduler
from app.storage import open_cache


def test_the_backup_task_waits_after_the_first_start_then_runs_daily_and_keeps_n(tmp_path: Path) -> None:
    clock = [1_800_000_000.0]
    cache = open_cache(tmp_path / "data", clock=lambda: clock[0])
    runner = ThreadRunner()
    try:
        service = BackupService(store=cache.backups, runner=runner, settings=Settings(backup_keep=2))
        scheduler = TaskScheduler(
            [service.task_spec()], runs=cache.task_runs, runner=runner, clock=lambda: clock[0]
        )
        [status] = asyncio.run(scheduler.status())
        assert status.name == "backup" and status.next_run_at == clock[0] + FIRST_DELAY_S
        for _ in range(3):
            run = asyncio.run(scheduler.run_now("backup"))
            assert run.status == "succeeded", run.message
            assert "Backed up the cache" in run.message
        backups = asyncio.run(service.list())
        assert len(backups) == 2 and {b.reason for b in backups} == {"daily"}
        [status] = asyncio.run(scheduler.status())
        assert status.next_run_at is not None and status.next_run_at >= clock[0] + DAILY_S - 1
    finally:
        runner.close()
        cache.close()
