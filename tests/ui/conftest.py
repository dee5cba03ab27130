"""pytest-qt with qasync: ONE loop for the whole tests/ui package (PLATFORM-NOTES.md "qasync"), leftover tasks
cancelled after each test, cyclic garbage collected on the GUI thread only (as the app does), screenshots saved
under test-artifacts/screenshots/ (see README)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from app.process import GuiThreadCollector

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="package")
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    # Package scope: the loop counts as running for this thread until it is closed, so it must be gone before
    # tests of other packages call asyncio.run() (the CLI does) in the same session.
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    loop.stop()
    asyncio.events._set_running_loop(None)
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(scope="package", autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """As in the app (app/gui_session.py): no automatic collection, so the windows and dialogs a test closed are
    never destroyed on a net or db thread of a later test; each test's garbage is collected here, after it."""
    collector = GuiThreadCollector()
    collector.start()
    yield
    collector.stop()


@pytest.fixture(autouse=True)
def _collect_after_each_test(_collect_on_the_gui_thread: None) -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _cancel_leftover_tasks(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "qloop" not in request.fixturenames:
        return
    loop = request.getfixturevalue("qloop")
    app = QApplication.instance()
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in tasks:
        t.cancel()
    for _ in range(200):
        if all(t.done() for t in tasks):
            break
        app.processEvents()  # type: ignore[union-attr]
        loop.call_soon(lambda: None)


def screenshot(widget: QWidget, name: str) -> Path:
    """Saves ``widget.grab()`` as test-artifacts/screenshots/<name>.png and returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


# The window-shell fixtures (keyring, demo servers, started main windows): see shell_fixtures.py.
from tests.ui.shell_fixtures import dark_theme, demo_factory, memory_keyring, shell_factory  # noqa: E402, F401
