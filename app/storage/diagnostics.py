"""Diagnostic runs and results (``core.ports.DiagnosticStore``), plus facts about the SQLite library.

The ``evidence`` column holds JSON ``{"duration_ms": ..., "evidence": "..."}``: the v3 table has no duration
column, and a JSON envelope avoids a migration for one number. Writes: db-writer thread. Reads: any thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from app.core.health import DiagnosticResult, DiagnosticRun, Outcome
from app.storage.db import Database

_RUN = "SELECT id, started_at, finished_at, status, summary FROM diagnostic_runs"


def sqlite_version() -> str:
    """The version of the SQLite library this process uses (for diagnostics bundles)."""
    return sqlite3.sqlite_version


def _result(r: Any) -> DiagnosticResult:
    try:
        blob = json.loads(r[5] or "{}")
    except ValueError:
        blob = {"evidence": r[5]}
    return DiagnosticResult(
        check=r[1],
        outcome=Outcome(r[2]),
        message=r[3],
        duration_ms=float(blob.get("duration_ms") or 0.0),
        evidence=str(blob.get("evidence") or ""),
        server_id=r[0],
        server=r[4],
    )


class SqliteDiagnosticStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def start_run(self, started_at: float) -> int:
        with self._db.write("recording a diagnostics run") as conn:
            cur = conn.execute(
                "INSERT INTO diagnostic_runs(started_at, status) VALUES (?, 'running')", (started_at,)
            )
            return int(cur.lastrowid or 0)

    def add_results(self, run_id: int, results: Sequence[DiagnosticResult]) -> None:
        with self._db.write("saving diagnostics results") as conn:
            conn.executemany(
                "INSERT INTO diagnostic_results(run_id, server_id, check_name, outcome, message, evidence) "
                "VALUES (?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        r.server_id,
                        r.check,
                        r.outcome.value,
                        r.message,
                        json.dumps({"duration_ms": round(r.duration_ms, 3), "evidence": r.evidence}),
                    )
                    for r in results
                ],
            )

    def finish_run(self, run_id: int, finished_at: float, status: str, summary: str) -> None:
        with self._db.write("finishing a diagnostics run") as conn:
            conn.execute(
                "UPDATE diagnostic_runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (finished_at, status, summary, run_id),
            )

    def runs(self, limit: int = 20) -> list[DiagnosticRun]:
        """Newest first, without results."""
        with self._db.read("listing diagnostics runs") as conn:
            rows = conn.execute(_RUN + " ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [DiagnosticRun(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def get(self, run_id: int) -> DiagnosticRun | None:
        """A run with its results in the order they were recorded (server names as they are now; a removed
        server's as it was, marked "(removed)")."""
        with self._db.read("reading a diagnostics run") as conn:
            row = conn.execute(_RUN + " WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            results = conn.execute(
                "SELECT d.server_id, d.check_name, d.outcome, d.message, "
                "COALESCE(s.name, d.removed_server || ' (removed)'), d.evidence "
                "FROM diagnostic_results d LEFT JOIN servers s ON s.id = d.server_id "
                "WHERE d.run_id = ? ORDER BY d.id",
                (run_id,),
            ).fetchall()
        return DiagnosticRun(row[0], row[1], row[2], row[3], row[4], tuple(_result(r) for r in results))
