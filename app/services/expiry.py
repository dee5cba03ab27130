"""Expiry of accounts: set / extend / clear (one or many accounts, or a person's), the expire-accounts task
(disable on the day; with ``disable-then-delete`` delete after ``delete_after_days``, waiting for the admin's
confirmation unless ``auto_delete_expired``), and reminders before the day (``expiry_reminder_days``): one desktop
notice for the admin listing who expires when, and a short mail to each account's address when e-mail is set up.

Expiry is Zondarr's own data (no server holds it): setting it never calls a server. ``extend_expiry``,
``expiry_from`` and ``due_reminders`` are pure. Coroutines run on the event loop; blocking calls go through the
runner.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.core.errors import ValidationError, ZondarrError
from app.core.models import AccountAction, AccountEvent, AccountExpiry, AccountRef, Trigger, User
from app.core.ports import (
    AccountStore,
    AdminNotice,
    AdminNotifier,
    Clock,
    ExpiryStore,
    HistoryStore,
    IdentityStore,
    MailMessage,
    MailSender,
    Runner,
    ServerStore,
)
from app.core.settings import Settings, reminder_days
from app.services.people_common import Outcome, describe, record
from app.services.users import UserService

log = logging.getLogger(__name__)
DAY = 86_400.0
MAX_DAYS = 36_500  # a hundred years: anything longer is a typo


# ---------------------------------------------------------------- pure rules


def extend_expiry(current: float | None, now: float, days: int) -> float:
    """``days`` more, counted from the current expiry, or from ``now`` when there is none or it has passed
    (as jfa-go does)."""
    base = current if current is not None and current > now else now
    return base + days * DAY


def day_start(day: date) -> float:
    """Local midnight at the start of ``day`` (the admin thinks in their own calendar)."""
    return datetime(day.year, day.month, day.day).astimezone().timestamp()


@dataclass(frozen=True, slots=True)
class ExpiryChange:
    """What to do to an account's expiry: exactly one of ``on`` (a day), ``in_days``, ``extend_days``, ``never``."""

    on: date | None = None
    in_days: int | None = None
    extend_days: int | None = None
    never: bool = False

    def validate(self) -> None:
        given = [self.on is not None, self.in_days is not None, self.extend_days is not None, self.never]
        if sum(given) != 1:
            raise ValidationError(
                "Say one of: a day, a number of days from today, days to extend by, or never.",
                remedy="Use exactly one of --on, --in, --extend, --never.",
            )
        for days in (self.in_days, self.extend_days):
            if days is not None and not 1 <= days <= MAX_DAYS:
                raise ValidationError(f"{days} days is out of range.", remedy=f"Use 1 to {MAX_DAYS} days.")


def expiry_from(change: ExpiryChange, current: float | None, now: float) -> float | None:
    """The new expiry (None = never). Raises ValidationError for a day in the past."""
    change.validate()
    if change.never:
        return None
    if change.on is not None:
        when = day_start(change.on)
        if when <= now:
            raise ValidationError(
                f"{change.on.isoformat()} is not in the future.", remedy="Pick a later day."
            )
        return when
    if change.in_days is not None:
        return now + change.in_days * DAY
    assert change.extend_days is not None
    return extend_expiry(current, now, change.extend_days)


@dataclass(frozen=True, slots=True)
class DueReminder:
    ref: AccountRef
    expires_at: float
    days: int  # the smallest threshold reached (what the message says)
    thresholds: tuple[int, ...]  # every threshold this reminder covers (recorded as sent)


def due_reminders(
    expiries: Iterable[AccountExpiry],
    thresholds: Sequence[int],
    sent: set[tuple[AccountRef, float, int]],
    now: float,
) -> list[DueReminder]:
    """Pure: per account that expires after ``now`` (and is not disabled), the thresholds (days before expiry)
    reached and not sent yet for this expiry date. Several reached at once (an expiry set close to the day)
    make ONE reminder covering them all. None after expiry, none for accounts without one."""
    out = []
    for e in expiries:
        if e.disabled_at is not None or e.expires_at <= now:
            continue
        ref = AccountRef(e.server_id, e.remote_id)
        reached = tuple(
            sorted(
                d
                for d in set(thresholds)
                if e.expires_at - d * DAY <= now and (ref, e.expires_at, d) not in sent
            )
        )
        if reached:
            out.append(DueReminder(ref, e.expires_at, reached[0], reached))
    return out


def render_reminder(template: str, *, name: str, server: str, when: float, note: str) -> str:
    """The mail text: ``{name}``, ``{server}``, ``{date}`` (local, YYYY-MM-DD) and ``{note}`` filled in; a
    template with unknown or broken fields falls back to the plain default wording."""
    day = datetime.fromtimestamp(when).astimezone().date().isoformat()
    try:
        return template.format(name=name, server=server, date=day, note=note).strip() + "\n"
    except (KeyError, IndexError, ValueError):
        return f"Hello {name},\n\nyour access to {server} ends on {day}.\n{note}\n".strip() + "\n"


# ---------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class ExpiryRunReport:
    disabled: int = 0
    deleted: int = 0
    failed: int = 0
    awaiting_confirmation: int = 0
    reminders: int = 0
    mailed: int = 0

    @property
    def summary(self) -> str:
        parts = [f"Disabled {self.disabled} expired accounts"]
        if self.deleted:
            parts.append(f"deleted {self.deleted}")
        if self.awaiting_confirmation:
            parts.append(f"{self.awaiting_confirmation} wait for your confirmation to be deleted")
        if self.reminders:
            parts.append(f"sent {self.reminders} reminders ({self.mailed} by e-mail)")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return "; ".join(parts) + "."


class ExpiryService:
    def __init__(
        self,
        *,
        users: UserService,
        expiry: ExpiryStore,
        accounts: AccountStore,
        servers: ServerStore,
        identities: IdentityStore,
        history: HistoryStore | None,
        runner: Runner,
        settings: Callable[[], Settings],
        mail: MailSender | None = None,
        notifier: AdminNotifier | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._users = users
        self._expiry = expiry
        self._accounts = accounts
        self._servers = servers
        self._identities = identities
        self._history = history
        self._runner = runner
        self._settings = settings
        self._mail = mail
        self._notifier = notifier
        self._clock = clock

    # -- admin side ----------------------------------------------------------------------------------------

    async def change(
        self, server_name: str, names: Sequence[str], change: ExpiryChange, *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        """Sets, extends or clears the expiry of accounts of one server (by username or remote id). Raises
        NotFoundError (server), ValidationError (bad change, no names); unknown accounts are outcomes."""
        change.validate()
        refs, outcomes = await self._users.find_accounts(server_name, names)
        return outcomes + await self.apply(refs, change, trigger=trigger)

    async def apply(
        self, refs: Sequence[AccountRef], change: ExpiryChange, *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        """The change for every account in ONE transaction, each recorded in the history; an account the expiry
        task disabled is enabled again when its new expiry is later than now (or never). Raises ValidationError
        (a day in the past) before anything is written."""
        now = self._clock()
        current = await self._runner.read(self._expiry.expiries, None)
        plan: list[tuple[AccountRef, float | None]] = []
        for ref in dict.fromkeys(refs):
            was = current.get(ref)
            plan.append((ref, expiry_from(change, was.expires_at if was else None, now)))
        await self._runner.db(self._expiry.set_expiry, plan)
        # accounts the expiry task disabled get their access back when their time is extended
        revive = [ref for ref, when in plan if (was := current.get(ref)) is not None and was.disabled_at is not None
                  and (when is None or when > now)]  # fmt: skip
        revived = (
            {o.remote_id: o for o in await self._users.apply("enable", revive, trigger=trigger)}
            if revive
            else {}
        )
        outcomes, events = [], []
        for ref, when in plan:
            server, name = await self._names(ref)
            text = f"{server}: {name} " + ("never expires." if when is None else f"expires on {_day(when)}.")
            enabled = revived.get(ref.remote_id)
            if enabled is not None:
                text += " Enabled again." if enabled.ok else f" It stays disabled: {enabled.message}"
            outcomes.append(Outcome(server, True, text, name, None, ref.remote_id))
            events.append(
                AccountEvent(
                    now, server, ref.remote_id, name, AccountAction.EXPIRY, trigger, True, text, ref.server_id
                )
            )
        await record(self._runner, self._history, events)
        return outcomes

    async def _names(self, ref: AccountRef) -> tuple[str, str]:
        try:
            server = (await self._runner.read(self._servers.get, ref.server_id)).name
        except ZondarrError:
            server = f"server {ref.server_id}"
        user = await self._runner.read(self._accounts.find, ref.server_id, ref.remote_id)
        return server, (user.username if user else ref.remote_id)

    def pending_deletions(self) -> list[AccountExpiry]:
        """Accounts past their grace period that wait for the admin's confirmation (``disable-then-delete``
        without ``auto_delete_expired``). Any thread."""
        s = self._settings()
        if s.expiry_action != "disable-then-delete":
            return []
        return self._expiry.disabled_before(self._clock() - s.delete_after_days * DAY)

    async def confirm_deletions(
        self, refs: Sequence[AccountRef], *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        """Deletes the confirmed accounts on their servers; their expiry and reminder rows go with them."""
        outcomes: list[Outcome] = []
        for ref in dict.fromkeys(refs):  # one at a time: each outcome belongs to exactly this account
            done = await self._users.apply("delete", [ref], trigger=trigger)
            if done and all(o.ok or _gone(o) for o in done):
                await self._runner.db(self._expiry.forget, ref)
            outcomes += done
        return outcomes

    # -- the task ------------------------------------------------------------------------------------------

    async def run(self) -> ExpiryRunReport:
        """The expire-accounts task: reminders, then disabling what is due, then deleting what is past its
        grace period (or counting what waits for confirmation). Each account on its own: one failing server
        or account never stops the batch."""
        sent, mailed = await self.send_reminders()
        now = self._clock()
        disabled = deleted = failed = 0
        for e in await self._runner.read(self._expiry.due, now):
            ref = AccountRef(e.server_id, e.remote_id)
            result = await self._attempt("disable", ref)
            if result == "done":
                await self._runner.db(self._expiry.mark_disabled, ref, now)
                disabled += 1
            elif result == "failed":
                failed += 1
        waiting = 0
        pending = await self._runner.read(self.pending_deletions)
        if pending and self._settings().auto_delete_expired:
            for e in pending:
                ref = AccountRef(e.server_id, e.remote_id)
                result = await self._attempt("delete", ref)
                if result == "done":
                    await self._runner.db(self._expiry.forget, ref)
                    deleted += 1
                elif result == "failed":
                    failed += 1
        else:
            waiting = len(pending)
        if waiting:
            self._notify(
                AdminNotice(
                    "Expired accounts to delete",
                    f"{waiting} expired accounts are past their grace period: confirm their deletion on the "
                    "Users page.",
                    "warning",
                )
            )
        return ExpiryRunReport(disabled, deleted, failed, waiting, sent, mailed)

    async def _attempt(self, action: str, ref: AccountRef) -> str:
        """ "done", "failed", or "gone": the server no longer has the account (deleted outside Zondarr); its
        expiry rows go, so it is not tried again at every run."""
        try:
            outcomes = await self._users.apply(action, [ref], trigger=Trigger.TASK)
        except Exception as exc:  # a bug on one account's path must not stop the batch
            log.warning("expiry: %s of %s failed: %s", action, ref, type(exc).__name__)
            return "failed"
        if outcomes and all(_gone(o) for o in outcomes):
            await self._runner.db(self._expiry.forget, ref)
            return "gone"
        return "done" if outcomes and all(o.ok for o in outcomes) else "failed"

    # -- reminders -----------------------------------------------------------------------------------------

    async def send_reminders(self) -> tuple[int, int]:
        """Sends each due reminder once (recorded before the next one goes out). Returns (reminders, mailed).
        No mail without an address or without e-mail set up; a failed mail is in the history, not retried."""
        settings = self._settings()
        thresholds = reminder_days(settings.expiry_reminder_days)
        if not thresholds:
            return 0, 0
        now = self._clock()
        expiries = await self._runner.read(self._expiry.expiries, None)
        sent = await self._runner.read(self._expiry.reminders_sent)
        due = due_reminders(expiries.values(), thresholds, sent, now)
        if not due:
            return 0, 0
        lines, mailed = [], 0
        for reminder in due:
            user = await self._runner.read(
                self._accounts.find, reminder.ref.server_id, reminder.ref.remote_id
            )
            server, name = await self._names(reminder.ref)
            address, note = await self._address_and_note(user)
            ok, text = (
                True,
                f"{server}: reminded {name} ({reminder.days} days before {_day(reminder.expires_at)}).",
            )
            was_mailed = False
            if address and self._mail is not None and self._mail.configured:
                body = render_reminder(
                    settings.reminder_template, name=name, server=server, when=reminder.expires_at, note=note
                )
                subject = f"Your access to {server} ends on {_day(reminder.expires_at)}"
                try:
                    await self._runner.net(self._mail.send, MailMessage(address, subject, body))
                    was_mailed = True
                    mailed += 1
                    text = f"{server}: mailed {name} at {address} ({reminder.days} days before)."
                except ZondarrError as err:
                    ok, text = False, f"{server}: the reminder mail to {name} failed: {describe(err)}"
            for days in reminder.thresholds:
                await self._runner.db(
                    self._expiry.record_reminder, reminder.ref, reminder.expires_at, days, was_mailed
                )
            event = AccountEvent(
                now, server, reminder.ref.remote_id, name, AccountAction.REMINDER, Trigger.TASK, ok, text,
                reminder.ref.server_id,
            )  # fmt: skip
            await record(self._runner, self._history, [event])
            lines.append(f"{name} on {server}: {_day(reminder.expires_at)}")
        self._notify(AdminNotice("Accounts about to expire", "\n".join(lines)))
        return len(due), mailed

    async def _address_and_note(self, user: User | None) -> tuple[str | None, str]:
        if user is None:
            return None, ""
        person = None
        if user.identity_id is not None:
            person = await self._runner.read(self._identities.get, user.identity_id)
        address = user.email or (person.email if person else None)
        return (address or None), (person.note if person else "")

    def _notify(self, notice: AdminNotice) -> None:
        if self._notifier is None:
            return
        try:
            self._notifier.notify(notice)
        except Exception:  # a notifier must never break the task
            log.exception("admin notification failed")


def _gone(outcome: Outcome) -> bool:
    """The server said it has no such account (NotFoundError)."""
    return not outcome.ok and (outcome.error or {}).get("error") == "NotFoundError"


def _day(when: float) -> str:
    return datetime.fromtimestamp(when).astimezone().date().isoformat()
