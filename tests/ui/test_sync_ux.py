"""The window's sync UX against demo servers over real HTTP: first sync through the modal, cancel, background
refresh, "Already syncing", stale auto-refresh, failure and partial footers, the offline banner."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.filters import TrackFilter
from app.core.models import SyncStatus
from app.storage.locks import FileJobLocks
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump, run

IDLE = re.compile(r"^(?P<n>[\d,]+) tracks · synced (?P<ago>just now|\d+ \w+ ago) · Refresh$")
SYNCING = re.compile(r"^Syncing…( [\d,]+ / [\d,]+ \(\d+ %\))?$")  # no counts while a refresh finds nothing


def _count(shell: Shell) -> int:
    return shell.ctx.tracks.count(TrackFilter())


def test_first_sync_runs_in_the_modal_and_fills_the_library(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex = demo_factory("plex", tracks=2000, faults="tracks:latency=0.02")
    jelly = demo_factory("jellyfin", tracks=1500)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_plex(plex)
    shell.add_jellyfin(jelly)
    assert _count(shell) == 0
    window = shell.open()
    dialog = window.sync.dialog
    pump(dialog.isVisible, 10)
    assert QApplication.activeModalWidget() is dialog  # the modal blocks the window
    assert dialog.isModal()
    pump(lambda: "/" in dialog.count_label.text(), 20)  # progress arrived: "done / total tracks (p %)"
    assert re.match(r"^[\d,]+ / [\d,]+ tracks \(\d+ %\)$", dialog.count_label.text())
    assert "Demo Plex —" in dialog.server_label.text()
    assert SYNCING.match(window.footer.text()), window.footer.text()
    screenshot(window, "shell_first_sync_window")
    screenshot(dialog, "shell_first_sync_dialog")
    pump(lambda: not dialog.isVisible(), 60)
    assert _count(shell) == 3500
    pump(lambda: window.library.model.rowCount() == 3500, 20)
    assert window.library.model.data(window.library.model.index(0, 0))  # real rows, not placeholders
    pump(lambda: window.footer.text() == "3,500 tracks · synced just now · Refresh", 10)
    assert "Synced 2 servers" in window.toasts.history[-1]
    screenshot(window, "shell_library_after_first_sync")
    # the history page shows the two runs of that job
    window.sidebar.setCurrentRow(3)
    pump(lambda: window.history_page.model.rowCount() == 2, 10)
    rows = [window.history_page.model.row(i) for i in range(2)]
    assert {r[1] for r in rows} == {"Demo Plex", "Demo Jellyfin"}
    assert {r[2] for r in rows} == {"startup"} and {r[3] for r in rows} == {"succeeded"}
    assert sorted(r[4] for r in rows) == [1500, 2000]
    screenshot(window, "shell_history_page")


def test_cancel_in_the_modal_leaves_the_cache_as_it_was(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=4000, faults="tracks:latency=0.05")
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    window = shell.open()
    dialog = window.sync.dialog
    pump(lambda: dialog.isVisible() and "/" in dialog.count_label.text(), 20)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert window.sync.controller.cancel_requested
    pump(lambda: not dialog.isVisible(), 30)
    pump(lambda: not window.sync.controller.is_running(), 30)
    assert _count(shell) == 0
    assert shell.ctx.tracks.libraries() == []
    assert window.footer.text() == "Sync cancelled · Sync now"
    runs = shell.ctx.runs.list()
    assert [r.status for r in runs] == [SyncStatus.CANCELLED]
    screenshot(window, "shell_cancelled")


def test_refresh_runs_in_background_and_a_second_refresh_says_already_syncing(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=1500)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open()
    pump(lambda: IDLE.match(window.footer.text()) is not None, 10)
    assert not window.sync.controller.is_running()  # fresh cache: nothing starts by itself
    jelly.set_faults("tracks:latency=0.3")  # a refresh asks few pages: each slow enough to be seen running
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Ctrl+R
    assert window.sync.controller.is_running()
    first_task = window.sync.controller.task
    pump(lambda: SYNCING.match(window.footer.text()) is not None, 10)
    assert not window.sync.dialog.isVisible()  # non-empty cache: background, no modal
    assert QApplication.activeModalWidget() is None
    window.refresh_action.trigger()  # the toolbar button while syncing
    assert window.toasts.visible_texts()[-1] == "Already syncing"
    assert window.sync.controller.task is first_task
    screenshot(window, "shell_background_sync_already_syncing")
    pump(lambda: not window.sync.controller.is_running(), 30)
    runs = shell.ctx.runs.list()
    assert [r.trigger for r in runs] == ["manual", "test"]  # exactly one new run
    assert runs[0].status is SyncStatus.SUCCEEDED and runs[0].unchanged == 1500
    pump(lambda: window.footer.text() == "1,500 tracks · synced just now · Refresh", 10)


def test_refresh_while_another_process_syncs_says_already_syncing_and_leaves_the_footer_idle(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=300)
    shell = shell_factory()
    server = shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open()
    pump(lambda: IDLE.match(window.footer.text()) is not None, 10)
    other_process = FileJobLocks(shell.data_dir).try_acquire(
        f"sync-{server.id}"
    )  # as a CLI sync would hold it
    assert other_process is not None
    try:
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # the service's job answers
        pump(lambda: bool(window.toasts.visible_texts()) and not window.sync.controller.is_running(), 10)
        assert (
            window.toasts.visible_texts()[-1]
            == "Already syncing Demo Jellyfin. Wait for that sync to finish."
        )
        pump(lambda: IDLE.match(window.footer.text()) is not None, 10)  # not left at "Syncing…"
        assert window.desktop.tray.state != "syncing"
        screenshot(window, "shell_refresh_while_another_process_syncs")
    finally:
        other_process.__exit__(None, None, None)
    assert [r.trigger for r in shell.ctx.runs.list()] == ["test"]  # no run was started


def test_footer_link_retries_after_a_failed_sync_and_partial_shows_details(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex = demo_factory("plex", tracks=800)
    jelly = demo_factory("jellyfin", tracks=800)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_plex(plex)
    shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open()
    pump(lambda: window.footer.text() == "1,600 tracks · synced just now · Refresh", 10)
    # one server fails: partial
    jelly.set_faults("any:500")
    window.footer.activate_link()  # "Refresh"
    pump(lambda: window.footer.state == "partial", 30)
    assert window.footer.text() == "1 of 2 servers synced, 1 failed · Details"
    assert "Demo Jellyfin" in window.footer.toolTip()
    screenshot(window, "shell_footer_partial")
    window.footer.activate_link()  # "Details" opens the per-server outcome, non-blocking
    details = window.sync.error_dialogs[-1]
    assert details.isVisible() and not details.isModal()
    assert "Demo Jellyfin: failed" in details.remedy
    details.close()
    # both fail: "Sync failed · Retry" with the error and its reference in the tooltip
    plex.set_faults("any:500")
    window.footer.activate_link()  # this link is still "Details": use Refresh
    window.refresh_action.trigger()
    pump(lambda: window.footer.state == "failed", 30)
    assert window.footer.text() == "Sync failed · Retry"
    tip = window.footer.toolTip()
    failed_runs = [r for r in shell.ctx.runs.list() if r.status is SyncStatus.FAILED]
    assert any(r.correlation_id and r.correlation_id in tip for r in failed_runs), tip
    assert _count(shell) == 1600  # failures never touched the cache
    screenshot(window, "shell_footer_failed")
    plex.set_faults("")
    jelly.set_faults("")
    window.footer.activate_link()  # "Retry"
    pump(lambda: window.footer.text() == "1,600 tracks · synced just now · Refresh", 30)


def test_stale_cache_is_refreshed_in_the_background_at_start(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=600)
    shell = shell_factory()
    server = shell.add_jellyfin(jelly)
    shell.sync_now()
    old = shell.ctx.server_store.get(server.id).last_synced_at
    assert old is not None
    run(shell.loop, shell.ctx.runner.db(shell.ctx.server_store.mark_synced, server.id, old - 2 * 86400))
    window = shell.open()
    pump(lambda: window.sync.controller.is_running() or len(shell.ctx.runs.list()) == 2, 10)
    assert not window.sync.dialog.isVisible()
    pump(lambda: not window.sync.controller.is_running(), 30)
    runs = shell.ctx.runs.list()
    assert runs[0].trigger == "stale" and runs[0].status is SyncStatus.SUCCEEDED
    assert shell.ctx.server_store.get(server.id).last_synced_at >= old  # type: ignore[operator]
    pump(lambda: window.footer.text() == "600 tracks · synced just now · Refresh", 10)


def test_offline_server_at_start_shows_the_banner_with_the_age_of_its_data(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=700)
    other = demo_factory("jellyfin", tracks=300, seed=9)
    shell = shell_factory()
    shell.add_jellyfin(jelly, name="Home Jellyfin")
    shell.add_jellyfin(other, name="Office Jellyfin")
    shell.sync_now()
    jelly.stop()
    shell.clock.advance(3 * 3600 + 60)  # the window's clock: the cache is 3 hours old
    window = shell.open()
    pump(lambda: window.banner.isVisible(), 15)
    assert window.banner.text() == "Home Jellyfin is offline — showing data from 3 hours ago"
    pump(lambda: window.library.model.rowCount() == 1000, 10)  # the cached data is still shown
    assert window.footer.text() == "1,000 tracks · synced 3 hours ago · Refresh"
    screenshot(window, "shell_offline_banner")


def test_a_held_sync_asks_apply_anyway_or_keep(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=400)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    window = shell.open()
    pump(lambda: _count(shell) == 400 and not window.sync.controller.is_running(), 30)
    jelly.set_faults("libraries:empty")  # both music libraries vanished from the server's list
    window.sync.request_sync()
    pump(lambda: window.sync.held_box is not None and window.sync.held_box.isVisible(), 30)
    box = window.sync.held_box
    assert box is not None
    assert "is no longer on Demo Jellyfin; its 200 cached tracks were kept" in box.text()
    assert sorted(b.text() for b in box.buttons()) == ["Apply anyway", "Keep"]
    screenshot(box, "sync_held_question")
    keep = next(b for b in box.buttons() if b.text() == "Keep")
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    pump(lambda: not window.sync.controller.is_running(), 10)
    assert _count(shell) == 400  # kept: nothing changed
    assert shell.ctx.runs.list()[0].status is SyncStatus.HELD
    window.sync.request_sync()
    pump(lambda: window.sync.held_box is not None and window.sync.held_box is not box, 30)
    box = window.sync.held_box
    assert box is not None
    pump(box.isVisible, 10)
    apply = next(b for b in box.buttons() if b.text() == "Apply anyway")
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    pump(lambda: _count(shell) == 0 and not window.sync.controller.is_running(), 30)
    assert shell.ctx.runs.list()[0].status is SyncStatus.SUCCEEDED
