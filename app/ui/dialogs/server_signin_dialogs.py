"""Adding a server the way admins do, opened from the Add server dialog: **Sign in with Plex** (plex.tv PIN in the
browser, then a server of the account with the connection Zondarr chose), **Find servers** (Jellyfin on the
network) and **Quick Connect** (a Jellyfin sign-in approved in another app).

GUI thread only. Every flow runs as a named task of the dialog (network through the services and the runner);
Cancel cancels it; the dialogs are opened with ``open()`` and never block the event loop. Each outcome has its
own message; a server added emits ``server_saved(Server)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ServerUnreachable, ZondarrError
from app.core.signin import (
    ChosenConnection,
    FoundServer,
    PlexResource,
    QuickConnectCode,
    QuickConnectSignIn,
    SignInCodeGone,
    SignInExpired,
    not_admin_note,
)
from app.services.context import AppContext
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup

# How the browser is opened (tests replace it: an offscreen test run must not start a browser).
open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl


def _status(label: QLabel, text: str, ok: bool | None) -> None:
    label.setObjectName({True: "testOk", False: "testFailed", None: "hint"}[ok])
    label.style().unpolish(label)
    label.style().polish(label)
    label.setText(text)
    label.setAccessibleDescription(text)


def _error_text(err: ZondarrError) -> str:
    return err.user_message + (f"\n{err.remedy}" if err.remedy else "") + f"\nReference: {err.correlation_id}"


class _FlowDialog(QDialog):
    server_saved = Signal(object)  # Server

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup(title.lower().replace(" ", "-"))
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.layout_ = QVBoxLayout(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _fail(self, exc: BaseException) -> None:
        """Shows how a flow ended: an expired or vanished code is its own outcome (not an error to record)."""
        if isinstance(exc, (SignInExpired, SignInCodeGone)):
            self.outcome = "expired" if isinstance(exc, SignInExpired) else "gone"
            _status(self.status, _error_text(exc), False)
            return
        err = as_zondarr_error(exc)
        _status(self.status, _error_text(err), False)
        self.outcome = "failed"
        self.tasks.start("record-error", self._ctx.errors.record(err, None))

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


class PlexSignInDialog(_FlowDialog):
    """Sign in with Plex: the link (opened in the browser, shown with Copy for another device), waiting with
    Cancel, then the account's servers with the connection chosen for each; Add stores the picked one."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Sign in with Plex", parent)
        self.outcome = (
            "starting"  # starting | waiting | choosing | added | expired | gone | cancelled | failed
        )
        self.choices: list[tuple[PlexResource, ChosenConnection | None]] = []
        intro = QLabel(
            "Zondarr opens plex.tv in your browser. Sign in there and allow Zondarr; this window waits. "
            "No password is typed into Zondarr.",
            self,
        )
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        row = QHBoxLayout()
        self.link = QLineEdit(self)
        self.link.setReadOnly(True)
        self.link.setAccessibleName("Sign-in link")
        self.link.setPlaceholderText("Asking plex.tv for a sign-in code…")
        row.addWidget(self.link, 1)
        self.copy_button = QPushButton("&Copy link", self)
        self.copy_button.setToolTip("Open it on another device if this computer has no browser.")
        self.copy_button.setEnabled(False)
        row.addWidget(self.copy_button)
        self.open_button = QPushButton("&Open browser", self)
        self.open_button.setEnabled(False)
        row.addWidget(self.open_button)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.status)
        self.servers = QListWidget(self)
        self.servers.setAccessibleName("The account's servers")
        self.servers.setMinimumHeight(170)
        self.servers.hide()
        self.layout_.addWidget(self.servers)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        buttons.addWidget(self.cancel_button)
        self.add_button = QPushButton("&Add server", self)
        self.add_button.setObjectName("primary")
        self.add_button.setEnabled(False)
        buttons.addWidget(self.add_button)
        self.layout_.addLayout(buttons)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.servers.currentRowChanged.connect(self._on_servers_current_row_changed)
        _status(self.status, "Asking plex.tv for a sign-in code…", None)
        self.tasks.start("plex-sign-in", self._sign_in())

    async def _sign_in(self) -> None:
        svc = self._ctx.plex_signin
        try:
            pin = await svc.start()
            self.link.setText(pin.auth_url)
            self.link.setCursorPosition(0)  # the start of the link (the host) is what the admin checks
            self.copy_button.setEnabled(True)
            self.open_button.setEnabled(True)
            open_url(QUrl(pin.auth_url))
            self.outcome = "waiting"
            _status(
                self.status,
                "Waiting for you to sign in at plex.tv… The browser has opened; if not, copy the link. "
                "The code expires in 15 minutes.",
                None,
            )
            token = await svc.wait_for_token(pin)
            _status(
                self.status, "Signed in. Finding the account's servers and the best way to reach each…", None
            )
            found = await svc.servers(token)
            chosen = await asyncio.gather(*(self._choose(r) for r in found))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)
            return
        self._show_servers(list(zip(found, chosen, strict=True)))

    async def _choose(self, resource: PlexResource) -> ChosenConnection | None:
        try:
            return await self._ctx.plex_signin.choose_connection(resource)
        except ServerUnreachable:
            return None

    def _show_servers(self, choices: list[tuple[PlexResource, ChosenConnection | None]]) -> None:
        self.choices = choices
        self.outcome = "choosing"
        self.servers.clear()
        added = {s.machine_id: s.name for s in self._ctx.server_store.list() if s.machine_id}
        first = -1
        for n, (res, chosen) in enumerate(choices):
            owner = "owned" if res.owned else "shared with you"
            if chosen is None:
                text = f"{res.name} ({owner})\n    no address answered"
            else:
                text = f"{res.name} ({owner}) — {chosen.connection.uri}\n    {chosen.why}"
            if res.machine_id in added:
                text += f"\n    already added as {added[res.machine_id]}"
            item = QListWidgetItem(text, self.servers)
            usable = chosen is not None and res.machine_id not in added
            if not usable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            elif first < 0:
                first = n
        self.servers.show()
        self.servers.setCurrentRow(first)
        count = len(choices)
        _status(
            self.status,
            f"Signed in. The account has {count} server{'s' if count != 1 else ''}; pick one to add."
            if count
            else "Signed in, but the account has no Plex server. Add a server with its address and token instead.",
            True if count else False,
        )

    def selected(self) -> ChosenConnection | None:
        row = self.servers.currentRow()
        return self.choices[row][1] if 0 <= row < len(self.choices) else None

    def _on_servers_current_row_changed(self, *_: object) -> None:
        self.add_button.setEnabled(self.selected() is not None)

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.link.text())
        _status(
            self.status, "Link copied. Open it in a browser on any device; this window keeps waiting.", None
        )

    def _on_open_button_clicked(self) -> None:
        open_url(QUrl(self.link.text()))

    def _on_cancel_button_clicked(self) -> None:
        if self.outcome in ("starting", "waiting"):
            self.outcome = "cancelled"
        self.reject()

    def _on_add_button_clicked(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        self.add_button.setEnabled(False)
        _status(self.status, f"Adding {chosen.resource.name}…", None)
        self.tasks.start("add", self._add(chosen))

    async def _add(self, chosen: ChosenConnection) -> None:
        try:
            server = await self._ctx.servers.add_from_plex(chosen)
        except Exception as exc:
            self._fail(exc)
            self.add_button.setEnabled(True)
            return
        self.outcome = "added"
        self.cancel_button.setText("Close")
        _status(self.status, f"Added {server.name} at {server.url} ({chosen.why}).", True)
        self.server_saved.emit(server)


class FindServersDialog(_FlowDialog):
    """Find servers: Jellyfin servers answering on the network, those already added marked. **Sign in with
    Quick Connect** opens :class:`QuickConnectDialog` for the selected one; **Use address** hands it back."""

    address_chosen = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Find servers", parent)
        self.found: list[FoundServer] = []
        self.quick_connect: QuickConnectDialog | None = None
        self.layout_.addWidget(self.status)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Servers found on the network")
        self.layout_.addWidget(self.list)
        buttons = QHBoxLayout()
        self.search_button = QPushButton("&Search again", self)
        buttons.addWidget(self.search_button)
        buttons.addStretch(1)
        self.close_button = QPushButton("Close", self)
        buttons.addWidget(self.close_button)
        self.use_button = QPushButton("&Use address", self)
        self.use_button.setEnabled(False)
        buttons.addWidget(self.use_button)
        self.quick_button = QPushButton("Sign in with &Quick Connect", self)
        self.quick_button.setObjectName("primary")
        self.quick_button.setEnabled(False)
        buttons.addWidget(self.quick_button)
        self.layout_.addLayout(buttons)
        self.search_button.clicked.connect(self._on_search_button_clicked)
        self.close_button.clicked.connect(self.reject)
        self.use_button.clicked.connect(self._on_use_button_clicked)
        self.quick_button.clicked.connect(self._on_quick_button_clicked)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self._on_search_button_clicked()

    def _on_search_button_clicked(self) -> None:
        self.search_button.setEnabled(False)
        self.list.clear()
        _status(self.status, "Looking for Jellyfin servers on the network…", None)
        self.tasks.start("discover", self._discover(), replace=True)

    async def _discover(self) -> None:
        try:
            self.found = await self._ctx.jellyfin_signin.discover()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)
            return
        finally:
            self.search_button.setEnabled(True)
        for f in self.found:
            text = f"{f.name} — {f.url}\n    id {f.server_id}"
            if f.added_as:
                text += f"\n    already added as {f.added_as}"
            item = QListWidgetItem(text, self.list)
            if f.added_as:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        usable = [n for n, f in enumerate(self.found) if not f.added_as]
        self.list.setCurrentRow(usable[0] if usable else -1)
        n = len(self.found)
        _status(
            self.status,
            f"Found {n} Jellyfin server{'s' if n != 1 else ''} on the network."
            if n
            else "No Jellyfin server answered. Check that it runs on this network, or type its address.",
            bool(n),
        )

    def selected(self) -> FoundServer | None:
        row = self.list.currentRow()
        found = self.found[row] if 0 <= row < len(self.found) else None
        return None if found is None or found.added_as else found

    def _on_list_current_row_changed(self, *_: object) -> None:
        for b in (self.use_button, self.quick_button):
            b.setEnabled(self.selected() is not None)

    def _on_use_button_clicked(self) -> None:
        found = self.selected()
        if found is not None:
            self.address_chosen.emit(found.url)
            self.accept()

    def _on_quick_button_clicked(self) -> None:
        found = self.selected()
        if found is None:
            return
        dialog = QuickConnectDialog(self._ctx, found.url, found.name, self)
        dialog.server_saved.connect(self.server_saved)
        self.quick_connect = dialog
        dialog.open()


class QuickConnectDialog(_FlowDialog):
    """Quick Connect: the 6-digit code to enter in any signed-in Jellyfin app (or approve in the dashboard),
    waiting with Cancel; then the server is added, and an administrator is offered an API key for Zondarr."""

    def __init__(
        self, ctx: AppContext, url: str, name: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, "Sign in with Quick Connect", parent)
        self._url = url
        self._name = name
        self.outcome = "starting"  # starting | waiting | added | expired | gone | cancelled | failed
        self.server_name: str | None = None
        self.code = QLabel("······", self)
        self.code.setObjectName("quickConnectCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setStyleSheet("font-size: 32pt; font-weight: 600; letter-spacing: 6px;")
        self.code.setAccessibleName("Quick Connect code")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.code)
        self.layout_.addWidget(self.status)
        buttons = QHBoxLayout()
        self.api_key_button = QPushButton("Create an &API key for Zondarr", self)
        self.api_key_button.setToolTip("Access then survives password changes; revoke it any time.")
        self.api_key_button.hide()
        buttons.addWidget(self.api_key_button)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        buttons.addWidget(self.cancel_button)
        self.layout_.addLayout(buttons)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.api_key_button.clicked.connect(self._on_api_key_button_clicked)
        _status(self.status, f"Starting Quick Connect on {url}…", None)
        self.tasks.start("quick-connect", self._sign_in())

    async def _sign_in(self) -> None:
        svc = self._ctx.jellyfin_signin
        try:
            code, _notes = await svc.start_quick_connect(self._url)
            self._show_code(code)
            signed = await svc.wait_quick_connect(code)
            server = await svc.add_signed_in(self._name, code, signed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)
            return
        self._added(server.name, signed)
        self.server_saved.emit(server)

    def _show_code(self, code: QuickConnectCode) -> None:
        self.outcome = "waiting"
        self.code.setText(code.code)
        _status(
            self.status,
            f"Enter this code in any signed-in Jellyfin app (Settings → Quick Connect), or approve it in the "
            f"dashboard of {code.url}. Waiting… The code expires in 10 minutes.",
            None,
        )

    def _added(self, name: str, signed: QuickConnectSignIn) -> None:
        self.outcome = "added"
        self.server_name = name
        self.cancel_button.setText("Done")
        if signed.is_admin:
            _status(self.status, f"Signed in as {signed.username} and added {name}.", True)
            self.api_key_button.show()
        else:
            _status(self.status, f"Added {name}. {not_admin_note(signed.username, name)}", True)

    def _on_cancel_button_clicked(self) -> None:
        if self.outcome in ("starting", "waiting"):
            self.outcome = "cancelled"
            self.reject()
        else:
            self.accept()

    def _on_api_key_button_clicked(self) -> None:
        self.api_key_button.setEnabled(False)
        self.tasks.start("api-key", self._create_key())

    async def _create_key(self) -> None:
        assert self.server_name is not None, "the button shows only after the server is added"
        try:
            await self._ctx.jellyfin_signin.create_api_key(self.server_name)
        except Exception as exc:
            self._fail(exc)
            self.api_key_button.setEnabled(True)
            return
        self.api_key_button.hide()
        _status(
            self.status,
            f"Created an API key for Zondarr on {self.server_name}; it replaces the sign-in token. Revoke it from "
            "the Jellyfin dashboard or with `zondarr server api-key revoke`.",
            True,
        )
