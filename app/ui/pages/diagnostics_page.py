"""The Diagnostics page: run the diagnostic scenarios (all servers or one), the history of runs, and each run's
results with their evidence (a redacted request/answer summary).

GUI thread only; runs on the loop, reads on the read pool (``ctx.health.diagnostics``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.health import DiagnosticResult, DiagnosticRun
from app.services.context import AppContext
from app.ui.exception_hook import as_zondarr_error
from app.ui.models.simple_table import (
    SimpleTableModel,
    add_empty_state,
    add_page_title,
    format_when,
    make_table_view,
    refill_choices,
)
from app.ui.tasks import TaskGroup

RUN_HEADERS = ["Started", "Status", "Summary"]
RESULT_HEADERS = ["Server", "Check", "Result", "Time", "Message"]


class DiagnosticsPage(QWidget):
    message = Signal(str, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("diagnostics-page")
        self._runs: list[DiagnosticRun] = []
        self._results: list[DiagnosticResult] = []
        layout = QVBoxLayout(self)
        add_page_title(layout, "Diagnostics", self)
        bar = QHBoxLayout()
        self.server = QComboBox(self)
        self.server.setAccessibleName("Server to diagnose")
        self.server.addItem("All servers", None)
        label = QLabel("&Server:", self)
        label.setBuddy(self.server)
        self.run_button = QPushButton("&Run diagnostics", self)
        self.run_button.setObjectName("primary")
        self.run_button.setAccessibleName("Run diagnostics")
        self.status = QLabel(self)
        self.status.setObjectName("hint")
        bar.addWidget(label)
        bar.addWidget(self.server)
        bar.addWidget(self.run_button)
        bar.addWidget(self.status, 1)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.runs_model = SimpleTableModel(RUN_HEADERS)
        self.runs_view = make_table_view(self.runs_model, "diagnosticRunsTable", split, widths=(140, 80))
        self.model = SimpleTableModel(RESULT_HEADERS)
        self.view = make_table_view(self.model, "diagnosticResultsTable", split, widths=(130, 190, 60, 70))
        self.runs_empty = add_empty_state(
            self.runs_view, "No diagnostics run yet.\nRun diagnostics checks each server."
        )
        self.empty_state = add_empty_state(self.view, "Pick a run to see its results.")
        self.evidence = QPlainTextEdit(split)
        self.evidence.setObjectName("evidence")
        self.evidence.setReadOnly(True)
        self.evidence.setAccessibleName("Evidence of the selected result")
        self.evidence.setPlaceholderText("Select a result to see its evidence.")
        split.setSizes([140, 300, 110])
        layout.addWidget(split, 1)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.runs_view.selectionModel().selectionChanged.connect(self._on_run_selected)
        self.view.selectionModel().selectionChanged.connect(self._on_result_selected)

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self, select_id: int | None = None) -> None:
        diag = self._ctx.health.diagnostics
        servers = await self._ctx.runner.read(self._ctx.server_store.list)
        refill_choices(self.server, "All servers", [s.name for s in servers])
        keep = self.selected_run()
        self._runs = await self._ctx.runner.read(diag.history, 50)
        self.runs_model.set_rows(
            [(format_when(r.started_at), r.status, r.summary) for r in self._runs], [r.id for r in self._runs]
        )
        want = select_id if select_id is not None else (keep.id if keep else None)
        for i, r in enumerate(self._runs):
            if r.id == want or (want is None and i == 0):
                self.runs_view.selectRow(i)
                break

    def selected_run(self) -> DiagnosticRun | None:
        rows = self.runs_view.selectionModel().selectedRows()
        return self._runs[rows[0].row()] if rows and rows[0].row() < len(self._runs) else None

    def _on_run_selected(self, *_: object) -> None:
        run = self.selected_run()
        if run is not None:
            self.tasks.start("results", self._show(run.id), replace=True)

    async def _show(self, run_id: int) -> None:
        diag = self._ctx.health.diagnostics
        run = await self._ctx.runner.read(diag.get, run_id)
        self._results = list(run.results) if run else []
        self.model.set_rows(
            [
                (r.server or "this computer", r.check, r.outcome.value, f"{r.duration_ms:.0f} ms", r.message)
                for r in self._results
            ],
            tooltips=[r.message for r in self._results],
        )
        self.evidence.clear()
        failed = next((i for i, r in enumerate(self._results) if r.outcome.value == "fail"), None)
        if failed is not None:
            self.view.selectRow(failed)

    def _on_result_selected(self, *_: object) -> None:
        rows = self.view.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self._results):
            r = self._results[rows[0].row()]
            self.evidence.setPlainText(
                f"{r.check}: {r.outcome.value}\n{r.message}\n\n{r.evidence or '(no evidence)'}"
            )

    def _on_run_clicked(self) -> None:
        self.run_button.setEnabled(False)
        self.status.setText("Running…")
        name = self.server.currentData()
        self.tasks.start("run", self._run([name] if name else None))

    async def _run(self, names: list[str] | None) -> None:
        diag = self._ctx.health.diagnostics
        try:
            run = await diag.run(names)
        except Exception as exc:
            err = as_zondarr_error(exc)
            self.status.setText(err.user_message)
            self.message.emit(err.user_message, "error")
            return
        finally:
            self.run_button.setEnabled(True)
        self.status.setText(f"Last run: {run.status} ({run.summary}).")
        self.message.emit(
            f"Diagnostics {run.status}: {run.summary}.", "success" if run.status == "passed" else "error"
        )
        await self._reload(run.id)
