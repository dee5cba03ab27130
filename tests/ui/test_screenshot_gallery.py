"""Screenshots of every page and dialog in the light and the dark theme, plus main-window.png: the window with its
File menu open, the Settings dialog and the tray menu, which the README shows first. PNGs are stored with an
8-bit palette to stay small. A test run writes them to test-artifacts/gallery/ (a run leaves the checkout as it
was); ``ZONDARR_UPDATE_GALLERY=1`` writes them to docs/screenshots/, which the README links.

The demo library includes Hangul, CJK and emoji titles: with fonts-noto-cjk and fonts-noto-color-emoji installed
(.ci/run installs them) they are drawn, not boxes."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.main_window import PAGES, MainWindow
from app.ui.theme import apply_theme
from tests.ui.shell_fixtures import Shell, pump

_REPO = Path(__file__).resolve().parents[2]
GALLERY = (
    _REPO / "docs" / "screenshots"
    if os.environ.get("ZONDARR_UPDATE_GALLERY") == "1"
    else _REPO / "test-artifacts" / "gallery"
)


def save_small(image: QImage, path: Path) -> Path:
    """Writes ``image`` as an 8-bit palette PNG of its 256 most frequent colours (a UI shot has few; the rest
    map to the nearest), several times smaller than 32-bit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = memoryview(rgb.constBits()).cast("I")
    table = [c | 0xFF000000 for c, _n in Counter(pixels).most_common(256)]
    small = rgb.convertToFormat(QImage.Format.Format_Indexed8, table, Qt.ImageConversionFlag.ThresholdDither)
    assert small.save(str(path), "PNG", 9), path
    return path


def shot(widget: QWidget, path: Path) -> Path:
    return save_small(widget.grab().toImage(), path)


@pytest.fixture
def theme(qapp: QApplication) -> Iterator[Callable[[str], None]]:
    palette, sheet = QPalette(qapp.palette()), qapp.styleSheet()
    yield lambda name: apply_theme(qapp, name) and None
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def _settle(window: MainWindow) -> None:
    for _ in range(30):
        QApplication.processEvents()
    page = window.stack.currentWidget()
    tasks = getattr(page, "tasks", None)
    if tasks is not None:
        pump(lambda: not tasks.running(), 15)
    for _ in range(10):
        QApplication.processEvents()


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_page_and_dialog_in_both_themes(
    shell_factory: Callable[..., Shell],
    demo_factory: Callable[..., Any],
    theme: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setattr(MainWindow, "TRAY_AVAILABLE", True)
    theme(name)
    shell = shell_factory()
    shell.add_plex(demo_factory("plex", tracks=400))
    shell.add_jellyfin(demo_factory("jellyfin", tracks=400, users=4))
    shell.sync_now()
    assert shell.ctx.people.invitations is not None
    window = shell.open(background_jobs=False)
    window.resize(1200, 760)
    folder = GALLERY / name
    written: list[Path] = []
    for row, page in enumerate(PAGES):
        window.sidebar.setCurrentRow(row)
        _settle(window)
        written.append(shot(window, folder / f"page-{page.lower().replace(' ', '-')}.png"))
    # Hangul (and the emoji and CJK of the other rows) drawn with the Noto fonts the .deb recommends
    window.sidebar.setCurrentRow(0)
    bar = window.library.filter_bar
    bar.search_edit.setText("사랑")
    bar.search_edit.returnPressed.emit()
    pump(lambda: window.library.model.rowCount() > 0 and "사랑" in str(window.library.model.data(
        window.library.model.index(0, 0))) + str(window.library.model.data(window.library.model.index(0, 2)))
        + str(window.library.model.data(window.library.model.index(0, 3))), 30)  # fmt: skip
    _settle(window)
    written.append(shot(window, folder / "page-library-hangul-search.png"))
    bar.search_edit.clear()
    bar.search_edit.returnPressed.emit()
    menus = window.menus
    menus.open_settings()
    settings = next(d for d in menus.dialogs if isinstance(d, SettingsDialog))
    for index in range(settings.tabs.count()):
        settings.tabs.setCurrentIndex(index)
        title = settings.tabs.tabText(index).lower()
        written.append(shot(settings, folder / f"dialog-settings-{title}.png"))
    settings.close()
    for action, file in (
        (menus.shortcuts_action, "dialog-keyboard-shortcuts"),
        (menus.guide_action, "dialog-admin-guide"),
        (menus.about_action, "dialog-about"),
        (menus.backups_action, "dialog-backups"),
    ):
        action.trigger()
        dialog = menus.dialogs[-1]
        _settle(window)
        written.append(shot(dialog, folder / f"{file}.png"))
        dialog.close()
    window.sidebar.setCurrentRow(PAGES.index("Servers"))
    window.servers_page.open_add_dialog()
    add = window.servers_page.dialog
    assert add is not None
    written.append(shot(add, folder / "dialog-add-server.png"))
    add.close()
    window.sidebar.setCurrentRow(PAGES.index("Invitations"))
    create = window.invitations_page.open_create_dialog()
    pump(lambda: create.targets.topLevelItemCount() == 2, 10)
    written.append(shot(create, folder / "dialog-new-invitation.png"))
    create.close()
    window.sidebar.setCurrentRow(PAGES.index("Identities"))
    window.identities_page.open_link_dialog()
    pump(lambda: window.identities_page.link_dialog is not None, 10)
    link = window.identities_page.link_dialog
    assert link is not None
    _settle(window)
    written.append(shot(link, folder / "dialog-link-accounts.png"))
    link.close()
    window.show_crash_notice(folder / "crash.log")
    notice = next(d for d in window.sync.error_dialogs if d.objectName() == "crashNotice")
    written.append(shot(notice, folder / "dialog-crash-notice.png"))
    notice.close()
    tray_menu = window.desktop.tray.menu
    tray_menu.popup(QPoint(0, 0))
    written.append(shot(tray_menu, folder / "menu-tray.png"))
    tray_menu.hide()
    for menu in (menus.file_menu, menus.view_menu, menus.help_menu):
        menu.popup(QPoint(0, 0))
        written.append(shot(menu, folder / f"menu-{menu.title().replace('&', '').lower()}.png"))
        menu.hide()
    assert all(p.stat().st_size < 400_000 for p in written), [(p.name, p.stat().st_size) for p in written]
    if name == "light":
        _overview(window, settings_dialog=SettingsDialog(window.ctx, window))


def _overview(window: MainWindow, settings_dialog: SettingsDialog) -> None:
    """The README's first picture: the window with File open, the Settings dialog and the tray menu."""
    window.sidebar.setCurrentRow(0)
    _settle(window)
    base = window.grab()
    canvas = QPixmap(base.width() + 40, base.height() + 40)
    canvas.fill(QColor("#c9ced6"))
    painter = QPainter(canvas)
    painter.drawPixmap(10, 10, base)
    menus = window.menus
    menus.file_menu.popup(QPoint(0, 0))
    file_menu = menus.file_menu.grab()
    menus.file_menu.hide()
    bar = window.menuBar()
    painter.drawPixmap(
        10 + bar.actionGeometry(menus.file_menu.menuAction()).left(), 10 + bar.height(), file_menu
    )
    settings_dialog.resize(700, 420)
    settings_dialog.tabs.setCurrentIndex(settings_dialog.tabs.indexOf(settings_dialog._tabs["Appearance"]))
    settings = settings_dialog.grab()
    sx, sy = canvas.width() - settings.width() - 30, 150
    painter.fillRect(sx - 2, sy - 26, settings.width() + 4, settings.height() + 28, QColor("#4b5563"))
    painter.setPen(QColor("#ffffff"))
    painter.drawText(sx + 8, sy - 8, "Settings")
    painter.drawPixmap(sx, sy, settings)
    tray = window.desktop.tray
    tray.menu.popup(QPoint(0, 0))
    tray_menu = tray.menu.grab()
    tray.menu.hide()
    icon = tray.icon.icon().pixmap(28, 28)
    x = canvas.width() - tray_menu.width() - 30
    y = canvas.height() - tray_menu.height() - 60
    painter.drawPixmap(x, y, tray_menu)
    painter.drawPixmap(x + tray_menu.width() - 30, y + tray_menu.height() + 6, icon)
    painter.end()
    settings_dialog.close()
    path = save_small(canvas.toImage(), GALLERY / "main-window.png")
    assert path.stat().st_size < 500_000
