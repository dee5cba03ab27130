"""The Health page: per server a status light, latency, uptime % over 24 h / 7 d / 30 d and a latency sparkline
of the last 24 h; open and past incidents with Acknowledge + note; "Check now" runs one heartbeat round.

GUI thread only; reads run on the read pool, the heartbeat round on the loop (``ctx.health.monitor``).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.health import Incident
from app.services.context import AppContext
from app.services.health import WINDOWS, ServerHealth
from app.ui.exception_hook import as_zondarr_error
from app.ui.models.simple_table import (
    SimpleTableModel,
    add_empty_state,
    add_page_title,
    format_when,
    make_table_view,
)
from app.ui.refresh_timer import refresh_while_visible
from app.ui.tasks import TaskGroup
from app.ui.widgets.filter_bar import counted
from app.ui.widgets.sparkline import Sparkline, StatusLight

INCIDENT_HEADERS = ["Server", "Kind", "Opened", "Closed", "Duration", "Acknowledged", "Note", "Detail"]


def pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f} %"


def uptime_text(value: float | None, window_s: float, first_at: float | None, now: float) -> tuple[str, str]:
    """(text, tooltip) of an uptime over ``window_s`` when the first check of the last 24 h was at ``first_at``:
    a window the checks do not cover yet (90 %) shows "—", or for the shortest window the share "since 15:12"."""
    if value is None or first_at is None or now - first_at >= 0.9 * window_s:
        return pct(value), ""
    since = time.strftime("%H:%M", time.localtime(first_at))
    if window_s <= 86400.0:
        return f"{pct(value)} since {since}", f"Checks started at {format_when(first_at)}."
    return "—", f"Not enough data yet: checks started at {format_when(first_at)}."


def incident_row(inc: Incident, server: str) -> tuple[object, ...]:
    minutes = "" if inc.duration_s is None else f"{inc.duration_s / 60:.0f} min"
    return (
        server,
        inc.kind,
        format_when(inc.opened_at),
        format_when(inc.closed_at) or "open",
        minutes,
        format_when(inc.acknowledged_at),
        inc.acknowledged_note or "",
        inc.detail,
    )


class HealthPage(QWidget):
    message = Signal(str, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("health-page")
        self._incidents: list[Incident] = []
        self._row_widgets: list[QWidget] = []
        self.lights: dict[str, StatusLight] = {}
        self.sparklines: dict[str, Sparkline] = {}
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        add_page_title(top, "Health", self)
        top.addStretch(1)
        self.check_button = QPushButton("&Check now", self)
        self.check_button.setAccessibleName("Check every server now")
        top.addWidget(self.check_button)
        layout.addLayout(top)
        self.grid_host = QWidget(self)
        self.grid_host.setObjectName("healthGrid")
        self.grid = QGridLayout(self.grid_host)
        self.grid.setHorizontalSpacing(14)
        layout.addWidget(self.grid_host)
        layout.addWidget(QLabel("Incidents (open first, then past)", self))
        self.model = SimpleTableModel(INCIDENT_HEADERS)
        self.view = make_table_view(
            self.model, "incidentsTable", self, widths=(130, 80, 140, 140, 80, 140, 140)
        )
        self.empty_state = add_empty_state(
            self.view, "No incidents: every server has answered its heartbeats."
        )
        layout.addWidget(self.view, 1)
        ack = QHBoxLayout()
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("Note (what you did or know)…")
        self.note.setAccessibleName("Acknowledgement note")
        self.ack_button = QPushButton("&Acknowledge", self)
        self.ack_button.setAccessibleName("Acknowledge the selected incident")
        ack.addWidget(self.note, 1)
        ack.addWidget(self.ack_button)
        layout.addLayout(ack)
        self.check_button.clicked.connect(self._on_check_clicked)
        self.ack_button.clicked.connect(self._on_ack_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._timer = refresh_while_visible(
            self, self.reload, lambda: self.tasks.get("reload") is not None, 15000
        )
        self._update_buttons()

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        health = self._ctx.health.monitor
        rows: list[ServerHealth] = await self._ctx.runner.read(health.summary)
        now = self._ctx.clock()
        series = {r.server.id: await self._ctx.runner.read(health.latency_series, r.server.id) for r in rows}
        incidents = await self._ctx.runner.read(health.incidents)
        self._fill_servers(rows, series, now)
        names = {r.server.id: r.server.name for r in rows}
        incidents.sort(key=lambda i: (not i.is_open, -i.opened_at))
        self._incidents = incidents
        self.model.set_rows(
            [incident_row(i, names.get(i.server_id, "(removed)")) for i in incidents],
            [i.id for i in incidents],
            [i.detail for i in incidents],
        )
        self._update_buttons()

    def _fill_servers(
        self, rows: list[ServerHealth], series: dict[int, list[tuple[float, float | None]]], now: float
    ) -> None:
        for w in self._row_widgets:
            self.grid.removeWidget(w)
            w.deleteLater()
        self._row_widgets.clear()
        self.lights.clear()
        self.sparklines.clear()
        headers = ["", "Server", "Status", "Latency", *(f"Up {k}" for k in WINDOWS), "Latency, last 24 h"]
        for c, text in enumerate(headers):
            self._add(QLabel(text, self.grid_host), 0, c).setObjectName("hint")
        if not rows:
            self._add(QLabel("No servers yet: add one on the Servers page.", self.grid_host), 1, 1)
        for r, row in enumerate(rows, start=1):
            light = StatusLight(self.grid_host)
            light.set_status(row.status)
            self.lights[row.server.name] = light
            self._add(light, r, 0)
            self._add(QLabel(row.server.name, self.grid_host), r, 1)
            last = row.last_check
            status = row.status + ("" if last is None or last.ok else f" ({last.status})")
            self._add(QLabel(status, self.grid_host), r, 2)
            latency = "–" if last is None or last.latency_ms is None else f"{last.latency_ms:.0f} ms"
            self._add(QLabel(latency, self.grid_host), r, 3)
            points = series.get(row.server.id, [])
            first_at = points[0][0] if points else None
            for c, (key, span) in enumerate(WINDOWS.items(), start=4):
                text, tip = uptime_text(row.uptime[key], span, first_at, now)
                cell = QLabel(text, self.grid_host)
                cell.setToolTip(tip)
                self._add(cell, r, c)
            spark = Sparkline(self.grid_host)
            now = max([now, *(t for t, _ in points[-1:])])  # the service's clock may run ahead of ctx.clock
            # the last 24 h, or less when the first check is younger: the points then use the whole width
            start = (
                max(now - 86400.0, points[0][0] - 0.02 * (now - points[0][0]) - 1e-3)
                if points
                else now - 86400.0
            )
            spark.set_points(points, (start, now))
            self.sparklines[row.server.name] = spark
            self._add(spark, r, 4 + len(WINDOWS))
        self.grid.setColumnStretch(4 + len(WINDOWS), 1)

    def _add(self, w: QWidget, row: int, column: int) -> QWidget:
        self.grid.addWidget(w, row, column)
        self._row_widgets.append(w)
        return w

    def selected(self) -> Incident | None:
        rows = self.view.selectionModel().selectedRows()
        return self._incidents[rows[0].row()] if rows and rows[0].row() < len(self._incidents) else None

    def _update_buttons(self, *_: object) -> None:
        sel = self.selected()
        self.ack_button.setEnabled(sel is not None)
        self.ack_button.setToolTip("" if sel is not None else "Select an incident first.")

    def _on_check_clicked(self) -> None:
        self.check_button.setEnabled(False)
        self.tasks.start("check", self._check())

    async def _check(self) -> None:
        health = self._ctx.health.monitor
        try:
            checks = await health.heartbeat_round()
            down = sum(not c.ok for c in checks)
            self.message.emit(
                f"Checked {counted(len(checks), 'server')}"
                + (f": {down} not answering." if down else ": all up."),
                "error" if down else "success",
            )
        except Exception as exc:
            self.message.emit(as_zondarr_error(exc).user_message, "error")
        finally:
            self.check_button.setEnabled(True)
        await self._reload()

    def _on_ack_clicked(self) -> None:
        sel = self.selected()
        if sel is not None:
            self.tasks.start("ack", self._ack(sel.id, self.note.text()))

    async def _ack(self, incident_id: int, note: str) -> None:
        health = self._ctx.health.monitor
        try:
            await health.acknowledge(incident_id, note)
        except Exception as exc:
            self.message.emit(as_zondarr_error(exc).user_message, "error")
            return
        self.note.clear()
        self.message.emit("Incident acknowledged.", "success")
        await self._reload()
