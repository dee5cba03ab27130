"""The main window: sidebar pages (Library, Servers, Users, Sync history, Invitations, Identities, Tasks, Health,
Diagnostics, Errors; Ctrl+1…Ctrl+0), toolbar (Refresh Ctrl+R, Add server Ctrl+N; the Library page owns Ctrl+F and Ctrl+E),
offline banner, status bar with the permanent sync footer, toasts. Geometry and column widths persist in
QSettings. GUI (event loop) thread only; ``shutdown()`` must be awaited before the context is closed. With background
jobs, ``start()`` also runs the task scheduler (``ctx.people.tasks.run_forever()``, heartbeats included) as a named task of
the window, cancelled on close; incident alerts go to the tray (or a toast).

Two-phase start (``app/main.py``): ``MainWindow()`` without a context builds the frame, sidebar, toolbar, status
bar, banner and the Library page, which ``show_head`` fills with the head of the cache (read from the file) for
the first paint; nothing that needs the context, the services or asyncio is imported for it. ``attach(ctx)``
then wires the rest (sync presenter, footer clock, health alerts, the library's store); ``start()`` as before.
``MainWindow(ctx)`` attaches at once. Before ``attach``, actions and page switches wait for it.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.ui.menu_bar import MenuBar
from app.ui.pages.library_page import LibraryPage
from app.ui.pages.page import Page
from app.ui.tasks import TaskGroup
from app.ui.theme import app_icon
from app.ui.widgets.offline_banner import OfflineBanner
from app.ui.widgets.status_footer import StatusFooter
from app.ui.widgets.toasts import ToastHost
from app.ui.window_settings import WindowSettings

if TYPE_CHECKING:  # the other pages are imported when first shown (start-up imports only the library's)
    from app.core.errors import ZondarrError
    from app.core.models import Server
    from app.services.context import AppContext
    from app.services.tasks import TaskScheduler
    from app.ui.desktop_shell import DesktopShell
    from app.ui.health_alerts import HealthNotifier
    from app.ui.models.track_model import RowLike
    from app.ui.pages.diagnostics_page import DiagnosticsPage
    from app.ui.pages.errors_page import ErrorsPage
    from app.ui.pages.health_page import HealthPage
    from app.ui.pages.history_page import HistoryPage
    from app.ui.pages.identities_page import IdentitiesPage
    from app.ui.pages.invitations_page import InvitationsPage
    from app.ui.pages.servers_page import ServersPage
    from app.ui.pages.tasks_page import TasksPage
    from app.ui.pages.users_page import UsersPage
    from app.ui.sync_presenter import SyncPresenter


log = logging.getLogger(__name__)

SCHEDULER_START_DELAY_S = 20.0

PAGES = (
    "Library",
    "Servers",
    "Users",
    "Sync history",
    "Invitations",
    "Identities",
    "Tasks",
    "Health",
    "Diagnostics",
    "Errors",
)


# Every page but the library: (module, class, key of its column state in QSettings). Built on first use.
_LAZY: dict[str, tuple[str, str, str]] = {
    "Servers": ("app.ui.pages.servers_page", "ServersPage", "servers"),
    "Users": ("app.ui.pages.users_page", "UsersPage", "users"),
    "Sync history": ("app.ui.pages.history_page", "HistoryPage", "history"),
    "Invitations": ("app.ui.pages.invitations_page", "InvitationsPage", "invitations"),
    "Identities": ("app.ui.pages.identities_page", "IdentitiesPage", "identities"),
    "Tasks": ("app.ui.pages.tasks_page", "TasksPage", "tasks"),
    "Health": ("app.ui.pages.health_page", "HealthPage", "incidents"),
    "Diagnostics": ("app.ui.pages.diagnostics_page", "DiagnosticsPage", "diagnostics"),
    "Errors": ("app.ui.pages.errors_page", "ErrorsPage", "errors"),
}
_RELOAD_AFTER_SYNC = ("Servers", "Users", "Sync history", "Identities", "Health")
_RELOAD_WHEN_SHOWN = PAGES[4:]  # these refresh what they show each time they are opened

P = TypeVar("P")


class _Page(Generic[P]):
    """``window.<name>_page``: the page, built (and inserted in the stack) on first access."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, window: MainWindow, owner: type | None = None) -> P:
        return cast(P, window.page(self.name))


class MainWindow(QMainWindow):
    """See the module docstring. Only the Library page is built with the window (the first paint waits for
    nothing else); every other page is imported and built the first time it is shown or accessed
    (``page(name)`` or its attribute; after ``attach``), then wired, given its saved column widths, and loaded if
    the window has started."""

    closed = Signal()
    servers_page: _Page[ServersPage] = _Page("Servers")
    users_page: _Page[UsersPage] = _Page("Users")
    history_page: _Page[HistoryPage] = _Page("Sync history")
    invitations_page: _Page[InvitationsPage] = _Page("Invitations")
    identities_page: _Page[IdentitiesPage] = _Page("Identities")
    tasks_page: _Page[TasksPage] = _Page("Tasks")
    health_page: _Page[HealthPage] = _Page("Health")
    diagnostics_page: _Page[DiagnosticsPage] = _Page("Diagnostics")
    errors_page: _Page[ErrorsPage] = _Page("Errors")

    sync: SyncPresenter  # these three are set by attach()
    health_notifier: HealthNotifier
    desktop: DesktopShell
    TRAY_AVAILABLE: bool | None = None  # None: ask the platform (tests set True)

    def __init__(self, ctx: AppContext | None = None, settings: QSettings | None = None) -> None:
        """Builds the window; with ``ctx`` also attaches it. GUI thread; without ``ctx`` no event loop needed."""
        super().__init__()
        self._ctx: AppContext | None = None
        self.settings = settings if settings is not None else QSettings()
        self._state = WindowSettings(self.settings)
        self.tasks = TaskGroup("main-window")
        self.setWindowTitle("Zondarr")
        self.setWindowIcon(app_icon())
        self.resize(1200, 760)

        self._started = False
        self._quitting = False
        self.library = LibraryPage(None, self)  # attach() gives it the context
        self._built: dict[str, QWidget] = {"Library": self.library}

        central = QWidget(self)
        outer = QHBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.sidebar = QListWidget(central)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Pages")
        self.sidebar.addItems(list(PAGES))
        self.sidebar.setFixedWidth(170)
        outer.addWidget(self.sidebar)
        right = QVBoxLayout()
        right.setContentsMargins(10, 8, 10, 4)
        self.banner = OfflineBanner(central)
        right.addWidget(self.banner)
        self.stack = QStackedWidget(central)
        self._name_page(self.library, "Library")
        self.stack.addWidget(self.library)  # attach() adds the other pages' stand-ins
        right.addWidget(self.stack, 1)
        outer.addLayout(right, 1)
        self.setCentralWidget(central)
        self.sidebar.setCurrentRow(0)

        self.footer = StatusFooter(time.time, self)  # attach() gives it the context's clock
        self.statusBar().addPermanentWidget(self.footer, 1)
        self.statusBar().setSizeGripEnabled(True)
        self.toasts = ToastHost(self)
        self.stack.currentChanged.connect(
            lambda _index: self.toasts.reposition()
        )  # other page, other data area
        self.sidebar.currentRowChanged.connect(self._on_sidebar_current_row_changed)
        self.library.error_raised.connect(self._on_page_error)
        self._build_actions()
        self._restore_settings()
        if ctx is not None:
            self.attach(ctx)

    @property
    def ctx(self) -> AppContext:
        """The context (RuntimeError before ``attach``: a programming error)."""
        if self._ctx is None:
            raise RuntimeError("MainWindow.ctx before attach()")
        return self._ctx

    @property
    def attached(self) -> bool:
        return self._ctx is not None

    def show_head(self, tracks: int, rows: Sequence[RowLike], last_synced_at: float | None) -> bool:
        """Before ``attach``: shows the head of the cache that the composition root read from the file: the
        footer (``last_synced_at``: the oldest last sync of the enabled servers, as the sync presenter computes
        it) and the library's row count and first rows of the default view. Returns whether the library shows
        them (not when its restored sort order is another one). GUI thread; no event loop needed."""
        self.footer.set_idle(tracks, last_synced_at)
        return self.library.show_head(tracks, rows)

    def attach(self, ctx: AppContext) -> None:
        """Wires the window to ``ctx``: sync presenter, footer clock, health alerts, the library's store (its view
        loads now), and the page the sidebar shows if that is not the library. Once, on the GUI thread with the
        event loop set; ``start()`` next. Raises RuntimeError when already attached."""
        from app.ui.desktop_shell import DesktopShell
        from app.ui.health_alerts import HealthNotifier
        from app.ui.sync_presenter import SyncPresenter

        if self._ctx is not None:
            raise RuntimeError("MainWindow.attach() twice")
        self._ctx = ctx
        self.footer.set_clock(ctx.clock)
        self.desktop = DesktopShell(self, ctx, self.TRAY_AVAILABLE)
        self.health_notifier = HealthNotifier(self._notify_incident, self.desktop.update_state)
        ctx.health.monitor.set_alert_listener(self.health_notifier)
        self.sync = SyncPresenter(ctx, self, self.footer, self.banner, self.toasts)
        self.desktop.watch_sync(self.sync.controller)
        self.menus.set_theme(ctx.preferences.current.theme)
        self.sync.cache_changed.connect(self._on_sync_cache_changed)
        self.sync.no_servers.connect(self._on_sync_no_servers)
        self.library.attach(ctx)
        self._add_stand_ins()
        if self.sidebar.currentRow() > 0:  # restored before its page could be built
            self._on_sidebar_current_row_changed(self.sidebar.currentRow())

    # ---- construction

    def _pages(self) -> tuple[QWidget, ...]:
        """The pages built so far, in ``PAGES`` order."""
        return tuple(self._built[name] for name in PAGES if name in self._built)

    def page(self, name: str) -> QWidget:
        """The page called ``name`` (one of ``PAGES``), built now if it was not yet. Raises KeyError."""
        built = self._built.get(name)
        if built is not None:
            return built
        module, cls, _key = _LAZY[name]
        page: Any = getattr(importlib.import_module(module), cls)(self.ctx, self)
        self._built[name] = page
        self._name_page(page, name)
        index = PAGES.index(name)
        placeholder = self.stack.widget(index)
        current = self.stack.currentIndex() == index
        if placeholder is not None:
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
        self.stack.insertWidget(index, page)
        if current:
            self.stack.setCurrentIndex(index)
        if name == "Servers":
            page.server_added.connect(self._on_servers_page_server_added)
            page.server_removed.connect(self._on_servers_page_server_removed)
            page.error.connect(self._on_page_error)
        message = getattr(page, "message", None)
        if message is not None:
            message.connect(self._on_page_message)
        self._state.restore_columns(_key, page.view)
        if self._started:
            page.reload()
        return cast(QWidget, page)

    def _page_of(self, name: str) -> Page:
        """The built page ``name`` as a ``Page`` (every widget in ``_built`` is one). Raises KeyError."""
        page = self._built[name]
        if not isinstance(page, Page):
            raise TypeError(f"{type(page).__name__} is not a Page (no view or reload)")
        return page

    def _add_stand_ins(self) -> None:
        """Empty widgets in the stack for the pages not built yet (once; not needed for the first paint)."""
        if self.stack.count() == 1:
            for _name in PAGES[1:]:
                self.stack.addWidget(QWidget(self.stack))

    @staticmethod
    def _name_page(page: QWidget, name: str) -> None:
        page.setAccessibleName(f"{name} page")
        if not page.objectName():
            page.setObjectName(name.replace(" ", "").lower() + "Page")

    def _build_actions(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)

        def action(
            text: str, shortcut: QKeySequence | str, slot: object, tip: str, on_bar: bool = True
        ) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.setToolTip(
                f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
            )
            act.triggered.connect(slot)
            self.addAction(act)
            if on_bar:
                bar.addAction(act)
            return act

        self.refresh_action = action(
            "&Refresh", "Ctrl+R", self._on_refresh_action_triggered, "Sync all servers now"
        )
        self.add_server_action = action(
            "&Add server…", "Ctrl+N", self._on_add_server_action_triggered, "Add a Plex or Jellyfin server"
        )
        self.menus = MenuBar(self, PAGES)  # File, View (pages Ctrl+1…Ctrl+0, theme), Help

    # ---- lifecycle

    def start(self, background_jobs: bool = True) -> None:
        """Loads the pages and the footer; with ``background_jobs`` also the first/stale sync and the offline
        check (``--self-test`` runs without them). After ``attach``; the entry point freezes the start-up heap
        just before (``app.process.freeze_long_lived``)."""
        self._started = True
        for name in self._built:
            if name != "Library":
                self._page_of(name).reload()
        self.tasks.start("startup", self.sync.startup(background_jobs))
        self.tasks.start("open-incidents", self._read_open_incidents())
        if background_jobs:
            self.tasks.start("scheduler", self._run_scheduler(self.ctx.people.tasks))

    async def _read_open_incidents(self) -> None:
        """The incidents still open from before this start: the tray's badge shows them at once."""
        monitor = self.ctx.health.monitor
        incidents = await self.ctx.runner.read(lambda: monitor.incidents(open_only=True))
        self.health_notifier.open_incidents.update(i.id for i in incidents)
        self.desktop.update_state()

    async def _run_scheduler(self, scheduler: TaskScheduler) -> None:
        import asyncio

        # Started after a pause: the start-up sync (first or stale) goes first, alone, and the scheduler's
        # never-run tasks (all due at once on a new cache) do not race it for the server locks.
        await asyncio.sleep(SCHEDULER_START_DELAY_S)
        await scheduler.run_forever()

    async def shutdown(self) -> None:
        """Cancels the sync job and every page task and waits for them (call before ``ctx.close()``)."""
        import asyncio

        if self._ctx is None:  # never attached: no job, no page but the library (which started nothing)
            await self.tasks.shutdown()
            return
        await self.sync.shutdown()
        groups = [self.tasks, *(getattr(p, "tasks", None) for p in self._pages())]
        await asyncio.gather(*(g.shutdown() for g in groups if isinstance(g, TaskGroup)))
        self.library.shutdown()
        self.ctx.health.monitor.set_alert_listener(None)
        await self.ctx.health.monitor.close()  # the clients kept between heartbeat rounds
        self.desktop.close()
        await self.desktop.tasks.shutdown()
        await self.ctx.notifications.close()

    def show_error(self, err: ZondarrError) -> None:
        """Non-blocking error dialog (also the exception hook's shower). After ``attach``."""
        from app.ui.dialogs.error_dialog import ErrorDialog

        self.sync.show_error_dialog(ErrorDialog.for_error(err, self))

    def quit(self) -> None:
        """Quit Zondarr (menu, tray, Ctrl+Q): the window closes for good, background tasks stop with it."""
        self._quitting = True
        self.close()

    def _notify_incident(self, title: str, text: str, opened: bool) -> None:
        self.ctx.notifications.notify("incident", title, text, warning=opened)

    def show_crash_notice(self, report: object) -> None:
        """Once after a crash: what happened and the way to report it (Save diagnostics bundle)."""
        from app.ui.dialogs.error_dialog import ErrorDialog

        dialog = ErrorDialog(
            "Zondarr stopped unexpectedly last time.",
            "Its last moments were saved in the log folder. If it happens again, save a diagnostics bundle "
            "and send it along with what you were doing.",
            None,
            self,
            title="Zondarr closed unexpectedly",
        )
        dialog.setObjectName("crashNotice")
        button = dialog.add_button("Save diagnostics bundle…", self.menus.save_bundle)
        button.setObjectName("crashSaveBundle")
        self.sync.show_error_dialog(dialog)

    async def save_settings(self, changes: dict[str, str]) -> None:
        """Validates and stores ``changes`` (the live ones apply at once). Errors go to the error dialog."""
        from app.core.errors import ZondarrError

        try:
            await self.ctx.preferences.save(changes)
        except ZondarrError as err:
            self.show_error(err)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._state.save(self, self.sidebar.currentRow(), self._tables())
        if not self._quitting and self._ctx is not None and self.desktop.keeps_running():
            event.ignore()  # to the tray: the scheduler, heartbeats and notifications keep running
            self.hide()
            self.desktop.hidden_to_tray()
            return
        if self._ctx is not None:
            self.sync.controller.cancel()
        scheduler = self.tasks.get("scheduler")  # background jobs (heartbeats included) stop with the window
        if scheduler is not None:
            scheduler.cancel()
        event.accept()
        self.closed.emit()

    # ---- settings

    def _tables(self) -> dict[str, QTableView]:
        """The tables of the pages built so far, by their QSettings key (the others keep their saved state)."""
        views = {_LAZY[name][2]: self._page_of(name).view for name in self._built if name in _LAZY}
        views["library"] = self.library.view
        return views

    def _restore_settings(self) -> None:
        self._state.restore_geometry(self)
        for key, view in self._tables().items():
            self._state.restore_columns(key, view)
        self.sidebar.setCurrentRow(self._state.page(len(PAGES)))

    # ---- slots

    def _on_refresh_action_triggered(self) -> None:
        if self._ctx is not None:
            self.sync.request_sync()

    def _on_add_server_action_triggered(self) -> None:
        if self._ctx is None:
            return
        self.sidebar.setCurrentRow(PAGES.index("Servers"))
        self.servers_page.open_add_dialog()

    def _on_sync_cache_changed(self, library_too: bool = True) -> None:
        if library_too:
            self.library.reload()
        for name in _RELOAD_AFTER_SYNC:  # a page not built yet loads when it is first shown
            if name in self._built:
                self._page_of(name).reload()

    def _on_sidebar_current_row_changed(self, row: int) -> None:
        if not 0 <= row < len(PAGES):
            return
        if self._ctx is None:  # a page restored from the settings: built once the context is there (attach)
            self._add_stand_ins()
            self.stack.setCurrentIndex(row)
            return
        name = PAGES[row]
        fresh = name not in self._built
        self.page(name)
        self.stack.setCurrentIndex(row)
        if name in _RELOAD_WHEN_SHOWN and not (
            fresh and self._started
        ):  # a fresh page loaded as it was built
            self._page_of(name).reload()

    def _on_sync_no_servers(self) -> None:
        self.sidebar.setCurrentRow(PAGES.index("Servers"))

    def _on_servers_page_server_added(self, server: Server) -> None:
        self.tasks.start("after-add", self._after_server_change(server.name))

    def _on_servers_page_server_removed(self, name: str) -> None:
        self.banner.clear_server(name)
        self.tasks.start("after-remove", self._after_server_change(None))

    async def _after_server_change(self, added: str | None) -> None:
        state = await self.sync.read_state()
        self._on_sync_cache_changed()
        if self.sync.footer.state != "syncing":
            self.footer.set_idle(state.tracks, state.last_synced_at)
        if added is not None:  # empty cache: the first sync is modal; else the new server syncs in background
            self.sync.request_sync(None if state.tracks == 0 else [added], trigger="added")

    def _on_page_message(self, text: str, kind: str) -> None:
        self.toasts.show_toast(text, kind)

    def _on_page_error(self, err: ZondarrError) -> None:
        self.show_error(err)
