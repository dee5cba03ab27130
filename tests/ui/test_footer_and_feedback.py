"""Footer texts in every state with a controllable clock, toasts, the error dialog, the one exception handler
and the single-instance guard."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import qasync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from app.core.errors import AuthFailed, ZondarrError
from app.ui import exception_hook
from app.ui.dialogs.error_dialog import ErrorDialog
from app.ui.single_instance import SingleInstance, ask_running_instance, server_name
from app.ui.tasks import TaskGroup
from app.ui.widgets.status_footer import StatusFooter, relative_time
from app.ui.widgets.toasts import ToastHost
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import FakeClock, pump

UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def test_footer_texts_in_each_state(qtbot: Any) -> None:
    clock = FakeClock(1_700_000_000.0)
    footer = StatusFooter(clock, tick_ms=20)
    qtbot.addWidget(footer)
    actions: list[str] = []
    footer.action_requested.connect(actions.append)
    assert footer.text() == "Never synced · Sync now"
    footer.set_idle(18_432, clock.now - 2 * 3600)
    assert footer.text() == "18,432 tracks · synced 2 hours ago · Refresh"
    clock.advance(3600)  # the minute timer re-renders the relative time
    qtbot.waitUntil(lambda: footer.text() == "18,432 tracks · synced 3 hours ago · Refresh", timeout=2000)
    footer.set_syncing(4_200, 18_432)
    assert footer.text() == "Syncing… 4,200 / 18,432 (23 %)"
    footer.set_syncing(18_431, 18_432)
    assert footer.text() == "Syncing… 18,431 / 18,432 (99 %)"
    footer.set_failed("Home Plex: the server refused the credentials.", "abc123defg")
    assert footer.text() == "Sync failed · Retry"
    assert "refused the credentials" in footer.toolTip() and "abc123defg" in footer.toolTip()
    footer.activate_link()
    footer.set_partial(2, 3, 1, "Office Plex: unreachable")
    assert footer.text() == "2 of 3 servers synced, 1 failed · Details"
    footer.activate_link()
    footer.set_idle(1, clock.now - 30)
    assert footer.text() == "1 track · synced just now · Refresh"
    assert footer.toolTip() == ""
    assert actions == ["refresh", "details"]
    assert '<a href="refresh">Refresh</a>' in footer.label.text()  # the last word is a real link


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delta=st.floats(min_value=0, max_value=400 * 86400, allow_nan=False))
def test_relative_time_floors_to_the_largest_unit(delta: float) -> None:
    text = relative_time(1_000_000.0, 1_000_000.0 + delta)
    if delta < 60:
        assert text == "just now"
        return
    m = re.fullmatch(r"(\d+) (minute|hour|day)s? ago", text)
    assert m, text
    n, unit = int(m.group(1)), UNITS[m.group(2)]
    assert n * unit <= delta < (n + 1) * unit
    assert (n == 1) == (not text.split()[1].endswith("s"))
    bigger = [u for u in UNITS.values() if u > unit]
    assert all(delta < b for b in bigger)


def test_toasts_hide_themselves(qtbot: Any) -> None:
    window = QWidget()
    window.resize(600, 400)
    qtbot.addWidget(window)
    window.show()
    host = ToastHost(window, msec=50)
    host.show_toast("Added Home Plex.", "success")
    assert host.visible_texts() == ["Added Home Plex."]
    qtbot.waitUntil(lambda: host.visible_texts() == [], timeout=2000)
    assert host.history == ["Added Home Plex."]


def test_error_dialog_is_non_blocking_and_copies_details(qtbot: Any, dark_theme: None) -> None:
    err = AuthFailed("Home Plex", "Home Plex: the server refused the credentials.")
    dialog = ErrorDialog.for_error(err)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.isModal() and QApplication.activeModalWidget() is None
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.details_text()
    assert err.user_message in copied and err.remedy in copied and err.correlation_id in copied
    screenshot(dialog, "shell_error_dialog")


def test_one_handler_catches_task_and_slot_exceptions_and_the_app_keeps_running(
    qloop: qasync.QEventLoop, qtbot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shown: list[ZondarrError] = []
    exception_hook.install(qloop, shown.append)
    try:
        group = TaskGroup("test")

        async def boom() -> None:
            raise RuntimeError("kaput")

        group.start("boom", boom())
        pump(lambda: len(shown) == 1, 5)
        assert "Something went wrong inside Zondarr" in shown[0].user_message
        assert "kaput" in shown[0].detail and shown[0].correlation_id in caplog.text

        async def bare() -> None:  # a task nobody owns: the loop's exception handler
            raise ValueError("lost")

        task = qloop.create_task(bare())
        pump(task.done, 5)
        del task
        import gc

        gc.collect()
        pump(lambda: len(shown) == 2, 5)
        # sys.excepthook is what PySide6 calls for an exception escaping a slot
        import sys

        try:
            raise KeyError("slot")
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        assert len(shown) == 3 and "KeyError" in shown[2].detail
        # a ZondarrError is shown as it is
        exception_hook.report_exception(AuthFailed("X"))
        assert isinstance(shown[3], AuthFailed)
        # and the loop still runs tasks
        done = qloop.create_task(asyncio.sleep(0, result=42))
        pump(done.done, 5)
        assert done.result() == 42
    finally:
        exception_hook.uninstall(qloop)


def test_single_instance_guard_raises_the_first_window(qtbot: Any, tmp_path: Any) -> None:
    name = server_name(tmp_path)
    assert name == server_name(tmp_path / ".") and name != server_name(tmp_path / "other")
    first = SingleInstance(name)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activate_requested, timeout=3000):
            assert ask_running_instance(name)
        assert not ask_running_instance(server_name(tmp_path / "other"))
    finally:
        first.close()
    assert not ask_running_instance(name)
