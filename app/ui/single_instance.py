"""One window per data folder: a QLocalServer named after the data dir. A second launch asks the first to
raise its window and exits (it never opens the cache, so it can never hit "database is locked").

GUI thread only. Needs a QCoreApplication/QApplication to exist.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

RAISE = b"raise\n"


def server_name(data_dir: Path) -> str:
    """A short, per-user, per-data-dir name (a socket file name on Unix, a pipe name on Windows)."""
    digest = hashlib.sha256(str(data_dir.expanduser().resolve()).encode()).hexdigest()[:16]
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    return f"zondarr-{user}-{digest}"


def ask_running_instance(name: str, timeout_ms: int = 500) -> bool:
    """True when another instance listens on ``name`` and was asked to raise its window."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(RAISE)
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class SingleInstance(QObject):
    """The first instance's listener; emits ``activate_requested`` when a later launch knocks."""

    activate_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_server_new_connection)

    def listen(self) -> bool:
        """Starts listening; a socket file left by a crashed instance is removed first."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _on_server_new_connection(self) -> None:
        # The knocking process writes one short line and exits: read it right here (a few ms at most), so no
        # per-connection slot outlives its socket.
        while self.server.hasPendingConnections():
            conn = self.server.nextPendingConnection()
            if conn.bytesAvailable() or conn.waitForReadyRead(300):
                data = bytes(conn.readAll().data())
                if RAISE.strip() in data:
                    self.activate_requested.emit()
            conn.abort()
            conn.deleteLater()
