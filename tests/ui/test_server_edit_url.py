"""Edit a server's URL from the Servers page: Test connection checks exactly what is on screen (an empty secret
means the stored one), Save is enabled only after a successful test of those values, and the page shows the new
URL after saving; a different server install at the new address is allowed with a warning. Real demo servers over
HTTP on loopback, a real cache in tmp_path; the page runs on its own (the main window is not needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from app.core.filters import TrackFilter
from app.ui.dialogs.server_dialog import ServerDialog
from app.ui.pages.servers_page import ServersPage
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump


def _open_page(shell: Shell, qtbot: Any) -> tuple[ServersPage, list[tuple[str, str]]]:
    page = ServersPage(shell.ctx)
    qtbot.addWidget(page)
    page.resize(900, 400)
    page.show()
    messages: list[tuple[str, str]] = []
    page.message.connect(lambda text, kind: messages.append((text, kind)))
    page.reload()
    pump(lambda: page.model.rowCount() == 1, 10)
    return page, messages


def _edit_dialog(page: ServersPage, qtbot: Any) -> ServerDialog:
    page.view.selectRow(0)
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, ServerDialog) and dialog.isVisible()
    return dialog


def _set_url(dialog: ServerDialog, qtbot: Any, url: str) -> None:
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, url)


def _test(dialog: ServerDialog, qtbot: Any, outcome: str) -> None:
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.result_label.objectName() == outcome, 15)


def test_edit_url_dead_port_then_live_then_save_shows_the_new_url(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    home = demo_factory("jellyfin", tracks=120)
    moved = demo_factory("jellyfin", tracks=120)  # same seed: the same install at another address
    gone = demo_factory("jellyfin", tracks=1)
    dead_url = gone.url
    gone.stop()
    shell = shell_factory()
    shell.add_jellyfin(home)
    shell.sync_now()
    page, messages = _open_page(shell, qtbot)
    assert page.model.row(0)[2] == home.url
    dialog = _edit_dialog(page, qtbot)
    assert dialog.windowTitle() == "Edit server"
    assert not dialog.name.isEnabled() and not dialog.kind.isEnabled() and dialog.url.isEnabled()
    assert dialog.url.text() == home.url and dialog.token.text() == ""
    assert "keep the stored" in dialog.token.placeholderText()
    assert not dialog.save_button.isEnabled()

    _set_url(dialog, qtbot, dead_url)
    _test(dialog, qtbot, "testFailed")
    text = dialog.result_label.text()
    assert "could not be reached" in text and "Check that the server is running" in text
    assert "Reference: " in text and "demo-jellyfin-key" not in text
    assert not dialog.save_button.isEnabled()

    _set_url(dialog, qtbot, moved.url)
    assert not dialog.save_button.isEnabled()
    _test(dialog, qtbot, "testOk")  # the token field is empty: the stored key was used
    assert dialog.result_label.text().startswith("Connected to Zondarr Demo Jellyfin (jellyfin ")
    assert dialog.save_button.isEnabled() and dialog.warning_label.isHidden()
    assert shell.ctx.server_store.get_by_name("Demo Jellyfin").url == home.url  # testing stores nothing
    screenshot(dialog, "page_server_edit_url")
    qtbot.keyClicks(dialog.url, "1")
    assert not dialog.save_button.isEnabled()
    dialog.url.backspace()
    assert dialog.save_button.isEnabled()  # back to the very values that were tested
    qtbot.keyClicks(dialog.token, "x")
    assert not dialog.save_button.isEnabled()  # a typed secret is a different test
    dialog.token.clear()
    assert dialog.save_button.isEnabled()

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.dialog is None, 15)
    pump(lambda: page.model.row(0)[2] == moved.url, 10)
    stored = shell.ctx.server_store.get_by_name("Demo Jellyfin")
    assert stored.url == moved.url
    assert shell.ctx.tracks.count(TrackFilter()) == 120  # same install: the cached rows stay
    assert (f"Saved Demo Jellyfin: it is reached at {moved.url}.", "success") in messages
    assert not any(kind == "info" for _, kind in messages)  # no different-server warning


def test_edit_url_to_another_install_warns_in_the_dialog_and_after_saving(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    home = demo_factory("jellyfin", tracks=80)
    other = demo_factory("jellyfin", tracks=30, seed=9)
    shell = shell_factory()
    shell.add_jellyfin(home)
    shell.sync_now()
    page, messages = _open_page(shell, qtbot)
    dialog = _edit_dialog(page, qtbot)
    _set_url(dialog, qtbot, other.url)
    _test(dialog, qtbot, "testOk")
    assert dialog.save_button.isEnabled()
    assert not dialog.warning_label.isHidden()
    warning = dialog.warning_label.text()
    assert "different server (Zondarr Demo Jellyfin)" in warning and "replaced at the next sync" in warning
    screenshot(dialog, "page_server_edit_url_other_server")
    qtbot.keyClicks(dialog.url, "/x")  # values no longer the tested ones: the warning no longer applies
    assert dialog.warning_label.isHidden() and not dialog.save_button.isEnabled()
    for _ in range(2):
        dialog.url.backspace()
    assert not dialog.warning_label.isHidden() and dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.dialog is None, 15)
    pump(lambda: page.model.row(0)[2] == other.url, 10)
    assert any(kind == "info" and "different server" in text for text, kind in messages)
    assert shell.ctx.tracks.count(TrackFilter()) == 80  # replaced by the next sync, not by the edit
