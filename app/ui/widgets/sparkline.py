"""Small hand-drawn charts (no QtCharts): a latency sparkline and a round status light.

GUI thread only. ``Sparkline.set_points`` takes (time, latency ms or None) pairs, oldest first; a None is a
failed check, drawn as a red tick on the base line.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.ui.widgets.filter_bar import counted

STATUS_COLORS = {
    "up": "#3fb950",
    "down": "#f85149",
    "auth failed": "#d29922",
    "unknown": "#7f848e",
    "draft": "#7f848e",
    "disabled": "#5c6370",
}


def scale_points(
    points: Sequence[tuple[float, float | None]], width: float, height: float, span: tuple[float, float]
) -> tuple[list[QPointF], list[float]]:
    """(line points of successful checks, x positions of failed checks) in a width×height box; time runs
    left to right over ``span``, latency bottom (0) to top (the maximum seen). Pure."""
    t0, t1 = span
    dt = max(t1 - t0, 1e-9)
    top = max((v for _, v in points if v is not None), default=0.0) or 1.0
    line, fails = [], []
    for t, v in points:
        x = (t - t0) / dt * width
        if v is None:
            fails.append(x)
        else:
            line.append(QPointF(x, height - v / top * (height - 2) - 1))
    return line, fails


class Sparkline(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sparkline")
        self.setAccessibleName("Latency over the last 24 hours")
        self.points: list[tuple[float, float | None]] = []
        self.span = (0.0, 1.0)
        self.setMinimumSize(180, 34)

    def sizeHint(self) -> QSize:
        return QSize(240, 36)

    def set_points(self, points: Sequence[tuple[float, float | None]], span: tuple[float, float]) -> None:
        self.points, self.span = list(points), span
        ok = [v for _, v in points if v is not None]
        failed = len(points) - len(ok)
        text = (
            f"{counted(len(points), 'check')}, latency {min(ok):.0f}–{max(ok):.0f} ms"
            if ok
            else counted(len(points), "check")
        )
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(span[0]))
        self.setToolTip(text + (f", {failed} failed" if failed else "") + f" (since {since})")
        self.setAccessibleDescription(self.toolTip())
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.setPen(QPen(QColor("#3a3f4b"), 1))
        p.drawLine(r.bottomLeft(), r.bottomRight())
        line, fails = scale_points(self.points, r.width(), r.height(), self.span)
        p.setPen(QPen(QColor("#f85149"), 2))
        for x in fails:
            p.drawLine(QPointF(r.left() + x, r.bottom()), QPointF(r.left() + x, r.bottom() - 6))
        if line:
            path = QPainterPath(line[0] + r.topLeft())
            for pt in line[1:]:
                path.lineTo(pt + r.topLeft())
            p.setPen(QPen(QColor("#61afef"), 1.5))
            p.drawPath(path)
            p.setBrush(QColor("#61afef"))
            p.drawEllipse(line[-1] + r.topLeft(), 2.0, 2.0)
        elif not fails:
            p.setPen(QColor("#7f848e"))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "no checks yet")
        p.end()


class StatusLight(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = "unknown"
        self.setFixedSize(16, 16)

    def set_status(self, status: str) -> None:
        self.status = status
        self.setToolTip(status)
        self.setAccessibleName(f"Status: {status}")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(STATUS_COLORS.get(self.status, "#7f848e")))
        p.drawEllipse(QRectF(2, 2, 12, 12))
        p.end()
