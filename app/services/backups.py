"""Backups of the cache (DESIGN §3) as a use case: ``create`` on demand and the daily "backup" task. Restoring
is not here: it replaces the file under every open connection, so it runs only with the cache closed (the
``zondarr backup restore`` command, through storage directly).

Coroutines for the event loop thread; the copy runs on the read pool (it reads the whole file through its own
connection and never blocks the writer: WAL readers see one snapshot).
"""

from __future__ import annotations

from app.core.models import Backup
from app.core.ports import BackupStore, Runner
from app.core.settings import Settings
from app.services.tasks import TaskSpec

DAILY_S = 86_400.0
FIRST_DELAY_S = 180.0


class BackupService:
    def __init__(self, *, store: BackupStore, runner: Runner, settings: Settings) -> None:
        self._store = store
        self._runner = runner
        self._settings = settings

    async def create(self, reason: str = "manual") -> Backup:
        """A consistent copy of the cache now; keeps the newest ``backup_keep``. Raises FileWriteError (full
        disk, unwritable folder) or CacheError."""
        return await self._runner.read(self._store.create, reason, self._settings.backup_keep)

    async def list(self) -> list[Backup]:
        """Newest first."""
        return await self._runner.read(self._store.list)

    async def _daily(self) -> str:
        backup = await self.create("daily")
        kept = len(await self.list())
        return f"Backed up the cache to {backup.name} ({backup.size / 1e6:.1f} MB); {kept} backups kept."

    def task_spec(self) -> TaskSpec:
        """The "backup" background task: one backup a day; the first one a few minutes after the first start (not
        during it: at a million tracks the copy reads the whole file)."""
        return TaskSpec(
            "backup", "Back up the cache", lambda: DAILY_S, self._daily, first_delay_s=FIRST_DELAY_S
        )
