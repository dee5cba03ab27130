"""The rough edges a new user met, one test each: plurals, the New invitation dialog's validation, Identities'
headers and suggestions, the Library's Server column at the first window size, the first-sync modal agreeing
with itself, dark-theme contrast, Health's incident times and uptime with little data, ISO dates, buttons that
name their action, toasts that cover no control, one header alignment, counts with separators, empty states."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QTableView,
    QWidget,
)

from app.core.models import SyncStage
from app.core.progress import JobProgress
from app.ui.dialogs.invitation_dialogs import NO_TARGET, CreateInvitationDialog
from app.ui.dialogs.outcomes import confirm
from app.ui.dialogs.sync_dialog import SyncDialog
from app.ui.models.simple_table import HEADER_ALIGNMENT
from app.ui.models.track_model import COLUMNS
from app.ui.pages.health_page import uptime_text
from app.ui.widgets.filter_bar import counted
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump, run

PAGE = {
    "Library": 0,
    "Servers": 1,
    "Users": 2,
    "Invitations": 4,
    "Identities": 5,
    "Health": 7,
    "Diagnostics": 8,
}


def test_counts_have_real_plurals_and_separators() -> None:
    assert counted(1, "invitation") == "1 invitation" and counted(2, "invitation") == "2 invitations"
    assert (
        counted(1, "library", "libraries") == "1 library"
        and counted(3, "library", "libraries") == "3 libraries"
    )
    assert counted(1, "error") == "1 error" and counted(20000, "track") == "20,000 tracks"


def test_invitations_page_says_1_invitation_and_1_library(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]
) -> None:
    shell = shell_factory()
    shell.add_jellyfin(demo_factory("jellyfin", tracks=30, libraries=2))
    shell.sync_now()
    libs = shell.ctx.tracks.libraries()
    run(shell.loop, shell.ctx.people.invitations.create(["Demo Jellyfin"], {"Demo Jellyfin": [libs[0].key]}))
    window = shell.open(background_jobs=False)
    page = window.invitations_page
    window.sidebar.setCurrentRow(PAGE["Invitations"])
    pump(lambda: page.model.rowCount() == 1, 30)
    assert page.count_label.text() == "1 invitation, 1 active"
    assert any("(1 library)" in str(cell) for cell in page.model.row(0))


def test_new_invitation_validation_uses_gui_words_and_clears_when_a_server_is_ticked(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]
) -> None:
    shell = shell_factory()
    shell.add_jellyfin(demo_factory("jellyfin", tracks=20))
    window = shell.open(background_jobs=False)
    window.sidebar.setCurrentRow(PAGE["Invitations"])
    dialog = window.invitations_page.open_create_dialog()
    assert isinstance(dialog, CreateInvitationDialog)
    pump(lambda: dialog.targets.topLevelItemCount() == 1, 30)
    dialog.create_button.click()
    assert dialog.result_label.text() == NO_TARGET and "Name" not in NO_TARGET and "--" not in NO_TARGET
    screenshot(dialog, "dialog_new_invitation_refused")
    dialog.set_target("Demo Jellyfin")
    assert dialog.result_label.text() == ""
    # ISO dates: the expiry picker shows what the tables show
    dialog.expires.setChecked(True)
    assert dialog.expires_at.displayFormat() == "yyyy-MM-dd HH:mm"
    shown = dialog.expires_at.text()
    assert time.strptime(shown, "%Y-%m-%d %H:%M")
    dialog.close()


def test_identities_shows_named_headers_an_empty_state_and_whole_suggestions(
    shell_factory: Callable[..., Shell],
) -> None:
    window = shell_factory().open(background_jobs=False)
    page = window.identities_page
    window.sidebar.setCurrentRow(PAGE["Identities"])
    pump(lambda: not page.tasks.running(), 30)
    headers = [page.grid.horizontalHeaderItem(c).text() for c in range(page.grid.columnCount())]
    assert headers == ["Server", "Account"]
    assert page.empty_state.isVisible() and "No people yet" in page.empty_state.text()
    assert page.suggestions.wordWrap()
    screenshot(window, "page_identities_empty")


def test_the_library_server_column_is_visible_at_the_first_window_size(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]
) -> None:
    shell = shell_factory()
    shell.add_jellyfin(demo_factory("jellyfin", tracks=40))
    shell.sync_now()
    window = shell.open(background_jobs=False)
    window.resize(1200, 760)
    QApplication.processEvents()
    header = window.library.view.horizontalHeader()
    server = [c[0] for c in COLUMNS].index("Server")
    right = header.sectionViewportPosition(server) + header.sectionSize(server)
    assert right <= window.library.view.viewport().width()
    assert header.sectionSize(server) >= header.fontMetrics().horizontalAdvance("Demo Jellyfin")
    model = window.library.model
    pump(lambda: bool(model.data(model.index(0, 2))), 30)
    assert model.data(model.index(0, 2), Qt.ItemDataRole.ToolTipRole)  # a cut artist is whole in its tooltip
    screenshot(window, "library_first_size")


def test_the_first_sync_modal_lines_agree_with_its_total(qapp: QApplication) -> None:
    dialog = SyncDialog()
    dialog.reset(["Demo Plex", "Demo Jellyfin"])
    dialog.show_progress(JobProgress(SyncStage.FETCHING, 20_000, 40_000, "Demo Plex", "page 40"))
    dialog.show_progress(JobProgress(SyncStage.FETCHING, 30_000, 40_000, "Demo Jellyfin", "page 20"))
    assert "fetching" in dialog.server_label.text()
    dialog.show_progress(JobProgress(SyncStage.PROCESSING, 40_000, 40_000, "Demo Jellyfin", "merging"))
    text = dialog.text()
    assert "40,000 / 40,000 tracks (100 %)" in text and "fetching" not in dialog.server_label.text()
    screenshot(dialog, "dialog_first_sync_total")
    dialog.deleteLater()


def _contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _best_contrast(image: QImage, rect: QRect, background: QColor) -> float:
    """The strongest contrast any pixel of ``rect`` has against ``background``: what the eye finds there."""
    best = 1.0
    for y in range(max(0, rect.top()), min(image.height(), rect.bottom() + 1)):
        for x in range(max(0, rect.left()), min(image.width(), rect.right() + 1)):
            best = max(best, _contrast(image.pixelColor(x, y), background))
    return best


def test_dark_theme_key_widgets_meet_a_minimum_contrast(
    shell_factory: Callable[..., Shell], dark_theme: None
) -> None:
    window = shell_factory().open(background_jobs=False)
    window.resize(1200, 760)
    QApplication.processEvents()
    live = window.library.filter_bar.live_check
    image = live.grab().toImage()
    background = window.palette().color(window.backgroundRole())
    indicator = QRect(0, 0, min(22, image.width()), image.height())
    text = QRect(22, 0, image.width() - 22, image.height())
    assert _best_contrast(image, indicator, background) >= 3.0  # WCAG: a control's outline
    assert _best_contrast(image, text, background) >= 4.5  # WCAG: text
    spin = QSpinBox(window)
    spin.resize(120, 30)
    spin.show()
    QApplication.processEvents()
    shot = spin.grab().toImage()
    arrows = QRect(shot.width() - 16, 2, 14, shot.height() - 4)
    button_bg = shot.pixelColor(shot.width() - 3, shot.height() // 2 - 1)
    assert _best_contrast(shot, arrows, button_bg) >= 3.0
    hint = QLabel("Select a person to see their accounts.", window)  # the grey hint text pages use
    hint.setObjectName("hint")
    hint.adjustSize()
    hint.show()
    QApplication.processEvents()
    hint_image = hint.grab().toImage()
    assert _best_contrast(hint_image, hint_image.rect(), background) >= 4.5
    hint.deleteLater()
    screenshot(live, "contrast_exclude_live_dark")
    screenshot(spin, "contrast_spinbox_dark")
    spin.deleteLater()


def test_health_times_fit_and_uptime_needs_enough_data(shell_factory: Callable[..., Shell]) -> None:
    now = time.time()
    started = now - 5 * 60
    text, _ = uptime_text(100.0, 86400.0, started, now)
    assert text.startswith("100.0 % since ")
    assert uptime_text(100.0, 7 * 86400.0, started, now)[0] == "—"
    assert uptime_text(99.5, 86400.0, now - 86400.0, now)[0] == "99.5 %"
    window = shell_factory().open(background_jobs=False)
    page = window.health_page
    window.sidebar.setCurrentRow(PAGE["Health"])
    header = page.view.horizontalHeader()
    needed = page.view.fontMetrics().horizontalAdvance("2026-12-04 15:12") + 12
    for column in (2, 3):  # Opened, Closed
        assert header.sectionSize(column) >= needed
    pump(lambda: not page.tasks.running(), 30)
    assert page.empty_state.isVisible() and "No incidents" in page.empty_state.text()


def test_confirmations_name_their_action(qapp: QApplication) -> None:
    parent = QWidget()
    box = confirm(parent, "Delete invitation", "Delete the invitation ABC?", lambda: None)
    assert box.button(QMessageBox.StandardButton.Yes).text() == "Delete invitation"
    box.close()
    parent.deleteLater()


def test_remove_server_button_says_remove_server(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]
) -> None:
    shell = shell_factory()
    shell.add_jellyfin(demo_factory("jellyfin", tracks=20))
    window = shell.open(background_jobs=False)
    page = window.servers_page
    window.sidebar.setCurrentRow(PAGE["Servers"])
    pump(lambda: page.model.rowCount() == 1, 30)
    page.view.selectRow(0)
    page.remove_button.click()
    box = page.confirm
    assert isinstance(box, QMessageBox)
    assert box.button(QMessageBox.StandardButton.Yes).text() == "Remove server"
    screenshot(box, "dialog_remove_server")
    box.button(QMessageBox.StandardButton.Cancel).click()


def test_toasts_never_cover_controls(shell_factory: Callable[..., Shell]) -> None:
    window = shell_factory().open(background_jobs=False)
    window.resize(1200, 760)
    for name in ("Users", "Library", "Invitations"):
        window.sidebar.setCurrentRow(PAGE[name])
        QApplication.processEvents()
        toast = window.toasts.show_toast("Synced 2 servers: 3,500 added, 0 updated, 0 removed.", "success")
        QApplication.processEvents()
        box = QRect(toast.mapTo(window, toast.rect().topLeft()), toast.size())
        controls = [
            w
            for kind in (QAbstractButton, QLineEdit, QComboBox)
            for w in window.findChildren(kind)
            if w.isVisible() and w.window() is window
        ]
        covered = [
            w for w in controls if box.intersects(QRect(w.mapTo(window, w.rect().topLeft()), w.size()))
        ]
        assert not covered, [(w.objectName(), w.text() if hasattr(w, "text") else "") for w in covered]
        if name == "Users":
            screenshot(window, "toast_users_page")
        toast.hide()


def test_a_toast_follows_the_page_switch_and_still_covers_no_control(
    shell_factory: Callable[..., Shell],
) -> None:
    window = shell_factory().open(background_jobs=False)
    window.resize(1200, 760)
    window.sidebar.setCurrentRow(PAGE["Library"])
    QApplication.processEvents()
    toast = window.toasts.show_toast("Exported 800 tracks to tracks.csv.", "success")
    window.sidebar.setCurrentRow(PAGE["Users"])
    QApplication.processEvents()
    box = QRect(toast.mapTo(window, toast.rect().topLeft()), toast.size())
    button = window.users_page.discrepancies_button
    assert not box.intersects(QRect(button.mapTo(window, button.rect().topLeft()), button.size()))


def test_every_table_aligns_its_headers_the_same_way(shell_factory: Callable[..., Shell]) -> None:
    window = shell_factory().open(background_jobs=False)
    for name in ("Servers", "Users", "Invitations", "Identities", "Health", "Diagnostics"):
        window.sidebar.setCurrentRow(PAGE[name])
    QApplication.processEvents()
    views = [v for v in window.findChildren(QTableView) if v.model() is not None]
    assert len(views) >= 7
    for view in views:
        assert view.horizontalHeader().defaultAlignment() == HEADER_ALIGNMENT, view.objectName()


def test_empty_states_on_invitations_identities_health_and_diagnostics(
    shell_factory: Callable[..., Shell],
) -> None:
    window = shell_factory().open(background_jobs=False)
    for name, attr in (("Invitations", "invitations_page"), ("Diagnostics", "diagnostics_page")):
        window.sidebar.setCurrentRow(PAGE[name])
        page = getattr(window, attr)
        pump(lambda p=page: not p.tasks.running(), 30)
        label = page.runs_empty if name == "Diagnostics" else page.empty_state
        assert label.isVisible() and label.text(), name
        screenshot(window, f"empty_{name.lower()}")


def test_diagnostics_counts_use_thousands_separators(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]
) -> None:
    shell = shell_factory()
    shell.add_jellyfin(demo_factory("jellyfin", tracks=12_000, libraries=1))
    result = run(shell.loop, shell.ctx.health.diagnostics.run(), timeout=60)
    readable = [r for r in result.results if r.check.startswith("library readable")]
    assert readable and readable[0].message == "12,000 tracks"
