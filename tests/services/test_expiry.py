"""Expiry of accounts: the pure rules (hypothesis, >= 100 examples each) and the service over a real cache with
fake servers: set / extend / clear in bulk, the expire-accounts task with failing servers, the grace period and
its confirmation, reminders once per threshold with a stand-in mail sender, and the history of it all."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import ServerUnreachable, ValidationError
from app.core.models import AccountExpiry, AccountRef
from app.core.ports import MailMessage
from app.services.expiry import DAY, ExpiryChange, due_reminders, expiry_from, extend_expiry, render_reminder
from tests.services.people_fakes import PLEX_LIKE, AccountServer, Harness

NOW = 1_800_000_000.0
times = st.floats(min_value=NOW - 400 * DAY, max_value=NOW + 400 * DAY, allow_nan=False)


@settings(max_examples=200)
@given(current=st.none() | times, days=st.integers(1, 3650))
def test_extend_counts_from_the_current_expiry_or_today(current: float | None, days: int) -> None:
    new = extend_expiry(current, NOW, days)
    if current is not None and current > NOW:
        assert new == current + days * DAY
    else:
        assert new == NOW + days * DAY
    assert new > NOW and new >= (current or 0.0)
    assert expiry_from(ExpiryChange(extend_days=days), current, NOW) == new


account = st.builds(
    AccountExpiry,
    server_id=st.integers(1, 3),
    remote_id=st.sampled_from(["a", "b", "c", "d"]),
    expires_at=times,
    disabled_at=st.none() | st.just(NOW - DAY),
)


@settings(max_examples=200)
@given(
    accounts=st.lists(account, max_size=8, unique_by=lambda e: (e.server_id, e.remote_id)),
    thresholds=st.lists(st.integers(1, 60), min_size=1, max_size=4),
    steps=st.lists(st.floats(0, 20 * DAY, allow_nan=False), min_size=1, max_size=12),
)
def test_reminders_each_threshold_once_none_after_expiry_none_without_expiry(
    accounts: list[AccountExpiry], thresholds: list[int], steps: list[float]
) -> None:
    sent: set[tuple[AccountRef, float, int]] = set()
    now = NOW - 30 * DAY
    covered: list[tuple[AccountRef, int]] = []
    for step in steps:
        now += step
        for r in due_reminders(accounts, thresholds, sent, now):
            e = next(a for a in accounts if (a.server_id, a.remote_id) == (r.ref.server_id, r.ref.remote_id))
            assert e.disabled_at is None and now < e.expires_at  # none after expiry, none once disabled
            assert r.days == min(r.thresholds) and set(r.thresholds) <= set(thresholds)
            for d in r.thresholds:
                assert e.expires_at - d * DAY <= now  # never before its threshold
                assert (r.ref, e.expires_at, d) not in sent
                sent.add((r.ref, e.expires_at, d))
                covered.append((r.ref, d))
    assert len(covered) == len(set(covered))  # each threshold once per account
    assert due_reminders([], thresholds, set(), now) == []  # no expiry, no reminder


def test_expiry_change_rules() -> None:
    with pytest.raises(ValidationError):
        ExpiryChange().validate()
    with pytest.raises(ValidationError):
        ExpiryChange(in_days=3, never=True).validate()
    with pytest.raises(ValidationError):
        expiry_from(ExpiryChange(on=date(2000, 1, 1)), None, NOW)
    assert expiry_from(ExpiryChange(never=True), NOW + DAY, NOW) is None
    assert expiry_from(ExpiryChange(in_days=2), NOW + 9 * DAY, NOW) == NOW + 2 * DAY
    text = render_reminder(
        "Hi {name}, {server} until {date}. {note}", name="Ann", server="Jelly", when=NOW, note="n"
    )
    assert text.startswith("Hi Ann, Jelly until 20") and text.endswith("n\n")
    assert "Ann" in render_reminder("{broken", name="Ann", server="J", when=NOW, note="")


# ---------------------------------------------------------------- the service with fake servers


class Outbox:
    """A MailSender stand-in for the service tests (the SMTP path itself is tested with aiosmtpd)."""

    configured = True

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.sent.append(message)

    def test(self) -> None:
        pass


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def h(tmp_path: Path, outbox: Outbox) -> Iterator[Harness]:
    jelly, plex, down = AccountServer(), AccountServer(capabilities=PLEX_LIKE), AccountServer()
    harness = Harness(tmp_path / "data", {"Jelly": jelly, "Plex": plex, "Down": down}, now=NOW, mail=outbox)
    for name in ("ann", "bob", "cy"):
        jelly.add(name)
        plex.add(name)
        down.add(name)
    for server in ("Jelly", "Plex", "Down"):
        asyncio.run(harness.people.users.sync_server(harness.cache.servers.get_by_name(server)))
    yield harness
    harness.close()


def _expires(h: Harness, server: str, name: str) -> float | None:
    s = h.cache.servers.get_by_name(server)
    user = h.cache.accounts.find(s.id, name)
    assert user is not None
    return user.expires_at


def test_set_extend_and_clear_in_bulk(h: Harness) -> None:
    exp = h.people.expiry
    out = asyncio.run(exp.change("Jelly", ["ann", "bob", "nobody"], ExpiryChange(in_days=10)))
    assert [o.ok for o in out] == [False, True, True] and out[0].reason == "not found"
    assert _expires(h, "Jelly", "ann") == _expires(h, "Jelly", "bob") == NOW + 10 * DAY
    asyncio.run(exp.change("Jelly", ["ann", "cy"], ExpiryChange(extend_days=5)))
    assert _expires(h, "Jelly", "ann") == NOW + 15 * DAY  # from the current expiry
    assert _expires(h, "Jelly", "cy") == NOW + 5 * DAY  # none yet: from today
    asyncio.run(exp.change("Jelly", ["ann", "bob", "cy"], ExpiryChange(never=True)))
    assert [_expires(h, "Jelly", n) for n in ("ann", "bob", "cy")] == [None, None, None]
    actions = [e.action for e in h.cache.history.list()]
    assert actions.count("expiry set") == 7


def test_the_task_disables_on_the_day_and_one_failing_server_never_stops_the_batch(h: Harness) -> None:
    exp = h.people.expiry
    for server in ("Jelly", "Plex", "Down"):
        asyncio.run(exp.change(server, ["ann", "bob"], ExpiryChange(in_days=3)))
    h.servers["Down"].down = True
    h.now = NOW + 3 * DAY - 1
    assert asyncio.run(exp.run()).disabled == 0
    h.now = NOW + 3 * DAY
    report = asyncio.run(exp.run())
    assert (report.disabled, report.failed) == (4, 2)
    assert all(u.is_disabled for u in h.servers["Jelly"].users.values() if u.username in ("ann", "bob"))
    assert not h.servers["Jelly"].users["103"].is_disabled  # cy has no expiry
    plex_listed = {u.username for u in h.servers["Plex"].users.values()}
    assert "ann" not in plex_listed and "cy" in plex_listed  # Plex: the share is removed
    h.servers["Down"].down = False
    h.now += 3600
    assert asyncio.run(exp.run()).disabled == 2  # the failed ones are tried again, the done ones not
    history = h.cache.history.list()
    assert sum(1 for e in history if e.action == "disabled" and e.trigger == "task" and not e.ok) == 2


def test_grace_period_then_confirmation_or_automatic_deletion(h: Harness) -> None:
    exp = h.people.expiry
    asyncio.run(exp.change("Jelly", ["ann", "bob"], ExpiryChange(in_days=1)))
    h.settings = dataclasses.replace(h.settings, expiry_action="disable-then-delete", delete_after_days=30)
    h.now = NOW + DAY
    asyncio.run(exp.run())
    h.now = NOW + 30 * DAY
    assert exp.pending_deletions() == []
    h.now = NOW + 31 * DAY
    report = asyncio.run(exp.run())
    assert (report.deleted, report.awaiting_confirmation) == (0, 2)  # the admin confirms first
    assert {u.username for u in h.servers["Jelly"].users.values()} >= {"ann", "bob"}
    assert any("confirm" in n.body for n in h.notifier.sent)
    ann = next(p for p in exp.pending_deletions() if p.remote_id == h.cache.accounts.find(1, "ann").remote_id)  # type: ignore[union-attr]
    out = asyncio.run(exp.confirm_deletions([AccountRef(ann.server_id, ann.remote_id)]))
    assert [o.ok for o in out] == [True] and "ann" not in {
        u.username for u in h.servers["Jelly"].users.values()
    }
    h.settings = dataclasses.replace(h.settings, auto_delete_expired=True)
    assert asyncio.run(exp.run()).deleted == 1
    assert "bob" not in {u.username for u in h.servers["Jelly"].users.values()}
    assert exp.pending_deletions() == []


def test_default_action_never_deletes(h: Harness) -> None:
    exp = h.people.expiry
    asyncio.run(exp.change("Jelly", ["ann"], ExpiryChange(in_days=1)))
    h.now = NOW + 400 * DAY
    asyncio.run(exp.run())
    h.now += 400 * DAY
    assert asyncio.run(exp.run()).deleted == 0 and exp.pending_deletions() == []
    assert "ann" in {u.username for u in h.servers["Jelly"].users.values()}


def test_reminders_at_7_and_1_days_once_each_and_no_mail_without_address(h: Harness, outbox: Outbox) -> None:
    exp = h.people.expiry
    asyncio.run(exp.change("Jelly", ["ann", "bob"], ExpiryChange(in_days=10)))
    jelly = h.servers["Jelly"]
    bob = next(u for u in jelly.users.values() if u.username == "bob")
    jelly.users[bob.remote_id] = dataclasses.replace(bob, email=None)
    asyncio.run(h.people.users.sync_server(h.cache.servers.get_by_name("Jelly")))
    for hours in range(0, 10 * 24 + 6, 6):  # every 6 hours until after the day
        h.now = NOW + hours * 3600
        asyncio.run(exp.send_reminders())
    assert [m.to for m in outbox.sent] == ["ann@x.org", "ann@x.org"]
    day = render_reminder("{date}", name="", server="", when=NOW + 10 * DAY, note="").strip()
    assert all(day in m.body and day in m.subject for m in outbox.sent)
    reminders = [e for e in h.cache.history.list() if e.action == "reminder sent"]
    assert len(reminders) == 4 and {e.username for e in reminders} == {"ann", "bob"}
    assert len([n for n in h.notifier.sent if n.title == "Accounts about to expire"]) == 2


def test_a_failing_mail_is_recorded_and_not_repeated(h: Harness, outbox: Outbox) -> None:
    def broken(message: MailMessage) -> None:
        raise ServerUnreachable("mail server x")

    outbox.send = broken  # type: ignore[method-assign]
    asyncio.run(h.people.expiry.change("Jelly", ["ann"], ExpiryChange(in_days=1)))
    assert asyncio.run(h.people.expiry.send_reminders()) == (1, 0)
    assert asyncio.run(h.people.expiry.send_reminders()) == (0, 0)
    [event] = [e for e in h.cache.history.list() if e.action == "reminder sent"]
    assert not event.ok and "failed" in event.message


# ---------------------------------------------------------------- the batch over arbitrary account sets


@settings(max_examples=100, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(["Jelly", "Plex", "Down"]), st.integers(0, 5), st.integers(-3, 3)),
        min_size=1,
        max_size=12,
        unique_by=lambda t: (t[0], t[1]),
    ),
    down=st.sets(st.sampled_from(["Jelly", "Plex", "Down"]), max_size=3),
    crash=st.sets(st.integers(0, 5), max_size=2),
)
def test_the_expiry_batch_survives_failing_servers_for_any_account_set(
    plan: list[tuple[str, int, int]], down: set[str], crash: set[int]
) -> None:
    """Each account whose day came is disabled unless its server is down (or a bug hits that one account);
    every failure is counted, none stops the others, and nothing whose day has not come is touched."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "Jelly": AccountServer(),
            "Plex": AccountServer(capabilities=PLEX_LIKE),
            "Down": AccountServer(),
        }
        h = Harness(Path(tmp) / "data", servers, now=NOW)
        try:
            names = [f"u{i}" for i in range(6)]
            for s in servers.values():
                for n in names:
                    s.add(n)
            for name in servers:
                asyncio.run(h.people.users.sync_server(h.cache.servers.get_by_name(name)))
            refs = {}
            for server, i, days in plan:
                sid = h.cache.servers.get_by_name(server).id
                user = h.cache.accounts.find(sid, names[i])
                assert user is not None
                refs[(server, i)] = AccountRef(sid, user.remote_id)
                h.cache.expiry.set_expiry([(refs[(server, i)], NOW + days * DAY + (1 if days > 0 else 0))])
            for name in down:
                servers[name].down = True
            real_apply = h.people.users.apply

            async def flaky(action, accounts, *, trigger="admin"):  # type: ignore[no-untyped-def]
                if any(r.remote_id == str(101 + i) for r in accounts for i in crash):
                    raise RuntimeError("a bug on this account's path")
                return await real_apply(action, accounts, trigger=trigger)

            h.people.users.apply = flaky  # type: ignore[method-assign]
            report = asyncio.run(h.people.expiry.run())
            due = [(s, i) for s, i, d in plan if d <= 0]
            ok = [(s, i) for s, i in due if s not in down and i not in crash]
            assert (report.disabled, report.failed) == (len(ok), len(due) - len(ok))
            for (server, i), ref in refs.items():
                listed = servers[server].users.get(ref.remote_id)
                gone_or_disabled = listed is None or listed.is_disabled
                assert gone_or_disabled == ((server, i) in ok), (server, i)
        finally:
            h.close()


def test_extending_an_account_the_task_disabled_enables_it_again(h: Harness) -> None:
    exp = h.people.expiry
    asyncio.run(exp.change("Jelly", ["ann"], ExpiryChange(in_days=1)))
    h.now = NOW + DAY
    assert asyncio.run(exp.run()).disabled == 1
    ann = next(u for u in h.servers["Jelly"].users.values() if u.username == "ann")
    assert ann.is_disabled
    [out] = asyncio.run(exp.change("Jelly", ["ann"], ExpiryChange(extend_days=30)))
    assert out.ok and "Enabled again" in out.message
    assert not h.servers["Jelly"].users[ann.remote_id].is_disabled
    assert _expires(h, "Jelly", "ann") == NOW + 31 * DAY  # from today: the old expiry had passed
    h.now += 10 * DAY
    assert asyncio.run(exp.run()).disabled == 0  # re-armed for the new day only


def test_an_account_deleted_outside_zondarr_is_forgotten_not_retried_forever(h: Harness) -> None:
    exp = h.people.expiry
    asyncio.run(exp.change("Jelly", ["ann", "bob"], ExpiryChange(in_days=1)))
    ann = next(u for u in h.servers["Jelly"].users.values() if u.username == "ann")
    del h.servers["Jelly"].users[ann.remote_id]  # the admin deleted it on the server itself
    h.now = NOW + DAY
    report = asyncio.run(exp.run())
    assert (report.disabled, report.failed) == (1, 0)
    assert AccountRef(1, ann.remote_id) not in h.cache.expiry.expiries()
    h.now += 3600
    assert asyncio.run(exp.run()) == type(report)()  # nothing left to do
