"""The desktop app that keeps working: close to tray with the scheduler running, Quit stopping it, the tray
menu, the Settings dialog (every field round-trips, bad values refused with the CLI's message, the theme live,
start at login), notifications to the tray and a webhook, the menu bar's actions, the crash notice."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QPushButton

import app.ui.main_window as main_window_module
from app.core.settings import _BOUNDS, CHOICES, Settings
from app.services.notifications import WEBHOOK_URL_REF
from app.storage.autostart import HIDDEN_FLAG
from app.ui.dialogs.backups_dialog import BackupsDialog
from app.ui.dialogs.help_dialogs import AboutDialog, GuideDialog, ShortcutsDialog
from app.ui.dialogs.settings_dialog import AFTER_RESTART, READ_ONLY, SettingsDialog
from app.ui.main_window import PAGES, MainWindow
from tests.smtp_standin import smtp_standin
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import FAST_ENV, Shell, pump, run
from tests.webhook_standin import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]

# Values for the round trip: valid and different from every default (strings that need a shape get one).
TEXT_VALUES = {
    "theme": "dark",
    "plex_tv_url": "https://plex.example.org",
    "plex_auth_url": "https://auth.example.org/auth",
    "discovery_address": "192.168.1.255:7359",
    "expiry_reminder_days": "14,3",
    "reminder_template": "Hi {name}, {server} ends on {date}.",
    "notify_email_to": "admin@example.org",
    "smtp_host": "mail.example.org",
    "smtp_user": "zondarr",
    "smtp_from": "zondarr@example.org",
}


@pytest.fixture
def tray(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, qapp: QApplication) -> Iterator[None]:
    """A platform with a tray, the scheduler starting at once, and a temporary XDG config folder."""
    monkeypatch.setattr(MainWindow, "TRAY_AVAILABLE", True)
    monkeypatch.setattr(main_window_module, "SCHEDULER_START_DELAY_S", 0.0)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    palette, sheet = QPalette(qapp.palette()), qapp.styleSheet()
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def _other_value(name: str, type_name: object, default: object) -> str:
    if type_name in ("bool", bool):
        return "false" if default else "true"
    if name in TEXT_VALUES:
        return TEXT_VALUES[name]
    if name in CHOICES:
        return next(c for c in CHOICES[name] if c != default)
    if type_name in ("int", int, "float", float):
        lo, hi = _BOUNDS.get(name, (0, 10_000))
        value = default + 1 if isinstance(default, int | float) and default + 1 <= hi else lo
        return str(int(value)) if type_name in ("int", int) else str(float(value))
    return f"{default}-changed"


def test_closing_hides_to_the_tray_the_scheduler_keeps_running_and_quit_stops_it(
    shell_factory: Callable[..., Shell], tray: None
) -> None:
    shell = shell_factory()
    window = shell.open(background_jobs=True)
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    assert window.desktop.keeps_running()
    window.close()
    assert not window.isVisible() and not closed  # hidden, not quit
    assert window.desktop.tray.shown[0][0] == "Zondarr is still running"  # said once, the first time
    scheduler = shell.ctx.people.tasks

    hidden_at = time.time()
    deadline = time.monotonic() + 60
    while True:  # the scheduler's first round (every task is due on a new cache) runs while hidden
        statuses = run(shell.loop, scheduler.status())
        finished = [s for s in statuses if s.last_run is not None and s.last_run.finished_at]
        if finished or time.monotonic() > deadline:
            break
        run(shell.loop, asyncio.sleep(0.05))
    assert finished and all(s.last_run.started_at >= hidden_at - 1 for s in finished)  # type: ignore[union-attr]
    assert not window.isVisible()
    window.show()
    window.close()
    assert len(window.desktop.tray.shown) == 1  # not told again
    task = window.tasks.get("scheduler")
    assert task is not None and not task.done()
    window.quit()
    assert closed == [True]
    pump(task.done, 15)


def test_without_a_tray_closing_quits(
    shell_factory: Callable[..., Shell], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MainWindow, "TRAY_AVAILABLE", False)
    window = shell_factory().open(background_jobs=False)
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    assert not window.desktop.keeps_running()
    window.close()
    assert closed == [True]


def test_the_tray_menu_opens_syncs_pauses_and_quits(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], tray: None
) -> None:
    shell = shell_factory()
    shell.add_jellyfin(demo_factory("jellyfin", tracks=40))
    shell.sync_now()
    window = shell.open(background_jobs=False)
    menu = window.desktop.tray
    assert [a.text().replace("&", "") for a in menu.menu.actions() if a.text()] == [
        "Open Zondarr",
        "Sync now",
        "Pause background tasks",
        "Quit",
    ]
    window.close()
    assert not window.isVisible()
    menu.open_action.trigger()
    assert window.isVisible()
    runs_before = len(shell.ctx.runs.list())
    pump(lambda: bool(window.sync.state.servers), 30)  # the window has read its servers
    menu.sync_action.trigger()
    pump(lambda: len(shell.ctx.runs.list()) > runs_before and not window.sync.controller.is_running(), 60)
    assert menu.state == "ok"
    menu.pause_action.trigger()
    pump(lambda: shell.ctx.people.tasks.suspended, 30)
    assert menu.pause_action.isChecked() and menu.pause_action.text() == "Resume background tasks"
    assert shell.ctx.settings_store.load_raw()["tasks_suspended"] == "1"
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    menu.quit_action.trigger()
    assert closed == [True]


def test_settings_round_trip_every_field_and_refuse_bad_values_with_the_cli_message(
    shell_factory: Callable[..., Shell],
    tray: None,
    qapp: QApplication,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in FAST_ENV:  # a ZONDARR_* variable wins over the stored value: none here
        monkeypatch.delenv(name)
    shell = shell_factory()
    window = shell.open(background_jobs=False)
    window.menus.settings_action.trigger()
    dialog = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog))
    assert dialog.isVisible()
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs[:7] == ["Sync", "Tasks", "Health", "Network", "Appearance", "Notifications", "Backups"]
    assert set(dialog.editors) == {f.name for f in fields(Settings)}  # every field
    # Settings read once at start say so; the live ones do not.
    assert isinstance(dialog.editors["page_size"], QLineEdit)
    assert dialog._label("page_size").endswith(f"({AFTER_RESTART})")
    tray_box = dialog.editors["close_to_tray"]
    assert isinstance(tray_box, QCheckBox) and AFTER_RESTART not in tray_box.text()
    screenshot(dialog, "dialog_settings")

    # A bad value: refused with the message `zondarr settings set` prints, nothing stored.
    dialog.set_value("page_size", "5")
    dialog.save_button.click()
    cli = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(shell.data_dir), "settings", "set", "page_size", "5"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 1
    assert dialog.error_label.isVisible() and dialog.error_label.text() in cli.stderr
    assert dialog.editors["page_size"].property("invalid")
    assert "page_size" not in shell.ctx.settings_store.load_raw()
    screenshot(dialog, "dialog_settings_refused")

    wanted = {
        f.name: _other_value(f.name, f.type, f.default) for f in fields(Settings) if f.name not in READ_ONLY
    }
    assert all(dialog.editors[n].isReadOnly() for n in READ_ONLY)  # type: ignore[attr-defined]
    for name, text in wanted.items():
        dialog.set_value(name, text)
    assert dialog.changes().keys() == wanted.keys()
    dialog.save_button.click()
    pump(
        lambda: not shiboken6.isValid(dialog) or not dialog.isVisible() or dialog.error_label.isVisible(), 10
    )
    assert not shiboken6.isValid(dialog) or not dialog.isVisible(), dialog.error_label.text()
    expected = Settings.load({**shell.ctx.settings_store.load_raw(), **wanted}, {})
    assert shell.ctx.preferences is not None
    assert shell.ctx.preferences.current == expected
    assert Settings.load(shell.ctx.settings_store.load_raw(), {}) == expected  # stored
    # Live effects: the theme switched, the login entry written (start hidden in the tray).
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 128  # dark
    entry = tmp_path / "xdg-config" / "autostart" / "zondarr.desktop"
    pump(entry.exists, 15)
    assert HIDDEN_FLAG in entry.read_text() and str(shell.data_dir) in entry.read_text()

    # Reopened, the dialog shows what was saved.
    window.menus.open_settings()
    again = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog) and d.isVisible())
    assert {n: again.value(n) for n in wanted} == {n: _shown(again, n, v) for n, v in wanted.items()}
    # Turning start at login off removes the entry.
    again.set_value("start_at_login", "false")
    again.save_button.click()
    pump(lambda: not entry.exists(), 15)


def _shown(dialog: SettingsDialog, name: str, text: str) -> str:
    editor = dialog.editors[name]
    if isinstance(editor, QCheckBox | QComboBox | QPlainTextEdit):
        return text
    return dialog._shown(getattr(Settings.load({name: text}, {}), name))


def test_theme_switches_live_from_the_view_menu(
    shell_factory: Callable[..., Shell], tray: None, qapp: QApplication
) -> None:
    window = shell_factory().open(background_jobs=False)
    window.menus.theme_actions["dark"].trigger()
    pump(lambda: qapp.palette().color(QPalette.ColorRole.Window).lightness() < 128, 30)
    screenshot(window, "desktop_dark_theme")
    window.menus.theme_actions["light"].trigger()
    pump(lambda: qapp.palette().color(QPalette.ColorRole.Window).lightness() >= 128, 30)
    assert window.ctx.preferences is not None and window.ctx.preferences.current.theme == "light"


def test_incident_and_sync_notifications_reach_the_tray_and_the_webhook(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], tray: None
) -> None:
    receiver = WebhookReceiver()
    try:
        shell = shell_factory()
        gone = demo_factory("jellyfin", tracks=10)
        shell.add_jellyfin(gone)
        assert shell.ctx.secrets is not None
        shell.ctx.secrets.set(WEBHOOK_URL_REF, f"{receiver.url}/alerts")
        window = shell.open(background_jobs=False)
        health = shell.ctx.health.monitor
        run(shell.loop, health.heartbeat_round())
        gone.stop()
        for _ in range(2):
            run(shell.loop, health.heartbeat_round())
        tray_icon = window.desktop.tray
        pump(lambda: any(t == "Server problem" for t, _ in tray_icon.shown), 30)
        assert tray_icon.state == "incident"
        pump(lambda: any(b.get("title") == "Server problem" for _, b in receiver.posts), 30)
        pump(lambda: bool(window.sync.state.servers), 30)
        window.sync.request_sync()
        pump(lambda: any(t.startswith("Sync") for t, _ in tray_icon.shown), 60)
        pump(lambda: any(b.get("kind") == "sync" for _, b in receiver.posts), 30)
        screenshot(window, "desktop_incident_notified")
    finally:
        receiver.close()


def test_a_kind_switched_off_is_not_notified(shell_factory: Callable[..., Shell], tray: None) -> None:
    shell = shell_factory()
    window = shell.open(background_jobs=False)
    run(shell.loop, window.save_settings({"notify_sync_problems": "false"}))
    assert shell.ctx.notifications is not None
    assert not shell.ctx.notifications.notify("sync", "Sync failed", "x")
    assert shell.ctx.notifications.notify("redemption", "Invitation redeemed", "Ana joined Demo Plex")
    assert window.desktop.tray.shown == [("Invitation redeemed", "Ana joined Demo Plex")]


def test_menu_actions_reach_the_right_pages_and_dialogs(
    shell_factory: Callable[..., Shell], tray: None, tmp_path: Path
) -> None:
    shell = shell_factory()
    window = shell.open(background_jobs=False)
    menus = window.menus
    assert [m.title().replace("&", "") for m in (menus.file_menu, menus.view_menu, menus.help_menu)] == [
        "File",
        "View",
        "Help",
    ]
    for i, action in enumerate(menus.page_actions):
        action.trigger()
        assert window.sidebar.currentRow() == i and action.text() == PAGES[i]
        assert action.shortcut().toString() == f"Ctrl+{(i + 1) % 10}"
    menus.export_action.trigger()
    assert window.sidebar.currentRow() == 0 and window.library._export_dialog is not None
    window.library._export_dialog.close()
    bundle = tmp_path / "bundle.zip"
    menus.save_bundle(bundle)
    pump(bundle.exists, 20)
    menus.backups_action.trigger()
    backups = next(d for d in menus.dialogs if isinstance(d, BackupsDialog))
    backups.backup_button.click()
    pump(lambda: backups.table.rowCount() == 1, 20)
    assert backups.table.item(0, 2).text() == "manual"
    menus.shortcuts_action.trigger()
    menus.guide_action.trigger()
    menus.about_action.trigger()
    shortcuts = next(d for d in menus.dialogs if isinstance(d, ShortcutsDialog))
    keys = {
        shortcuts.table.item(r, 0).text(): shortcuts.table.item(r, 1).text()
        for r in range(shortcuts.table.rowCount())
    }
    assert (
        keys["Settings"] in ("Ctrl+,", "Ctrl+Comma")
        and keys["Refresh"] == "Ctrl+R"
        and keys["Quit"] == "Ctrl+Q"
    )
    guide = next(d for d in menus.dialogs if isinstance(d, GuideDialog))
    assert "Keeping Zondarr running" in guide.browser.toPlainText()
    about = next(d for d in menus.dialogs if isinstance(d, AboutDialog))
    assert set(about.versions) == {"Zondarr", "Qt", "PySide6", "Python", "SQLite"}
    assert about.versions["SQLite"][0].isdigit()
    for dialog, name in (
        (shortcuts, "dialog_shortcuts"),
        (guide, "dialog_admin_guide"),
        (about, "dialog_about"),
        (backups, "dialog_backups"),
    ):
        screenshot(dialog, name)
    window.menus.file_menu.popup(window.mapToGlobal(window.rect().topLeft()))
    screenshot(window.menus.file_menu, "menu_file")
    window.menus.file_menu.hide()


def test_a_crash_is_mentioned_once_with_save_diagnostics_bundle(
    shell_factory: Callable[..., Shell], tray: None, tmp_path: Path
) -> None:
    window = shell_factory().open(background_jobs=False)
    report = tmp_path / "crash-20261204T151200Z.log"
    report.write_text("Fatal Python error: Segmentation fault")
    window.show_crash_notice(report)
    [notice] = [d for d in window.sync.error_dialogs if d.objectName() == "crashNotice"]
    button = notice.findChild(type(notice.copy_button), "crashSaveBundle")
    assert button is not None and button.text() == "Save diagnostics bundle…"
    screenshot(notice, "dialog_crash_notice")


def test_the_webhook_set_in_settings_gets_a_test_message_and_the_badge_follows_syncs(
    shell_factory: Callable[..., Shell], tray: None
) -> None:
    receiver = WebhookReceiver()
    try:
        shell = shell_factory()
        window = shell.open(background_jobs=False)
        window.menus.open_settings()
        dialog = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog))
        dialog.secret_edits[WEBHOOK_URL_REF].setText("not an address")
        dialog.save_button.click()
        pump(dialog.error_label.isVisible, 30)
        assert "not a web address" in dialog.error_label.text()
        dialog.secret_edits[WEBHOOK_URL_REF].setText(f"{receiver.url}/hook")
        dialog.set_value("webhook_format", "discord")
        dialog.save_button.click()
        pump(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), 30)
        assert shell.ctx.secrets.get(WEBHOOK_URL_REF) == f"{receiver.url}/hook"
        assert f"{receiver.url}/hook" not in str(
            shell.ctx.settings_store.load_raw()
        )  # a secret: keychain only
        window.menus.open_settings()
        again = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog) and d.isVisible())
        again.findChild(QPushButton, "test_webhook").click()
        pump(lambda: bool(receiver.posts), 30)
        assert receiver.posts[0][1]["content"].startswith("**Zondarr test**")
        pump(lambda: "Test webhook notification sent." in again.error_label.text(), 30)
        again.close()
        controller = window.sync.controller
        controller.sync_started.emit("manual")
        assert window.desktop.tray.state == "syncing"
        window.desktop.set_syncing(False)
        assert window.desktop.tray.state == "ok"
    finally:
        receiver.close()


def test_a_setting_given_by_the_environment_is_shown_but_not_editable(
    shell_factory: Callable[..., Shell], tray: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZONDARR_PAGE_SIZE", "250")
    window = shell_factory().open(background_jobs=False)
    window.menus.open_settings()
    dialog = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog))
    editor = dialog.editors["page_size"]
    assert not editor.isEnabled() and "ZONDARR_PAGE_SIZE" in editor.toolTip()
    assert dialog.value("page_size") == "250" and "page_size" not in dialog.changes()
    assert dialog.editors["theme"].isEnabled()
    dialog.close()


def test_an_incident_still_open_from_before_shows_in_the_badge_at_start(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], tray: None
) -> None:
    shell = shell_factory()
    gone = demo_factory("jellyfin", tracks=10)
    shell.add_jellyfin(gone)
    monitor = shell.ctx.health.monitor
    run(shell.loop, monitor.heartbeat_round())
    gone.stop()
    for _ in range(2):
        run(shell.loop, monitor.heartbeat_round())
    assert monitor.incidents(open_only=True)  # opened before the window exists
    window = shell.open(background_jobs=False)
    pump(lambda: window.desktop.tray.state == "incident", 30)


def test_task_intervals_changed_in_settings_apply_at_once(
    shell_factory: Callable[..., Shell], tray: None
) -> None:
    shell = shell_factory()
    window = shell.open(background_jobs=False)
    run(shell.loop, window.save_settings({"heartbeat_interval_s": "120", "user_sync_interval_s": "600"}))
    intervals = {s.name: s.interval_s for s in run(shell.loop, shell.ctx.people.tasks.status())}
    assert intervals["heartbeat"] == 120 and intervals["sync-users"] == 600


def test_e_mail_notifications_set_in_settings_reach_the_smtp_stand_in(
    shell_factory: Callable[..., Shell], tray: None
) -> None:
    with smtp_standin() as smtp:
        shell = shell_factory()
        window = shell.open(background_jobs=False)
        window.menus.open_settings()
        dialog = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog))
        for name, value in (
            ("smtp_host", smtp.host),
            ("smtp_port", str(smtp.port)),
            ("smtp_starttls", "false"),
            ("smtp_from", "zondarr@example.org"),
            ("notify_email_to", "admin@example.org"),
        ):
            dialog.set_value(name, value)
        dialog.save_button.click()
        pump(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), 30)
        window.menus.open_settings()
        again = next(d for d in window.menus.dialogs if isinstance(d, SettingsDialog) and d.isVisible())
        again.findChild(QPushButton, "test_e-mail").click()
        pump(lambda: len(smtp.inbox.messages) == 1, 30)
        assert smtp.inbox.messages[0].recipients == ["admin@example.org"]
        again.close()
        shell.ctx.notifications.notify("expiring", "Accounts about to expire", "robin: 2026-12-11")
        pump(lambda: len(smtp.inbox.messages) == 2, 30)
        assert smtp.inbox.messages[1].message["Subject"] == "Zondarr: Accounts about to expire"
