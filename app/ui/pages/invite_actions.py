"""The Users page's "Invitation" menu for Plex invitations pending on plex.tv: Send again, Cancel invitation…,
and the invitations pending longer than the ``pending_invite_days`` setting (offered for cancelling, with the
admin's confirmation; nothing is cancelled without it).

GUI thread only. The work runs as named tasks of the page's TaskGroup through ``ctx.people.pending_invites``;
confirmations are non-blocking (``confirm``), results show in an OutcomesDialog.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from app.core.models import User
from app.services.context import AppContext
from app.services.people_common import Outcome
from app.ui.dialogs.outcomes import confirm, summarize
from app.ui.tasks import TaskGroup


def pending_text(user: User) -> str | None:
    """The State column's words for an invitation not accepted yet (None for any other account)."""
    if user.pending_since is None:
        return None
    return "pending since " + time.strftime("%Y-%m-%d", time.localtime(user.pending_since))


class InviteActions:
    """Owns the page's "Invitation" button and its menu."""

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget,
        tasks: TaskGroup,
        selected: Callable[[], list[User]],
        done: Callable[[str, str, Sequence[Outcome]], None],
    ) -> None:
        self._ctx = ctx
        self._parent = parent
        self._tasks = tasks
        self._selected = selected
        self._done = done
        self.confirm_box: QWidget | None = None
        self.button = QPushButton("Invi&tation", parent)
        self.button.setAccessibleName("Pending Plex invitations")
        self.menu = QMenu(self.button)
        self.resend_action = QAction("Send &again", self.menu)
        self.cancel_action = QAction("&Cancel invitation…", self.menu)
        self.overdue_action = QAction("Pending for long…", self.menu)
        for action in (self.resend_action, self.cancel_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.overdue_action)
        self.button.setMenu(self.menu)
        self.resend_action.triggered.connect(self._on_resend_triggered)
        self.cancel_action.triggered.connect(self._on_cancel_triggered)
        self.overdue_action.triggered.connect(self._on_overdue_triggered)
        self.update()

    def _pending_selection(self) -> list[User]:
        users = self._selected()
        ok = (
            bool(users)
            and all(u.pending_since is not None for u in users)
            and len({u.server for u in users}) == 1
        )
        return users if ok else []

    def update(self) -> None:
        """Enables the actions that fit the selection (call when it changes)."""
        chosen = self._pending_selection()
        why = "" if chosen else "Select invitations pending on plex.tv (one server)."
        for action in (self.resend_action, self.cancel_action):
            action.setEnabled(bool(chosen))
            action.setToolTip(why)
        days = self._ctx.settings.pending_invite_days
        self.overdue_action.setText(f"Pending for more than {days} days…")

    def _on_resend_triggered(self) -> None:
        users = self._pending_selection()
        if users:
            self._tasks.start("resend", self._run("resend", users))

    def _on_cancel_triggered(self) -> None:
        users = self._pending_selection()
        if users:
            self._ask_cancel(users)

    def _ask_cancel(self, users: Sequence[User]) -> None:
        who = users[0].username if len(users) == 1 else f"{len(users)} invitations"
        self.confirm_box = confirm(
            self._parent,
            "Cancel invitations",
            f"Cancel the invitation of {who} on plex.tv?",
            lambda: self._tasks.start("cancel", self._run("cancel", users)),
            "The e-mail they received stops working; you can invite them again later.",
        )

    def _on_overdue_triggered(self) -> None:
        self._tasks.start("overdue", self._offer_overdue(), replace=True)

    async def _offer_overdue(self) -> None:
        overdue = await self._ctx.people.pending_invites.overdue()
        days = self._ctx.people.pending_invites.max_age_days()
        if not overdue:
            self._done(f"No invitation is pending for more than {days:g} days.", "info", ())
            return
        self._ask_cancel(overdue)

    async def _run(self, action: str, users: Sequence[User]) -> None:
        service = self._ctx.people.pending_invites
        outcomes: list[Outcome] = []
        by_server: dict[str, list[str]] = {}
        for u in users:
            by_server.setdefault(u.server, []).append(u.remote_id)
        for server, ids in by_server.items():
            act = service.resend if action == "resend" else service.cancel
            outcomes += await act(server, ids)
        verb = "Send again" if action == "resend" else "Cancel"
        self._done(summarize(outcomes, verb), "success" if all(o.ok for o in outcomes) else "error", outcomes)
