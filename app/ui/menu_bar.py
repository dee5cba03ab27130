"""The menu bar: File (Export CSV…, Save diagnostics bundle…, Backups…, Settings…, Quit), View (the pages with
their shortcuts, the theme), Help (Keyboard shortcuts, Admin guide, About).

GUI thread only. Built with the window (before ``attach``): an action that needs the context does nothing
until then. Dialogs open with ``open()``/``show()``, never ``exec()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

THEMES = (("system", "Follow the &system"), ("light", "&Light"), ("dark", "&Dark"))


def native(shortcut: QKeySequence | str) -> str:
    return QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)


class MenuBar:
    """Builds the menus on ``window.menuBar()`` and keeps the actions (tests trigger them)."""

    def __init__(self, window: MainWindow, pages: Sequence[str]) -> None:
        self._window = window
        self.dialogs: list[QWidget] = []  # open non-modal dialogs (kept alive until closed)
        bar = window.menuBar()
        bar.setObjectName("menuBar")

        self.file_menu = bar.addMenu("&File")
        self.export_action = self._add(self.file_menu, "&Export CSV…", "Ctrl+E", self._on_export)
        self.export_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the library owns Ctrl+E
        self.bundle_action = self._add(self.file_menu, "Save &diagnostics bundle…", None, self.save_bundle)
        self.backups_action = self._add(self.file_menu, "&Backups…", None, self._on_backups)
        self.backups_action.setToolTip("Copies of the cache: see them, make one now, how to restore")
        self.file_menu.setToolTipsVisible(True)
        self.file_menu.addSeparator()
        self.settings_action = self._add(
            self.file_menu, "&Settings…", QKeySequence.StandardKey.Preferences, self.open_settings
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        if not QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences):
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.file_menu.addSeparator()
        self.quit_action = self._add(self.file_menu, "&Quit", "Ctrl+Q", window.quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.view_menu = bar.addMenu("&View")
        self.page_actions: list[QAction] = []
        for i, name in enumerate(pages):
            act = self._add(
                self.view_menu,
                name,
                f"Ctrl+{(i + 1) % 10}",
                lambda _=False, row=i: window.sidebar.setCurrentRow(row),
            )
            self.page_actions.append(act)
        self.view_menu.addSeparator()
        theme_menu = self.view_menu.addMenu("&Theme")
        self.theme_group = QActionGroup(theme_menu)
        self.theme_actions: dict[str, QAction] = {}
        for key, text in THEMES:
            act = QAction(text, theme_menu)
            act.setCheckable(True)
            act.triggered.connect(lambda _=False, k=key: self._on_theme(k))
            self.theme_group.addAction(act)
            theme_menu.addAction(act)
            self.theme_actions[key] = act
        self.theme_actions["system"].setChecked(True)

        self.help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._add(
            self.help_menu, "&Keyboard shortcuts", "F1", lambda: self._show("shortcuts")
        )
        self.guide_action = self._add(self.help_menu, "&Admin guide", None, lambda: self._show("guide"))
        self.about_action = self._add(self.help_menu, "&About Zondarr", None, lambda: self._show("about"))
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _add(
        self,
        menu: QMenu,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None,
        slot: Callable[..., object],
    ) -> QAction:
        act = QAction(text, menu)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        self._window.addAction(act)  # shortcuts work with the menu bar hidden too
        return act

    def shortcuts(self) -> list[tuple[str, str]]:
        """(what, keys) of every action with a shortcut in the window, menus first: Help → Keyboard shortcuts."""
        seen: set[str] = set()
        out: list[tuple[str, str]] = []
        for act in self._window.actions():
            keys = native(act.shortcut())
            text = act.text().replace("&", "").rstrip("…")
            if keys and text not in seen:
                seen.add(text)
                out.append((text, keys))
        out += [("Search the library", "Ctrl+F")]
        return out

    def set_theme(self, theme: str) -> None:
        """Checks ``theme``'s item (no signal)."""
        act = self.theme_actions.get(theme)
        if act is not None:
            act.setChecked(True)

    # ---- slots

    def _on_export(self) -> None:
        w = self._window
        w.sidebar.setCurrentRow(0)
        w.library.export_csv()

    def _on_backups(self) -> None:
        w = self._window
        if not w.attached:
            return
        from app.ui.dialogs.backups_dialog import BackupsDialog

        dialog = BackupsDialog(w.ctx.backups, w)
        self._keep(dialog)
        dialog.show()

    def open_settings(self) -> None:
        if not self._window.attached:
            return
        from app.ui.dialogs.settings_dialog import SettingsDialog

        existing = next((d for d in self._open_dialogs() if isinstance(d, SettingsDialog)), None)
        if existing is not None:
            existing.raise_()
            return
        dialog = SettingsDialog(self._window.ctx, self._window)
        self._keep(dialog)
        dialog.open()

    def _on_theme(self, theme: str) -> None:
        w = self._window
        if w.attached:
            w.tasks.start("theme", w.save_settings({"theme": theme}), replace=True)

    def _show(self, which: str) -> None:
        from app.ui.dialogs import help_dialogs

        dialog = {
            "shortcuts": lambda: help_dialogs.ShortcutsDialog(self.shortcuts(), self._window),
            "guide": lambda: help_dialogs.GuideDialog(self._window),
            "about": lambda: help_dialogs.AboutDialog(self._sqlite_version(), self._window),
        }[which]()
        self._keep(dialog)
        dialog.show()

    def _sqlite_version(self) -> str:
        w = self._window
        bundle = w.ctx.health.bundle if w.attached else None
        return bundle.sqlite_version if bundle is not None else "unknown"

    def _open_dialogs(self) -> list[QWidget]:
        self.dialogs = [d for d in self.dialogs if shiboken6.isValid(d) and d.isVisible()]
        return self.dialogs

    def _keep(self, dialog: QWidget) -> None:
        self._open_dialogs().append(dialog)

    def save_bundle(self, path: Path | None = None) -> None:
        """Writes the redacted diagnostics bundle to ``path`` (None: asks for a file with ``open()``)."""
        w = self._window
        if not w.attached:
            return
        if path is None:
            dialog = QFileDialog(w, "Save diagnostics bundle")
            dialog.setObjectName("bundleDialog")
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setNameFilter("Zip archives (*.zip)")
            dialog.setDefaultSuffix("zip")
            dialog.selectFile("zondarr-diagnostics.zip")
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.fileSelected.connect(lambda name: self.save_bundle(Path(name)))
            dialog.open()
            return
        w.tasks.start("bundle", self._write_bundle(path), replace=True)

    async def _write_bundle(self, path: Path) -> None:
        from app.core.errors import ZondarrError

        w = self._window
        try:
            info = await w.ctx.health.bundle.export(path)
        except ZondarrError as err:
            w.show_error(err)
            return
        w.toasts.show_toast(
            f"Diagnostics bundle saved: {info.path.name} ({len(info.files)} files).", "success"
        )
