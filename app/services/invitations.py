"""Invitation use cases: create (a code of unambiguous characters), list with status, disable/enable, delete,
validate (a specific reason), pre-flight per target server, redeem (all-or-nothing where the servers allow it:
accounts created before a failure are removed again), and the expiry jobs the background tasks run.

Qt-free coroutines for the event loop; blocking calls go through the runner. ``refusal_reason`` and
``invitation_status`` are pure.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.core import validate
from app.core.errors import NotFoundError, ValidationError, ZondarrError, register_secret
from app.core.models import (
    AccountAction,
    AccountEvent,
    AccountRef,
    Capability,
    Invitation,
    InvitationStatus,
    InvitationTarget,
    NewInvitation,
    RefusalReason,
    RemoteUser,
    Restrictions,
    Server,
    ServerKind,
    Trigger,
)
from app.core.ports import (
    AccountStore,
    Clock,
    DeviceSignIn,
    ExpiryStore,
    HistoryStore,
    IdentityStore,
    InvitationStore,
    MediaServerClient,
    PendingInvites,
    ServerStore,
    TrackReader,
)
from app.services.connector import Connector
from app.services.people_common import (
    Outcome,
    describe,
    reason_of,
    record,
    resolve_libraries,
)
from app.services.users import UserService, describe_restrictions, supported_part

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed without mistakes
CODE_LENGTH = 10


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    """What the admin typed → the stored form (upper case; blanks and dashes dropped)."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def refusal_reason(
    enabled: bool, expires_at: float | None, max_uses: int | None, use_count: int, now: float
) -> RefusalReason | None:
    """Pure: why an invitation cannot be redeemed at ``now``, or None. Precedence: disabled, then expired
    (``expires_at <= now``), then used up (``use_count >= max_uses``)."""
    if not enabled:
        return RefusalReason.DISABLED
    if expires_at is not None and expires_at <= now:
        return RefusalReason.EXPIRED
    if max_uses is not None and use_count >= max_uses:
        return RefusalReason.USED_UP
    return None


def invitation_refusal(inv: Invitation, now: float) -> RefusalReason | None:
    """Why ``inv`` cannot be redeemed at ``now``, or None: first "no servers" (every target server was removed:
    nothing could ever be created), then ``refusal_reason``."""
    if not inv.targets:
        return RefusalReason.NO_SERVERS
    return refusal_reason(inv.enabled, inv.expires_at, inv.max_uses, inv.use_count, now)


def invitation_status(inv: Invitation, now: float) -> InvitationStatus:
    reason = invitation_refusal(inv, now)
    return {
        None: InvitationStatus.ACTIVE,
        RefusalReason.NO_SERVERS: InvitationStatus.NO_SERVERS,
        RefusalReason.DISABLED: InvitationStatus.DISABLED,
        RefusalReason.EXPIRED: InvitationStatus.EXPIRED,
    }.get(reason, InvitationStatus.USED_UP)


@dataclass(frozen=True, slots=True)
class RedeemResult:
    ok: bool
    message: str
    reason: str | None = None
    servers: tuple[Outcome, ...] = ()
    identity_id: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "message": self.message,
            "reason": self.reason,
            "identity_id": self.identity_id,
            "servers": [o.to_json() for o in self.servers],
        }


def _refused(reason: RefusalReason, message: str, outcomes: Sequence[Outcome] = ()) -> RedeemResult:
    return RedeemResult(False, message, reason.value, tuple(outcomes))


class InvitationService:
    def __init__(
        self,
        *,
        connector: Connector,
        servers: ServerStore,
        tracks: TrackReader,
        invitations: InvitationStore,
        accounts: AccountStore,
        identities: IdentityStore,
        users: UserService,
        clock: Clock = time.time,
        expiry: ExpiryStore | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        self._connector = connector
        self._runner = connector.runner
        self._servers = servers
        self._tracks = tracks
        self._store = invitations
        self._accounts = accounts
        self._identities = identities
        self._users = users
        self._clock = clock
        self._expiry = expiry
        self._history = history
        self._redeemed: Callable[[str, str, tuple[str, ...]], None] | None = None

    def set_redeemed_listener(self, listener: Callable[[str, str, tuple[str, ...]], None] | None) -> None:
        """``listener(code, username, servers)`` is told after each successful redemption (loop thread); what it
        raises is logged, and never undoes or fails the redemption."""
        self._redeemed = listener

    # -- admin side ----------------------------------------------------------------------------------------

    async def create(
        self,
        servers: Sequence[str],
        libraries: Mapping[str, Sequence[str]] | None = None,
        *,
        expires_at: float | None = None,
        max_uses: int | None = None,
        duration_days: int | None = None,
        note: str = "",
        restrictions: Restrictions | None = None,
    ) -> Invitation:
        """``libraries`` maps a server name to library keys or titles (as cached by the last sync); a target
        server without an entry shares every library. Raises ValidationError, NotFoundError."""
        if not servers:
            raise ValidationError("An invitation needs at least one target server.", remedy="Name a server.")
        if max_uses is not None:
            validate.whole_number(max_uses, "Max uses", 1, validate.MAX_USES)
        if duration_days is not None:
            validate.whole_number(duration_days, "The account duration in days", 1, validate.MAX_DAYS)
        if expires_at is not None and expires_at <= self._clock():
            raise ValidationError("The expiry date is in the past.", remedy="Pick a later date.")
        if expires_at is not None:
            validate.days((expires_at - self._clock()) / 86400, "The expiry (days from now)")
        if note:
            validate.name(note, "The note", max_len=2000)
        libraries = dict(libraries or {})
        unknown = set(libraries) - set(servers)
        if unknown:
            raise ValidationError(
                f"Libraries were given for {', '.join(sorted(unknown))}, which is not a target server.",
                remedy="Add the server with --server, or fix the SERVER:LIBRARY value.",
            )
        targets = []
        for name in dict.fromkeys(servers):
            server = await self._runner.read(self._servers.get_by_name, name)
            keys = await self._library_keys(server, libraries.get(name, ()))
            targets.append(InvitationTarget(server.id, server.name, keys))
        limits = restrictions or Restrictions()
        if limits.max_sessions is not None and not 0 <= limits.max_sessions <= 100:
            raise ValidationError("Max sessions must be 0 (unlimited) to 100.", remedy="")
        new = NewInvitation(new_code(), tuple(targets), expires_at, max_uses, duration_days, note, limits)
        return await self._runner.db(self._store.create, new)

    async def _library_keys(self, server: Server, wanted: Sequence[str]) -> tuple[str, ...]:
        return await resolve_libraries(self._runner, self._tracks, server, wanted)

    def overview(self) -> list[tuple[Invitation, InvitationStatus]]:
        """Every invitation with its status now. Any thread."""
        now = self._clock()
        return [(inv, invitation_status(inv, now)) for inv in self._store.list()]

    def _get(self, code: str) -> Invitation:
        inv = self._store.get_by_code(normalize_code(code))
        if inv is None:
            raise NotFoundError(f"There is no invitation {code}.", remedy="Check the code (`invite list`).")
        return inv

    async def set_enabled(self, code: str, enabled: bool) -> Invitation:
        inv = await self._runner.read(self._get, code)
        await self._runner.db(self._store.set_enabled, inv.id, enabled)
        return await self._runner.read(self._get, code)

    async def delete(self, code: str) -> Invitation:
        inv = await self._runner.read(self._get, code)
        await self._runner.db(self._store.delete, inv.id)
        return inv

    # -- invitee side --------------------------------------------------------------------------------------

    def check(self, code: str) -> tuple[Invitation | None, RefusalReason | None]:
        """The invitation and why it cannot be redeemed now (None = it can). Any thread."""
        inv = self._store.get_by_code(normalize_code(code))
        if inv is None:
            return None, RefusalReason.NOT_FOUND
        return inv, invitation_refusal(inv, self._clock())

    async def preflight(
        self,
        code: str,
        username: str,
        email: str | None = None,
        password: str | None = None,
        *,
        quick_connect: bool = False,
    ) -> list[Outcome]:
        """Per target server: reachable, able to create accounts, username free, libraries still there, Plex
        sharing allowed (plex.tv wants the owner's e-mail verified), Quick Connect on where it is to be used.
        Nothing is created. Raises NotFoundError for an unknown code."""
        inv = await self._runner.read(self._get, code)
        checked = await self._preflight(inv, username, email, password, quick_connect)
        for _, client in checked:
            if client is not None:
                await self._connector.close(client)
        return [o for o, _ in checked]

    async def _preflight(
        self, inv: Invitation, username: str, email: str | None, password: str | None, quick_connect: bool
    ) -> list[tuple[Outcome, MediaServerClient | None]]:
        return list(
            await asyncio.gather(
                *(self._check_target(t, username, email, password, quick_connect) for t in inv.targets)
            )
        )

    async def _check_target(
        self,
        target: InvitationTarget,
        username: str,
        email: str | None,
        password: str | None,
        quick_connect: bool = False,
    ) -> tuple[Outcome, MediaServerClient | None]:
        name = target.server
        try:
            server = await self._runner.read(self._servers.get, target.server_id)
        except ZondarrError:
            return Outcome(
                name, False, f"{name} was removed from Zondarr.", username, "server unavailable"
            ), None
        if server.kind is ServerKind.JELLYFIN and not password and not quick_connect:
            text = f"{name}: a Jellyfin account needs a password (or sign-in with Quick Connect)."
            return Outcome(name, False, text, username, "failed"), None
        try:
            client = await self._connector.connect(server)
        except ZondarrError as err:
            return Outcome(
                name, False, describe(err), username, "server unavailable", error=err.to_dict()
            ), None
        try:
            if Capability.CREATE_USER not in client.capabilities:
                text = f"{name}: a {server.kind.value} server cannot create accounts from Zondarr."
                raise _Refusal(RefusalReason.NOT_SUPPORTED, text)
            ready = await self._kind_checks(client, server, quick_connect and not password)
            present = {lib.key for lib in await self._runner.net(client.music_libraries)}
            gone = [k for k in target.library_keys if k not in present]
            if gone:
                text = f"{name}: the library {', '.join(gone)} no longer exists."
                raise _Refusal(RefusalReason.LIBRARY_MISSING, text)
            wanted = {username.casefold(), (email or "").casefold()} - {""}
            taken = [
                u
                for u in await self._connector.users(client, server)
                if {u.username.casefold(), (u.email or "").casefold()} & wanted
            ]
            if taken:
                text = f"{name}: the username {username} is taken (or already has access)."
                raise _Refusal(RefusalReason.USERNAME_TAKEN, text)
        except _Refusal as refusal:
            await self._connector.close(client)
            return Outcome(name, False, refusal.text, username, refusal.reason.value), None
        except ZondarrError as err:
            await self._connector.close(client)
            return Outcome(
                name, False, describe(err), username, "server unavailable", error=err.to_dict()
            ), None
        return Outcome(name, True, f"{name}: {ready}", username), client

    async def _kind_checks(self, client: MediaServerClient, server: Server, quick_connect: bool) -> str:
        """What a server kind needs before an account is made; the "ready" text saying what happens next.
        Raises _Refusal."""
        if isinstance(client, PendingInvites):
            if not await self._runner.net(client.sharing_allowed):
                raise _Refusal(
                    RefusalReason.NOT_SUPPORTED,
                    f"{server.name}: plex.tv sends no invitations until the owner's e-mail address is verified "
                    "(plex.tv → Account).",
                )
            return "ready (the invitation stays pending on plex.tv until they accept the e-mail from Plex)."
        if quick_connect and server.kind is ServerKind.JELLYFIN:
            on = isinstance(client, DeviceSignIn) and await self._runner.net(client.quick_connect_enabled)
            if not on:
                raise _Refusal(
                    RefusalReason.NOT_SUPPORTED,
                    f"{server.name}: Quick Connect is turned off. Turn it on in the Jellyfin dashboard "
                    "(General → Quick Connect), or give a password.",
                )
            return "ready (they sign in with Quick Connect: no password is set that anyone knows)."
        return "ready."

    async def redeem(
        self,
        code: str,
        username: str,
        email: str | None = None,
        password: str | None = None,
        *,
        quick_connect: bool = False,
    ) -> RedeemResult:
        """Creates the account on every target server, or on none: a refused invitation, a failed pre-flight or
        a lost race for the last use creates nothing; a creation failure removes the accounts already created
        (an outcome says so when a server refuses even that). ``use_count`` grows only for a success.
        ``quick_connect`` without a password: Jellyfin accounts get a long random password that is never shown
        or stored; the person signs in by Quick Connect code (``DeviceSignInService``).
        Raises ValidationError for an empty username."""
        username = username.strip()
        quick_connect = quick_connect and not password
        if quick_connect:
            password = secrets.token_urlsafe(32)
            register_secret(password)  # never in a log line or an error text
        if not username:
            raise ValidationError("A username is needed to redeem an invitation.", remedy="Pass --username.")
        inv, reason = await self._runner.read(self.check, code)
        if inv is not None and reason is RefusalReason.NO_SERVERS:
            gone = ", ".join(inv.removed_servers)
            return _refused(
                reason, f"The invitation {inv.code} has no servers left: {gone} was removed from Zondarr."
            )
        if inv is None or reason is not None:
            why = reason or RefusalReason.NOT_FOUND
            return _refused(why, f"The invitation {normalize_code(code)} is {why.value}.")
        checked = await self._preflight(inv, username, email, password, quick_connect)
        failed = [o for o, _ in checked if not o.ok]
        clients = {o.server: c for o, c in checked if c is not None}
        try:
            if failed:
                first = failed[0]
                return RedeemResult(
                    False,
                    first.message,
                    first.reason or "failed",
                    tuple(o for o, _ in checked),
                )
            if not await self._runner.db(self._store.claim_use, inv.id, self._clock()):
                fresh, again = await self._runner.read(self.check, code)
                why = again or RefusalReason.USED_UP
                return _refused(why, f"The invitation {inv.code} is {why.value}.")
            result = await self._create_all(inv, clients, username, email, password)
            if result.ok and self._redeemed is not None:
                try:
                    self._redeemed(inv.code, username, tuple(o.server for o in result.servers))
                except Exception:  # telling the admin must never undo or fail a redemption
                    log.exception("redemption listener failed")
            return result
        finally:
            for client in clients.values():
                await self._connector.close(client)

    async def _create_all(
        self,
        inv: Invitation,
        clients: dict[str, MediaServerClient],
        username: str,
        email: str | None,
        password: str | None,
    ) -> RedeemResult:
        created: list[tuple[InvitationTarget, RemoteUser]] = []
        failure: tuple[InvitationTarget, ZondarrError] | None = None
        for target in inv.targets:
            client = clients[target.server]
            try:
                if inv.restrictions.empty:
                    user = await self._runner.net(
                        client.create_user, username, password, email, target.library_keys
                    )
                else:
                    limits, _ = supported_part(inv.restrictions, client.capabilities)
                    user = await self._runner.net(
                        client.create_user, username, password, email, target.library_keys, limits
                    )
                created.append((target, user))
            except ZondarrError as err:
                failure = (target, err)
                break
        if failure is None:
            caps = {name: client.capabilities for name, client in clients.items()}
            return await self._record_success(inv, created, username, email, caps)
        target, error = failure
        log.warning("redeeming %s failed on %s: %s", inv.code, target.server, error.detail)
        outcomes = [
            Outcome(target.server, False, describe(error), username, reason_of(error), error=error.to_dict())
        ]
        for done, user in reversed(created):
            try:
                await self._runner.net(clients[done.server].delete_user, user.remote_id)
                outcomes.append(
                    Outcome(done.server, False, f"{done.server}: removed again.", username, "rolled back")
                )
                status, note = "rolled_back", None
            except ZondarrError as undo:
                text = f"{done.server}: the account could not be removed again ({undo.user_message}); remove it there."
                outcomes.append(Outcome(done.server, False, text, username, "failed", user.remote_id))
                status, note = "failed", undo.user_message
            await self._runner.db(
                self._store.add_redemption,
                inv.id,
                done.server_id,
                username,
                email,
                user.remote_id,
                None,
                status,
                note,
            )
        await self._runner.db(
            self._store.add_redemption,
            inv.id,
            target.server_id,
            username,
            email,
            None,
            None,
            "failed",
            error.user_message,
        )
        await self._runner.db(self._store.release_use, inv.id)
        return RedeemResult(False, describe(error), reason_of(error), tuple(outcomes))

    async def _record_success(
        self,
        inv: Invitation,
        created: list[tuple[InvitationTarget, RemoteUser]],
        username: str,
        email: str | None,
        clients_caps: Mapping[str, frozenset[Capability]],
    ) -> RedeemResult:
        now = self._clock()
        expires = None if inv.duration_days is None else now + inv.duration_days * 86400
        identity = await self._runner.db(self._identities.create, username, email, f"invitation {inv.code}")
        outcomes = []
        for target, user in created:
            await self._runner.db(
                self._store.add_redemption,
                inv.id,
                target.server_id,
                username,
                email,
                user.remote_id,
                expires,
                "ok",
            )
            await self._runner.db(self._accounts.upsert, target.server_id, user)
            caps = clients_caps.get(target.server, frozenset())
            text = (
                f"{target.server}: invited; pending on plex.tv until they accept the e-mail from Plex."
                if Capability.PENDING_INVITES in caps
                else f"{target.server}: account ready."
            )
            if not inv.restrictions.empty:
                limits, missing = supported_part(
                    inv.restrictions, clients_caps.get(target.server, frozenset())
                )
                text += f" Restrictions: {describe_restrictions(limits)}."
                if missing:
                    text += f" This server cannot {' or '.join(missing)}: left as it is."
            outcomes.append(Outcome(target.server, True, text, username, None, user.remote_id))
        refs = [AccountRef(t.server_id, u.remote_id) for t, u in created]
        await self._runner.db(self._identities.link, identity.id, refs)
        if expires is not None and self._expiry is not None:
            await self._runner.db(self._expiry.set_expiry, [(ref, expires) for ref in refs])
        text = f"created by invitation {inv.code}"
        await record(
            self._runner,
            self._history,
            [
                AccountEvent(
                    now,
                    t.server,
                    u.remote_id,
                    username,
                    AccountAction.CREATED,
                    Trigger.INVITATION,
                    True,
                    text,
                    t.server_id,
                )
                for t, u in created
            ],
        )
        names = ", ".join(t.server for t, _ in created)
        return RedeemResult(True, f"Created {username} on {names}.", None, tuple(outcomes), identity.id)

    # -- background jobs -----------------------------------------------------------------------------------

    async def expire_due(self) -> tuple[int, int]:
        """Disables every enabled invitation whose expiry has passed; one failing row never stops the batch.
        Returns (disabled, failed)."""
        due = await self._runner.read(self._store.expired_enabled, self._clock())
        done = failed = 0
        for inv in due:
            try:
                await self._runner.db(self._store.set_enabled, inv.id, False)
                done += 1
            except Exception as exc:  # a bad row is logged and skipped
                failed += 1
                log.warning("could not disable expired invitation %s: %s", inv.code, exc)
        if done or failed:
            log.info("expired %d invitations (%d failed)", done, failed)
        return done, failed


class _Refusal(Exception):
    def __init__(self, reason: RefusalReason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text
