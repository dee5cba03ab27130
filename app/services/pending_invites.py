"""Plex invitations tracked until accepted: a redemption on Plex makes a plex.tv share that stays pending until
the invitee accepts the e-mail from Plex. The users sync records it (``User.pending_since``); here the admin
lists them, sends one again, cancels one, and reviews those pending longer than ``pending_invite_days`` —
nothing is cancelled without the admin's word.

Qt-free coroutines for the event loop; reads, writes and network calls go through the runner. Per-account
failures are outcomes, never raised; an unknown server raises NotFoundError.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from app.core.errors import ValidationError
from app.core.models import AccountAction, AccountRef, Capability, Server, Trigger, User
from app.core.ports import (
    AccountStore,
    AdminNotice,
    AdminNotifier,
    Clock,
    HistoryStore,
    InvitationStore,
    MediaServerClient,
    PendingInvites,
    Runner,
    ServerStore,
    UserStore,
)
from app.services.people_common import Outcome, events_of, record
from app.services.tasks import TaskSpec
from app.services.users import UserService

DAY = 86_400.0


def pending_invites_task(service: PendingInviteService, notifier: AdminNotifier) -> TaskSpec:
    """The daily "pending-invites" task: tells the admin about Plex invitations pending longer than the setting
    (to review under Users → Old invitations…); it never cancels one by itself."""

    async def review() -> str:
        overdue = await service.overdue()
        if not overdue:
            return "No Plex invitation is pending for long."
        who = ", ".join(f"{u.username} ({u.server})" for u in overdue[:5]) + (
            " …" if len(overdue) > 5 else ""
        )
        text = (
            f"{len(overdue)} Plex invitation{'s' if len(overdue) != 1 else ''} pending for more than "
            f"{service.max_age_days():g} days: {who}. Review them under Users → Old invitations…"
        )
        notifier.notify(AdminNotice("Old Plex invitations", text, "warning"))
        return text

    return TaskSpec("pending-invites", "Review old Plex invitations", lambda: DAY, review)


class PendingInviteService:
    def __init__(
        self,
        *,
        runner: Runner,
        servers: ServerStore,
        users: UserStore,
        accounts: AccountStore,
        user_actions: UserService,
        invitations: InvitationStore,
        max_age_days: Callable[[], float],
        history: HistoryStore | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._runner = runner
        self._servers = servers
        self._users = users
        self._accounts = accounts
        self._actions = user_actions
        self._invitations = invitations
        self.max_age_days = max_age_days
        self._history = history
        self._clock = clock

    async def pending(self, server: str | None = None, older_than_days: float | None = None) -> list[User]:
        """Accounts whose invitation is pending (as of the last users sync), oldest first; with
        ``older_than_days``, only those invited longer ago than that."""
        users = await self._runner.read(self._users.list, server, None)
        now = self._clock()
        cut = None if older_than_days is None else now - older_than_days * DAY
        found = [u for u in users if u.pending_since is not None and (cut is None or u.pending_since <= cut)]
        return sorted(found, key=lambda u: (u.pending_since or 0.0, u.server, u.username))

    async def by_invitation(self) -> dict[int, list[User]]:
        """Invitation id → the accounts it created that are still pending on plex.tv."""
        pending = {(u.server_id, u.remote_id): u for u in await self.pending()}
        if not pending:
            return {}
        out: dict[int, list[User]] = {}
        for r in await self._runner.read(self._invitations.redemptions):
            user = pending.get((r.server_id, r.remote_id)) if r.server_id and r.remote_id else None
            if user is not None and r.status == "ok":
                out.setdefault(r.invitation_id, []).append(user)
        return out

    async def overdue(self) -> list[User]:
        """Pending longer than the ``pending_invite_days`` setting: offered for cancelling, never cancelled."""
        return await self.pending(older_than_days=self.max_age_days())

    async def resend(self, server_name: str, names: Sequence[str]) -> list[Outcome]:
        """Sends each named pending invitation again. Raises NotFoundError (server) / ValidationError (no name)."""
        return await self._each(
            server_name, names, "send invitations again", self._resend_one, AccountAction.INVITE_RESENT
        )

    async def cancel(self, server_name: str, names: Sequence[str]) -> list[Outcome]:
        """Cancels each named pending invitation (the plex.tv share is removed; the cached account too)."""
        return await self._each(
            server_name, names, "cancel invitations", self._cancel_one, AccountAction.INVITE_CANCELLED
        )

    async def _each(
        self,
        server_name: str,
        names: Sequence[str],
        what: str,
        one: Callable[[MediaServerClient, Server, str, str], Awaitable[str]],
        action: AccountAction,
    ) -> list[Outcome]:
        refs, outcomes = await self._actions.find_accounts(server_name, names)
        if not refs:
            return outcomes
        server = await self._runner.read(self._servers.get, refs[0].server_id)
        refs, refused = await self._only_pending(server, refs)

        async def run(client: MediaServerClient, rid: str, name: str) -> str:
            if (
                not isinstance(client, PendingInvites)
                or Capability.PENDING_INVITES not in client.capabilities
            ):
                raise ValidationError(
                    f"{server.name}: a {server.kind.value} server has no pending invitations."
                )
            return await one(client, server, rid, name)

        done = await self._actions.per_account(server, [r.remote_id for r in refs], run, what)
        await record(
            self._runner, self._history, events_of(done, server.id, action, Trigger.ADMIN, self._clock())
        )
        return outcomes + refused + done

    async def _only_pending(
        self, server: Server, refs: list[AccountRef]
    ) -> tuple[list[AccountRef], list[Outcome]]:
        keep, refused = [], []
        for ref in refs:
            user = await self._runner.read(self._accounts.find, server.id, ref.remote_id)
            if user is not None and user.pending_since is None:
                refused.append(
                    Outcome(
                        server.name,
                        False,
                        f"{server.name}: {user.username} has no pending invitation (accepted, or not a Plex invite).",
                        user.username,
                        "failed",
                        ref.remote_id,
                    )
                )
            else:
                keep.append(ref)
        return keep, refused

    async def _resend_one(self, client: MediaServerClient, server: Server, rid: str, name: str) -> str:
        await self._runner.net(client.resend_invite, rid)  # type: ignore[attr-defined]
        return f"{server.name}: sent the invitation to {name} again."

    async def _cancel_one(self, client: MediaServerClient, server: Server, rid: str, name: str) -> str:
        await self._runner.net(client.delete_user, rid)
        await self._runner.db(self._accounts.remove, server.id, rid)
        return f"{server.name}: cancelled the invitation of {name}."
