"""Servers page and Add/Edit dialog (Test connection success and failure, Save gating, remove with confirmation),
the Users page, and the first sync started by adding a server to an empty cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.filters import TrackFilter
from app.core.models import AuthMethod, ServerKind
from app.ui.dialogs.server_dialog import ServerDialog
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump


def _fill(dialog: ServerDialog, qtbot: Any, kind: ServerKind, name: str, url: str, secret: str) -> None:
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind.value))
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.url, url)
    qtbot.keyClicks(dialog.token, secret)


def test_add_server_dialog_failure_then_success_then_first_sync(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=900)
    shell = shell_factory()
    window = shell.open()
    pump(lambda: window.footer.text() == "Never synced · Sync now" and window.isActiveWindow(), 5)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Ctrl+N: Add server
    dialog = window.servers_page.dialog
    assert isinstance(dialog, ServerDialog) and dialog.isVisible()
    assert window.stack.currentWidget() is window.servers_page
    _fill(dialog, qtbot, ServerKind.JELLYFIN, "Home Jellyfin", jelly.url, "wrong-key")
    assert dialog.selected_method() is AuthMethod.API_KEY
    assert not dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.result_label.objectName() == "testFailed", 15)
    text = dialog.result_label.text()
    assert "refused" in text and "Reference: " in text and "wrong-key" not in text
    assert not dialog.save_button.isEnabled()
    screenshot(dialog, "shell_add_server_failed")
    # fix the key: test succeeds, Save is enabled; editing a field disables it again until the next test
    dialog.token.clear()
    qtbot.keyClicks(dialog.token, "demo-jellyfin-key")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.result_label.objectName() == "testOk", 15)
    assert dialog.result_label.text().startswith("Connected to Zondarr Demo Jellyfin (jellyfin ")
    assert dialog.save_button.isEnabled()
    screenshot(dialog, "shell_add_server_ok")
    qtbot.keyClicks(dialog.url, "1")
    assert not dialog.save_button.isEnabled()
    dialog.url.backspace()
    assert dialog.save_button.isEnabled()  # the very values that were tested
    assert shell.ctx.server_store.list() == []  # testing stores nothing
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    pump(lambda: window.servers_page.dialog is None, 15)  # closed (and deleted)
    assert [s.name for s in shell.ctx.server_store.list()] == ["Home Jellyfin"]
    # empty cache + a server added: the first sync runs in the modal
    pump(lambda: window.sync.dialog.isVisible() or shell.ctx.tracks.count(TrackFilter()) == 900, 10)
    pump(lambda: not window.sync.controller.is_running() and not window.sync.dialog.isVisible(), 30)
    assert shell.ctx.tracks.count(TrackFilter()) == 900
    assert shell.ctx.runs.list()[0].trigger == "added"
    pump(lambda: window.servers_page.model.rowCount() == 1 and window.servers_page.model.row(0)[5] == 900, 10)
    row = window.servers_page.model.row(0)
    assert row[:4] == ("Home Jellyfin", "Jellyfin", jelly.url, "synced")
    assert row[4]  # last sync time
    screenshot(window, "shell_servers_page")


def test_unreachable_url_fails_the_test_with_a_remedy(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    gone = demo_factory("plex", tracks=10)
    url = gone.url
    gone.stop()
    shell = shell_factory()
    dialog = ServerDialog(shell.ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    _fill(dialog, qtbot, ServerKind.PLEX, "Home Plex", url, "demo-plex-token")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.result_label.objectName() == "testFailed", 15)
    assert "could not be reached" in dialog.result_label.text()
    assert "Check that the server is running" in dialog.result_label.text()
    assert not dialog.save_button.isEnabled()


def test_remove_asks_first_and_then_deletes_server_and_cache(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=500)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open(background_jobs=False)
    page = window.servers_page
    window.sidebar.setCurrentRow(1)
    pump(lambda: page.model.rowCount() == 1, 10)
    page.view.selectRow(0)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    box = page.confirm
    assert isinstance(box, QMessageBox) and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    pump(lambda: page.confirm is None, 5)
    assert len(shell.ctx.server_store.list()) == 1  # cancelled: nothing removed
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    box = page.confirm
    assert box is not None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    pump(lambda: page.model.rowCount() == 0, 10)
    assert shell.ctx.server_store.list() == [] and shell.ctx.tracks.count(TrackFilter()) == 0
    pump(lambda: window.footer.text() == "Never synced · Sync now", 5)
    assert QApplication.activeModalWidget() is None


def test_users_page_lists_every_user_with_server_filter_and_search(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex = demo_factory("plex", tracks=200, users=4)
    jelly = demo_factory("jellyfin", tracks=200, users=3)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_plex(plex)
    shell.add_jellyfin(jelly)
    shell.sync_now()
    everyone = shell.ctx.users.list()
    assert everyone
    window = shell.open(background_jobs=False)
    page = window.users_page
    window.sidebar.setCurrentRow(2)
    pump(lambda: page.model.rowCount() == len(everyone), 10)
    assert {(page.model.row(i)[0], page.model.row(i)[1]) for i in range(len(everyone))} == {
        (u.server, u.username) for u in everyone
    }
    screenshot(window, "shell_users_page")
    page.server.setCurrentIndex(page.server.findData("Demo Jellyfin"))
    expected = shell.ctx.users.list(server="Demo Jellyfin")
    pump(lambda: page.model.rowCount() == len(expected) and page.model.row(0)[0] == "Demo Jellyfin", 10)
    needle = expected[0].username[:3]
    qtbot.keyClicks(page.search, needle)
    want = shell.ctx.users.list(server="Demo Jellyfin", search=needle)
    pump(lambda: page.model.rowCount() == len(want), 10)
    assert {page.model.row(i)[1] for i in range(len(want))} == {u.username for u in want}
