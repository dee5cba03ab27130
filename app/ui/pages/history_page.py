"""The Sync history page: every sync run with trigger, status, counts, duration and error.
GUI thread only; the runs are read in a background task (the list is small)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.services.context import AppContext
from app.ui.models.simple_table import SimpleTableModel, add_page_title, format_when, make_table_view
from app.ui.tasks import TaskGroup

HEADERS = [
    "Started",
    "Server",
    "Trigger",
    "Status",
    "Total",
    "Added",
    "Updated",
    "Removed",
    "Failed",
    "Duration",
    "Message or error",
]


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


class HistoryPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None, limit: int = 500) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._limit = limit
        self.tasks = TaskGroup("history-page")
        layout = QVBoxLayout(self)
        add_page_title(layout, "Sync history", self)
        self.model = SimpleTableModel(HEADERS, numeric_columns=[4, 5, 6, 7, 8, 9])
        self.view = make_table_view(
            self.model, "historyTable", self, widths=(140, 130, 80, 90, 70, 70, 70, 70, 60, 80)
        )
        layout.addWidget(self.view, 1)

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        ctx = self._ctx
        names = {s.id: s.name for s in await ctx.runner.read(ctx.server_store.list)}
        runs = await ctx.runner.read(ctx.runs.list, self._limit)
        rows, tips = [], []
        for r in runs:
            server = r.server_label(names)
            text = r.error or r.message
            if r.correlation_id and r.status.value in ("failed", "partial"):
                text = f"{text} (ref {r.correlation_id})"
            rows.append(
                (
                    format_when(r.started_at),
                    server,
                    r.trigger,
                    r.status.value,
                    r.total,
                    r.added,
                    r.updated,
                    r.removed,
                    r.failed_items,
                    format_duration(r.duration_s),
                    text,
                )
            )
            tips.append(text)
        self.model.set_rows(rows, [r.id for r in runs], tips)
