"""Wiring of the people services (users, invitations, identities, background tasks) for composition roots, and
the standard background tasks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.ports import (
    AccountStore,
    AdminNotifier,
    ClientFactory,
    Clock,
    ExclusionStore,
    ExpiryStore,
    HistoryStore,
    IdentityStore,
    InvitationStore,
    LoggingAdminNotifier,
    MailSender,
    Runner,
    SecretStore,
    ServerStore,
    SettingsStore,
    ShareMemory,
    TaskRunStore,
    TrackStore,
    UserStore,
)
from app.core.settings import Settings
from app.services.connector import Connector
from app.services.device_signin import DeviceSignInService
from app.services.expiry import ExpiryService
from app.services.identities import IdentityService
from app.services.invitations import InvitationService
from app.services.pending_invites import PendingInviteService, pending_invites_task
from app.services.sync import SyncService
from app.services.tasks import TaskScheduler, TaskSpec
from app.services.user_policy import UserPolicy
from app.services.users import UserService

STALE_CHECK_INTERVAL_S = 3600.0


@dataclass(frozen=True)
class PeopleServices:
    """The people services and the background-task scheduler, built together by ``build_people``."""

    users: UserService
    invitations: InvitationService
    identities: IdentityService
    tasks: TaskScheduler
    expiry: ExpiryService
    devices: DeviceSignInService
    pending_invites: PendingInviteService


def standard_tasks(
    settings: Callable[[], Settings],
    invitations: InvitationService,
    users: UserService,
    sync: SyncService,
    expiry: ExpiryService,
) -> list[TaskSpec]:
    """expire-invitations, sync-users, expire-accounts, refresh-stale (names used by ``tasks run NAME``); the
    intervals are read from the current ``settings()`` at each scheduling (a Settings change applies at once)."""

    async def expire_invitations() -> str:
        done, failed = await invitations.expire_due()
        return f"Disabled {done} expired invitations" + (
            f"; {failed} could not be changed." if failed else "."
        )

    async def sync_users() -> str:
        reports = await users.sync_all()
        bad = [r for r in reports if not r.ok]
        text = f"Re-read users of {len(reports) - len(bad)} of {len(reports)} servers."
        return " ".join([text, *(r.message for r in reports if not r.ok or r.untouched)])

    async def expire_accounts() -> str:
        return (await expiry.run()).summary

    async def refresh_stale() -> str:
        stale = sync.stale_servers()
        if not stale:
            return "No cache is stale."
        result = await sync.sync([s.name for s in stale], trigger="stale")
        return result.summary

    return [
        TaskSpec(
            "expire-invitations",
            "Expire invitations",
            lambda: settings().invite_expiry_interval_s,
            expire_invitations,
        ),
        TaskSpec("sync-users", "Re-sync users", lambda: settings().user_sync_interval_s, sync_users),
        TaskSpec(
            "expire-accounts", "Expire accounts", lambda: settings().invite_expiry_interval_s, expire_accounts
        ),
        TaskSpec("refresh-stale", "Refresh stale caches", lambda: STALE_CHECK_INTERVAL_S, refresh_stale),
    ]


def build_people(
    *,
    settings: Settings,
    runner: Runner,
    servers: ServerStore,
    secrets: SecretStore,
    clients: ClientFactory,
    tracks: TrackStore,
    users: UserStore,
    accounts: AccountStore,
    shares: ShareMemory,
    exclusions: ExclusionStore,
    identities: IdentityStore,
    invitations: InvitationStore,
    task_runs: TaskRunStore,
    sync: SyncService,
    clock: Clock = time.time,
    extra_tasks: Sequence[TaskSpec] = (),
    preferences: SettingsStore | None = None,
    expiry: ExpiryStore,
    history: HistoryStore | None = None,
    mail: MailSender | None = None,
    notifier: AdminNotifier | None = None,
    live_settings: Callable[[], Settings] | None = None,
) -> PeopleServices:
    """Wires the people services and the scheduler with the standard tasks plus ``extra_tasks`` (heartbeats);
    ``preferences`` keeps paused tasks paused across restarts. ``expiry`` and ``history`` are the stores of
    account expiry and history (no history: nothing recorded); ``mail`` and
    ``notifier`` send reminders; ``live_settings`` gives the current settings (Settings dialog changes)."""
    expiry_store = expiry
    connector = Connector(secrets, clients, runner, UserPolicy(exclusions, shares, runner))
    user_service = UserService(
        connector=connector,
        servers=servers,
        users=users,
        accounts=accounts,
        shares=shares,
        exclusions=exclusions,
        identities=identities,
        invitations=invitations,
        clock=clock,
        tracks=tracks,
        history=history,
    )
    invitation_service = InvitationService(
        connector=connector,
        servers=servers,
        tracks=tracks,
        invitations=invitations,
        accounts=accounts,
        identities=identities,
        users=user_service,
        clock=clock,
        expiry=expiry_store,
        history=history,
    )
    identity_service = IdentityService(
        identities=identities,
        users=users,
        accounts=accounts,
        servers=servers,
        tracks=tracks,
        user_actions=user_service,
        runner=runner,
        history=history,
    )
    expiry_service = ExpiryService(
        users=user_service,
        expiry=expiry_store,
        accounts=accounts,
        servers=servers,
        identities=identities,
        history=history,
        runner=runner,
        settings=live_settings or (lambda: settings),
        mail=mail,
        notifier=notifier or LoggingAdminNotifier(),
        clock=clock,
    )
    current = live_settings or (lambda: settings)
    pending_invites = PendingInviteService(
        runner=runner,
        servers=servers,
        users=users,
        accounts=accounts,
        user_actions=user_service,
        invitations=invitations,
        max_age_days=lambda: current().pending_invite_days,
        history=history,
        clock=clock,
    )
    review = pending_invites_task(pending_invites, notifier or LoggingAdminNotifier())
    scheduler = TaskScheduler(
        [
            *standard_tasks(current, invitation_service, user_service, sync, expiry_service),
            review,
            *extra_tasks,
        ],
        runs=task_runs,
        runner=runner,
        clock=clock,
        preferences=preferences,
    )
    devices = DeviceSignInService(connector=connector, servers=servers, accounts=accounts)
    return PeopleServices(
        user_service,
        invitation_service,
        identity_service,
        scheduler,
        expiry_service,
        devices,
        pending_invites,
    )
