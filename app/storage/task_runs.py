"""Background task history (``core.ports.TaskRunStore``). Writes: db-writer thread. Reads: any thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import new_correlation_id
from app.core.models import TaskRun
from app.storage.db import Database

_SELECT = "SELECT id, task, started_at, finished_at, status, message, correlation_id FROM task_runs"
INTERRUPTED = "Interrupted: Zondarr stopped before this task finished."


def _run(r: Any) -> TaskRun:
    return TaskRun(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


class SqliteTaskRunStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def start(self, task: str) -> TaskRun:
        run = TaskRun(0, task, self._clock(), correlation_id=new_correlation_id())
        with self._db.write("recording a task run") as conn:
            cur = conn.execute(
                "INSERT INTO task_runs(task, started_at, status, correlation_id) VALUES (?, ?, 'running', ?)",
                (task, run.started_at, run.correlation_id),
            )
            run.id = int(cur.lastrowid or 0)
        return run

    def finish(self, run: TaskRun) -> None:
        with self._db.write("saving a task run") as conn:
            conn.execute(
                "UPDATE task_runs SET finished_at = ?, status = ?, message = ?, correlation_id = ? WHERE id = ?",
                (run.finished_at, run.status, run.message, run.correlation_id, run.id),
            )

    def last(self, task: str) -> TaskRun | None:
        with self._db.read("reading task runs") as conn:
            r = conn.execute(
                _SELECT + " WHERE task = ? AND status <> 'running' ORDER BY started_at DESC, id DESC LIMIT 1",
                (task,),
            ).fetchone()
        return None if r is None else _run(r)

    def list(self, task: str | None = None, limit: int = 100) -> list[TaskRun]:
        """Newest first."""
        with self._db.read("listing task runs") as conn:
            rows = conn.execute(
                _SELECT + " WHERE ?1 IS NULL OR task = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
                (task, limit),
            ).fetchall()
        return [_run(r) for r in rows]

    def abandon_running(self) -> int:
        """Marks runs a killed process left running as failed; returns how many."""
        with self._db.write("closing interrupted task runs") as conn:
            return conn.execute(
                "UPDATE task_runs SET status = 'failed', finished_at = ?, message = ? WHERE status = 'running'",
                (self._clock(), INTERRUPTED),
            ).rowcount
