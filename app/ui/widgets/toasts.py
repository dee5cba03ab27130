"""Toasts: short, non-modal notices that hide themselves, shown in the bottom-right corner of the window's
largest visible list or table (the data area), so that they never cover a button, field or menu.

GUI thread only. ``ToastHost.show_toast`` never blocks and never takes focus.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHBoxLayout, QLabel, QWidget


class Toast(QFrame):
    def __init__(self, parent: QWidget, text: str, kind: str) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setProperty("kind", kind)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.setAccessibleName("Notification")
        self.setAccessibleDescription(text)
        self.setMaximumWidth(420)


class ToastHost(QObject):
    """Shows toasts over ``window``, stacked upwards from the bottom-right corner."""

    def __init__(self, window: QWidget, msec: int = 3500) -> None:
        super().__init__(window)
        self._window = window
        self._msec = msec
        self._toasts: list[Toast] = []
        self.history: list[str] = []  # every text shown, oldest first (tests and the log read it)
        window.installEventFilter(self)

    def show_toast(self, text: str, kind: str = "info", msec: int | None = None) -> Toast:
        """Shows ``text`` (kind ``info``, ``success`` or ``error``) for ``msec`` ms."""
        toast = Toast(self._window, text, kind)
        toast.adjustSize()
        self._toasts.append(toast)
        self.history.append(text)
        toast.show()
        toast.raise_()
        self._place()
        QTimer.singleShot(msec or self._msec, toast, lambda t=toast: self._hide(t))
        return toast

    def visible_texts(self) -> list[str]:
        return [t.label.text() for t in self._toasts]

    def _hide(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
            toast.hide()
            toast.deleteLater()
            self._place()

    def area(self) -> QRect:
        """Where toasts go, in window coordinates: the largest visible list or table's viewport (rows, not
        controls), else the window above its status bar."""
        best: QRect | None = None
        for view in self._window.findChildren(QAbstractItemView):
            viewport = view.viewport()
            if not view.isVisible() or viewport.width() < 240 or viewport.height() < 80:
                continue
            rect = QRect(viewport.mapTo(self._window, QPoint(0, 0)), viewport.size())
            if best is None or rect.width() * rect.height() > best.width() * best.height():
                best = rect
        return best if best is not None else QRect(0, 0, self._window.width(), self._window.height() - 32)

    def reposition(self) -> None:
        """Moves the shown toasts into the data area of what the window shows now (a page switch)."""
        self._place()

    def _place(self) -> None:
        area = self.area()
        margin = 12
        y = area.bottom() - margin
        for toast in reversed(self._toasts):
            toast.setMaximumWidth(min(420, max(200, area.width() - 2 * margin)))
            toast.adjustSize()
            y -= toast.height()
            toast.move(area.right() - toast.width() - margin, y)
            y -= 8

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self._place()
        return False
