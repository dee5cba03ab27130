"""Fixtures for the window-shell tests: an in-memory keyring, fast client settings, real caches in tmp_path,
demo servers over HTTP on loopback, and a started MainWindow torn down in the right order (window tasks first,
then ``ctx.close()``). Everything runs on the ONE session qasync loop (``qloop`` in conftest.py).

Import into a test module: ``from tests.ui.shell_fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
import qasync
from PySide6.QtCore import QEvent, QEventLoop, QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from app.core.models import AuthMethod, Credentials, NewServer, Server, ServerKind
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.services.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.theme import apply_theme
from app.wiring import build_context
from tests.e2e.conftest import MemoryKeyring

T = TypeVar("T")

FAST_ENV = {
    "ZONDARR_RETRY_BACKOFF_S": "0.01",
    "ZONDARR_RETRIES": "0",
    "ZONDARR_REQUEST_TIMEOUT_S": "5",
    "ZONDARR_CONNECT_TIMEOUT_S": "1",
}
PLEX_TOKEN = "demo-plex-token"
JELLYFIN_KEY = "demo-jellyfin-key"


class FakeClock:
    """A controllable ``ctx.clock`` (UTC epoch seconds)."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pump(until: Callable[[], bool], timeout: float = 30.0) -> None:
    """Processes Qt (and so qasync) events until ``until()`` is true. Raises TimeoutError."""
    app = QApplication.instance()
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)  # type: ignore[union-attr]
        time.sleep(0.001)


def run(loop: qasync.QEventLoop, coro: Awaitable[T], timeout: float = 60.0) -> T:
    """Runs ``coro`` (a coroutine or future) on the running session loop, pumping Qt until it is done."""
    task = asyncio.ensure_future(coro, loop=loop)
    try:
        pump(task.done, timeout)
    except TimeoutError:
        task.cancel()
        raise
    return task.result()


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def dark_theme(qapp: QApplication) -> Iterator[None]:
    palette, sheet, style = QPalette(qapp.palette()), qapp.styleSheet(), qapp.style().name()
    apply_theme(qapp, "dark")
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


@pytest.fixture
def demo_factory() -> Iterator[Callable[..., DemoServer]]:
    started: list[DemoServer] = []

    def start(kind: str, tracks: int = 1500, **kw: Any) -> DemoServer:
        server = start_demo_server(DemoConfig(kind=kind, tracks=tracks, **kw))
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


class Shell:
    """A context, and (after ``open()``) a started main window, over a cache in ``data_dir``."""

    def __init__(self, loop: qasync.QEventLoop, data_dir: Path, overrides: dict[str, str] | None) -> None:
        self.loop = loop
        self.data_dir = data_dir
        self.clock = FakeClock()
        # Only the front ends' clock is faked (relative times on screen); the stores and services keep real time.
        self.ctx: AppContext = dataclasses.replace(
            build_context(data_dir, overrides=overrides), clock=self.clock
        )
        self.window: MainWindow | None = None

    def add_plex(self, plex: DemoServer, name: str = "Demo Plex") -> Server:
        return run(
            self.loop,
            self.ctx.servers.add(
                NewServer(name, ServerKind.PLEX, plex.url, AuthMethod.TOKEN), Credentials(token=PLEX_TOKEN)
            ),
        )

    def add_jellyfin(self, jellyfin: DemoServer, name: str = "Demo Jellyfin") -> Server:
        return run(
            self.loop,
            self.ctx.servers.add(
                NewServer(name, ServerKind.JELLYFIN, jellyfin.url, AuthMethod.API_KEY),
                Credentials(token=JELLYFIN_KEY),
            ),
        )

    def sync_now(self) -> Any:
        return run(self.loop, self.ctx.sync.sync(trigger="test"))

    def open(self, background_jobs: bool = True) -> MainWindow:
        settings = QSettings(str(self.data_dir / "ui-settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(self.ctx, settings)
        window.resize(1180, 720)
        window.show()
        window.raise_()
        window.activateWindow()
        window.start(background_jobs=background_jobs)
        self.window = window
        return window

    def close(self) -> None:
        if self.window is not None:
            window, self.window = self.window, None
            for d in window.sync.error_dialogs:
                try:
                    d.close()
                except RuntimeError:
                    pass
            # Dialogs a test left open (a modal one would block the next test's window) go with their window.
            for widget in QApplication.allWidgets():
                if (
                    widget is not window
                    and widget.isWindow()
                    and widget.isVisible()
                    and window.isAncestorOf(widget)
                ):
                    widget.close()
            window.close()
            run(self.loop, window.shutdown(), timeout=30)
            window.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.ctx.close()


@pytest.fixture
def shell_factory(
    qloop: qasync.QEventLoop, tmp_path: Path, memory_keyring: MemoryKeyring
) -> Iterator[Callable[..., Shell]]:
    shells: list[Shell] = []

    def make(name: str = "cache", overrides: dict[str, str] | None = None) -> Shell:
        shell = Shell(qloop, tmp_path / name, overrides)
        shells.append(shell)
        return shell

    yield make
    for shell in reversed(shells):
        shell.close()


def open_plex_and_jellyfin(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., DemoServer], libraries: int
) -> tuple[DemoServer, DemoServer, Shell, MainWindow]:
    """A demo Plex (with its plex.tv) and a demo Jellyfin, both added and synced, and the window open without
    background jobs."""
    plex = demo_factory("plex", tracks=60, users=3, libraries=libraries)
    jelly = demo_factory("jellyfin", tracks=60, users=3, libraries=libraries)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_plex(plex)
    shell.add_jellyfin(jelly)
    shell.sync_now()
    return plex, jelly, shell, shell.open(background_jobs=False)
