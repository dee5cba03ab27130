"""The Tasks page: each background task's interval, next run, last result and duration; Run now and
Pause/Resume. The table refreshes itself every few seconds while the page is visible.

GUI thread only; ``ctx.people.tasks`` (TaskScheduler) is called on the loop thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.errors import ZondarrError
from app.core.models import TaskStatus
from app.services.context import AppContext
from app.services.tasks import TaskScheduler
from app.ui.models.simple_table import SimpleTableModel, add_page_title, format_when, make_table_view
from app.ui.refresh_timer import refresh_while_visible
from app.ui.tasks import TaskGroup

HEADERS = ["Task", "Every", "Next run", "Last result", "Last run", "Duration", "Message"]


def interval_text(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def task_row(s: TaskStatus) -> tuple[object, ...]:
    last = s.last_run
    if s.running:
        result = "running"
    else:
        result = "never run" if last is None else last.status
    duration = "" if last is None or last.duration_s is None else f"{last.duration_s:.2f} s"
    next_run = "paused" if s.paused else format_when(s.next_run_at)
    return (
        s.title,
        interval_text(s.interval_s),
        next_run,
        result,
        "" if last is None else format_when(last.started_at),
        duration,
        "" if last is None else last.message,
    )


class TasksPage(QWidget):
    message = Signal(str, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("tasks-page")
        self._statuses: list[TaskStatus] = []
        layout = QVBoxLayout(self)
        add_page_title(layout, "Background tasks", self)
        bar = QHBoxLayout()
        self.run_button = QPushButton("&Run now", self)
        self.run_button.setObjectName("primary")
        self.run_button.setAccessibleName("Run the selected task now")
        self.pause_button = QPushButton("&Pause", self)
        self.pause_button.setAccessibleName("Pause or resume the selected task")
        bar.addWidget(self.run_button)
        bar.addWidget(self.pause_button)
        bar.addStretch(1)
        hint = QLabel("Tasks that fell due while the computer slept run once after wake-up.", self)
        hint.setObjectName("hint")
        bar.addWidget(hint)
        layout.addLayout(bar)
        self.model = SimpleTableModel(HEADERS)
        self.view = make_table_view(self.model, "tasksTable", self, widths=(170, 70, 130, 90, 130, 80))
        layout.addWidget(self.view, 1)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._timer = refresh_while_visible(
            self, self.reload, lambda: self.tasks.get("reload") is not None, 3000
        )
        self._update_buttons()

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        scheduler = self._ctx.people.tasks
        selected = self.selected()
        self._statuses = await scheduler.status()
        self.model.set_rows([task_row(s) for s in self._statuses], [s.name for s in self._statuses])
        if selected is not None:
            self.select_task(selected.name)
        self._update_buttons()

    def selected(self) -> TaskStatus | None:
        rows = self.view.selectionModel().selectedRows()
        return self._statuses[rows[0].row()] if rows and rows[0].row() < len(self._statuses) else None

    def select_task(self, name: str) -> None:
        for r, s in enumerate(self._statuses):
            if s.name == name:
                self.view.selectRow(r)

    def _update_buttons(self, *_: object) -> None:
        sel = self.selected()
        self.run_button.setEnabled(sel is not None and not sel.running)
        self.pause_button.setEnabled(sel is not None)
        self.pause_button.setText("&Resume" if sel is not None and sel.paused else "&Pause")

    def _on_run_clicked(self) -> None:
        sel = self.selected()
        if sel is not None:
            self.tasks.start(f"run:{sel.name}", self._run(sel.name, sel.title))

    async def _run(self, name: str, title: str) -> None:
        scheduler = self._ctx.people.tasks
        self.run_button.setEnabled(False)
        pending = self.tasks.start("reload", self._reload(), replace=True)
        run = await scheduler.run_now(name)
        if not pending.done():
            pending.cancel()
        self.message.emit(
            f"{title}: {run.status} — {run.message}", "success" if run.status == "succeeded" else "error"
        )
        await self._reload()

    def _on_pause_clicked(self) -> None:
        sel, scheduler = self.selected(), self._ctx.people.tasks
        if sel is None:
            return
        self.tasks.start(f"pause:{sel.name}", self._pause(scheduler, sel.name, not sel.paused), replace=True)

    async def _pause(self, scheduler: TaskScheduler, name: str, paused: bool) -> None:
        try:
            await scheduler.pause(name, paused)  # kept in the cache: a restart keeps the task paused
        except ZondarrError as err:  # could not be saved: nothing changed
            self.message.emit(err.display(), "error")
        await self._reload()
