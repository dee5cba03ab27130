"""Diagnostics runs: named scenarios per server (see ``diag_checks``) plus checks of the local
cache (integrity, WAL size, free disk). Every run and its results are stored; the Diagnostics page reads the
history through :meth:`DiagnosticsService.history` / :meth:`DiagnosticsService.get`.

Coroutines for the event loop thread; blocking work goes through the runner. Raises NotFoundError for an
unknown server name and CacheError when results cannot be stored; a failing server is a ``fail`` result.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.errors import ZondarrError
from app.core.health import DiagnosticResult, DiagnosticRun, Outcome
from app.core.models import Server
from app.core.ports import (
    ClientFactory,
    Clock,
    DiagnosticStore,
    Runner,
    SecretStore,
    ServerProbe,
    ServerStore,
)
from app.services.diag_checks import ServerScenarios, run_server_scenarios, why

MAX_WAL_BYTES = 64 * 1024 * 1024
MIN_FREE_BYTES = 500 * 1024 * 1024
CACHE_FILE = "cache.sqlite3"


class DiagnosticsService:
    def __init__(
        self,
        *,
        servers: ServerStore,
        store: DiagnosticStore,
        secrets: SecretStore,
        clients: ClientFactory,
        probe: ServerProbe,
        runner: Runner,
        data_dir: Path,
        quick_check: Callable[[], None],
        clock: Clock = time.time,
    ) -> None:
        self._servers = servers
        self._store = store
        self._secrets = secrets
        self._clients = clients
        self._probe = probe
        self._runner = runner
        self._data_dir = data_dir
        self._quick_check = quick_check
        self._clock = clock

    async def run(self, names: Sequence[str] | None = None) -> DiagnosticRun:
        """Runs every scenario for the named servers (default: all verified servers) and the local checks,
        stores the run and returns it with its results."""
        if names:
            servers = [(await self._runner.read(self._servers.get_by_name, n)) for n in names]
        else:
            servers = [s for s in (await self._runner.read(self._servers.list)) if s.status == "verified"]
        run_id = await self._runner.db(self._store.start_run, self._clock())
        per_server = await asyncio.gather(*(self._server(s) for s in servers))
        results = [r for group in per_server for r in group] + await self._local()
        await self._runner.db(self._store.add_results, run_id, results)
        failed = sum(r.outcome is Outcome.FAIL for r in results)
        passed = sum(r.outcome is Outcome.PASS for r in results)
        skipped = len(results) - failed - passed
        status = "failed" if failed else "passed"
        summary = f"{passed} passed, {failed} failed, {skipped} skipped"
        await self._runner.db(self._store.finish_run, run_id, self._clock(), status, summary)
        run = await self._runner.read(self._store.get, run_id)
        assert run is not None
        return run

    async def _server(self, server: Server) -> list[DiagnosticResult]:
        scenarios = ServerScenarios(server, self._runner, self._clients, self._secrets, self._clock)
        return await run_server_scenarios(
            scenarios, lambda: self._runner.net(self._probe.probe, server.url, server.kind)
        )

    async def _local(self) -> list[DiagnosticResult]:
        out: list[DiagnosticResult] = []
        started = time.perf_counter()
        try:
            await self._runner.read(self._quick_check)
            out.append(_result("cache integrity", Outcome.PASS, "PRAGMA quick_check: ok", started))
        except ZondarrError as err:
            out.append(_result("cache integrity", Outcome.FAIL, why(err), started, err.detail))
        started = time.perf_counter()
        wal = self._data_dir / (CACHE_FILE + "-wal")
        size = wal.stat().st_size if wal.exists() else 0
        outcome = Outcome.PASS if size <= MAX_WAL_BYTES else Outcome.FAIL
        message = f"{size / 1048576:.1f} MB" + (
            ""
            if outcome is Outcome.PASS
            else " (large: close other Zondarr windows and restart to checkpoint it)"
        )
        out.append(_result("WAL size", outcome, message, started, f"{wal.name}: {size} bytes"))
        started = time.perf_counter()
        usage = shutil.disk_usage(self._data_dir)
        cache_size = (
            (self._data_dir / CACHE_FILE).stat().st_size if (self._data_dir / CACHE_FILE).exists() else 0
        )
        need = max(MIN_FREE_BYTES, 2 * cache_size)
        outcome = Outcome.PASS if usage.free >= need else Outcome.FAIL
        message = f"{usage.free / 1073741824:.1f} GB free" + (
            "" if outcome is Outcome.PASS else f" (needs {need / 1048576:.0f} MB: free some disk space)"
        )
        out.append(
            _result(
                "free disk",
                outcome,
                message,
                started,
                f"free {usage.free} of {usage.total} bytes on the data folder's disk; cache file {cache_size} bytes",
            )
        )
        return out

    def history(self, limit: int = 20) -> list[DiagnosticRun]:
        """Newest first, without results. Any thread."""
        return self._store.runs(limit)

    def get(self, run_id: int) -> DiagnosticRun | None:
        """A stored run with its results. Any thread."""
        return self._store.get(run_id)


def _result(
    check: str, outcome: Outcome, message: str, started: float, evidence: str = ""
) -> DiagnosticResult:
    return DiagnosticResult(check, outcome, message, (time.perf_counter() - started) * 1000, evidence)
