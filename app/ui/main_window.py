"""The main window: sidebar pages (Library, Servers, Users, Sync history, Invitations, Identities, Tasks, Health,
Diagnostics, Errors; Ctrl+1…Ctrl+0), toolbar (Refresh Ctrl+R, Add server Ctrl+N; the Library page owns Ctrl+F and Ctrl+E),
offline banner, status bar with the permanent sync footer, toasts. Geometry and column widths persist in
QSettings. GUI (event loop) thread only; ``shutdown()`` must be awaited before the context is closed. With background
jobs, ``start()`` also runs the task scheduler (``ctx.tasks.run_forever()``, heartbeats included) as a named task of
the window, cancelled on close; incident alerts go to the tray (or a toast).
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ZondarrError
from app.core.models import Server
from app.services.context import AppContext
from app.services.tasks import TaskScheduler
from app.ui.diagnostics_page import DiagnosticsPage
from app.ui.error_dialog import ErrorDialog
from app.ui.errors_page import ErrorsPage
from app.ui.health_alerts import HealthNotifier
from app.ui.health_page import HealthPage
from app.ui.history_page import HistoryPage
from app.ui.identities_page import IdentitiesPage
from app.ui.invitations_page import InvitationsPage
from app.ui.offline_banner import OfflineBanner
from app.ui.servers_page import ServersPage
from app.ui.status_footer import StatusFooter
from app.ui.sync_presenter import SyncPresenter
from app.ui.tasks import TaskGroup
from app.ui.tasks_page import TasksPage
from app.ui.theme import app_icon
from app.ui.toasts import ToastHost
from app.ui.users_page import UsersPage

try:  # built by the Library engineer in parallel; a placeholder stands in until the module exists
    from app.ui.library_page import LibraryPage
except ImportError:  # pragma: no cover - only while the module is missing
    LibraryPage = None  # type: ignore[assignment,misc]

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


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, ctx: AppContext, settings: QSettings | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings if settings is not None else QSettings()
        self.tasks = TaskGroup("main-window")
        self.setWindowTitle("Zondarr")
        self.setWindowIcon(app_icon())
        self.resize(1200, 760)

        self.library = self._make_library_page()
        self.servers_page = ServersPage(ctx, self)
        self.users_page = UsersPage(ctx, self)
        self.history_page = HistoryPage(ctx, self)
        self.invitations_page = InvitationsPage(ctx, self)
        self.identities_page = IdentitiesPage(ctx, self)
        self.tasks_page = TasksPage(ctx, self)
        self.health_page = HealthPage(ctx, self)
        self.diagnostics_page = DiagnosticsPage(ctx, self)
        self.errors_page = ErrorsPage(ctx, self)

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
        for page, name in zip(self._pages(), PAGES, strict=True):
            page.setAccessibleName(f"{name} page")
            if not page.objectName():
                page.setObjectName(name.replace(" ", "").lower() + "Page")
            self.stack.addWidget(page)
        right.addWidget(self.stack, 1)
        outer.addLayout(right, 1)
        self.setCentralWidget(central)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sidebar.setCurrentRow(0)

        self.footer = StatusFooter(ctx.clock, self)
        self.statusBar().addPermanentWidget(self.footer, 1)
        self.statusBar().setSizeGripEnabled(True)
        self.toasts = ToastHost(self)
        self.health_notifier = HealthNotifier(self, self.toasts.show_toast)
        if ctx.health is not None:
            ctx.health.alert = self.health_notifier
        self.sync = SyncPresenter(ctx, self, self.footer, self.banner, self.toasts)
        self.sync.cache_changed.connect(self._on_sync_cache_changed)
        self.sync.no_servers.connect(self._on_sync_no_servers)
        self.servers_page.server_added.connect(self._on_servers_page_server_added)
        self.servers_page.server_removed.connect(self._on_servers_page_server_removed)
        self.servers_page.message.connect(self._on_page_message)
        self.servers_page.error.connect(self._on_page_error)
        for people_page in (
            self.users_page,
            self.invitations_page,
            self.identities_page,
            self.tasks_page,
            self.health_page,
            self.diagnostics_page,
        ):
            people_page.message.connect(self._on_page_message)
        self.sidebar.currentRowChanged.connect(self._on_sidebar_current_row_changed)
        library_error = getattr(self.library, "error_raised", None)
        if library_error is not None:
            library_error.connect(self._on_page_error)
        self._build_actions()
        self._restore_settings()

    # ---- construction

    def _pages(self) -> tuple[QWidget, ...]:
        """The sidebar's pages, in ``PAGES`` order."""
        return (
            self.library,
            self.servers_page,
            self.users_page,
            self.history_page,
            self.invitations_page,
            self.identities_page,
            self.tasks_page,
            self.health_page,
            self.diagnostics_page,
            self.errors_page,
        )

    def _make_library_page(self) -> QWidget:
        if LibraryPage is not None:
            return LibraryPage(self.ctx, self)
        placeholder = QWidget(self)
        layout = QVBoxLayout(placeholder)
        label = QLabel("The library view is not available in this build.", placeholder)
        label.setObjectName("hint")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
        return placeholder

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
        action("&Quit", "Ctrl+Q", self.close, "Quit Zondarr", False)
        for i, _name in enumerate(PAGES):
            action(
                f"Page {i + 1}",
                f"Ctrl+{(i + 1) % 10}",
                lambda _=False, row=i: self.sidebar.setCurrentRow(row),
                f"Show {_name}",
                False,
            )

    # ---- lifecycle

    def start(self, background_jobs: bool = True) -> None:
        """Loads the pages and the footer; with ``background_jobs`` also the first/stale sync and the offline
        check (``--self-test`` runs without them)."""
        self.servers_page.reload()
        self.users_page.reload()
        self.history_page.reload()
        for page in self._pages()[4:]:
            page.reload()  # type: ignore[attr-defined]
        self.tasks.start("startup", self.sync.startup(background_jobs))
        if background_jobs and self.ctx.tasks is not None:
            self.tasks.start("scheduler", self._run_scheduler(self.ctx.tasks))

    async def _run_scheduler(self, scheduler: TaskScheduler) -> None:
        # Started after a pause: the start-up sync (first or stale) goes first, alone, and the scheduler's
        # never-run tasks (all due at once on a new cache) do not race it for the server locks.
        await asyncio.sleep(SCHEDULER_START_DELAY_S)
        await scheduler.run_forever()

    async def shutdown(self) -> None:
        """Cancels the sync job and every page task and waits for them (call before ``ctx.close()``)."""
        await self.sync.shutdown()
        groups = [self.tasks, *(getattr(p, "tasks", None) for p in self._pages())]
        await asyncio.gather(*(g.shutdown() for g in groups if isinstance(g, TaskGroup)))
        library_tasks = getattr(self.library, "shutdown", None)
        if callable(library_tasks):
            result = library_tasks()
            if asyncio.iscoroutine(result):
                await result
        if self.ctx.health is not None:
            self.ctx.health.alert = None
            await self.ctx.health.close()  # the clients kept between heartbeat rounds
        self.health_notifier.close()

    def show_error(self, err: ZondarrError) -> None:
        """Non-blocking error dialog (also the exception hook's shower)."""
        self.sync._keep(ErrorDialog.for_error(err, self))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        self.sync.controller.cancel()
        scheduler = self.tasks.get("scheduler")  # background jobs (heartbeats included) stop with the window
        if scheduler is not None:
            scheduler.cancel()
        event.accept()
        self.closed.emit()

    # ---- settings

    def _tables(self) -> dict[str, QTableView]:
        views = {
            "servers": self.servers_page.view,
            "users": self.users_page.view,
            "history": self.history_page.view,
            "invitations": self.invitations_page.view,
            "identities": self.identities_page.view,
            "tasks": self.tasks_page.view,
            "incidents": self.health_page.view,
            "diagnostics": self.diagnostics_page.view,
            "errors": self.errors_page.view,
        }
        library_view = getattr(self.library, "view", None)
        if isinstance(library_view, QTableView):
            views["library"] = library_view
        return views

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        for name, view in self._tables().items():
            state = self.settings.value(f"columns/{name}")
            if isinstance(state, QByteArray) and not state.isEmpty():
                header: QHeaderView = view.horizontalHeader()
                header.restoreState(state)
        page = str(self.settings.value("window/page", 0))
        self.sidebar.setCurrentRow(int(page) if page.isdigit() and int(page) < len(PAGES) else 0)

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/page", self.sidebar.currentRow())
        for name, view in self._tables().items():
            self.settings.setValue(f"columns/{name}", view.horizontalHeader().saveState())
        self.settings.sync()

    # ---- slots

    def _on_refresh_action_triggered(self) -> None:
        self.sync.request_sync()

    def _on_add_server_action_triggered(self) -> None:
        self.sidebar.setCurrentRow(PAGES.index("Servers"))
        self.servers_page.open_add_dialog()

    def _on_sync_cache_changed(self, library_too: bool = True) -> None:
        reload = getattr(self.library, "reload", None)
        if callable(reload) and library_too:
            reload()
        self.servers_page.reload()
        self.users_page.reload()
        self.history_page.reload()
        self.identities_page.reload()
        self.health_page.reload()

    def _on_sidebar_current_row_changed(self, row: int) -> None:
        page = self.stack.widget(row)
        if page in self._pages()[4:]:  # refresh what the page shows when it is opened
            page.reload()  # type: ignore[attr-defined]

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
