"""People stores on a real SQLite file: invitations (atomic use counting under thread and process races),
identity links that survive a users re-sync, accounts, exclusions, remembered shares, task runs."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from app.core.errors import ValidationError
from app.core.models import AccountRef, InvitationTarget, NewInvitation, RememberedShare, RemoteUser
from app.storage import open_cache
from app.storage.cache import Cache
from tests.storage.conftest import add_server


def _invitation(cache: Cache, code: str = "ABCDEFGHJK", max_uses: int | None = 3, **kw: object):  # type: ignore[no-untyped-def]
    server = add_server(cache, "Jelly")
    target = InvitationTarget(server.id, server.name, ("k1", "k2"))
    return cache.invitations.create(NewInvitation(code, (target,), max_uses=max_uses, **kw))  # type: ignore[arg-type]


def test_invitation_round_trip_and_duplicate_code(cache: Cache) -> None:
    inv = _invitation(cache, expires_at=2e9, duration_days=7, note="for Ann")
    assert cache.invitations.get_by_code("ABCDEFGHJK") == inv
    assert inv.targets[0].library_keys == ("k1", "k2") and inv.note == "for Ann" and inv.enabled
    with pytest.raises(ValidationError):
        cache.invitations.create(NewInvitation("ABCDEFGHJK", ()))
    assert cache.invitations.set_enabled(inv.id, False) and not cache.invitations.set_enabled(inv.id, False)
    assert [i.code for i in cache.invitations.expired_enabled(3e9)] == []
    cache.invitations.set_enabled(inv.id, True)
    assert [i.code for i in cache.invitations.expired_enabled(3e9)] == ["ABCDEFGHJK"]
    assert cache.invitations.expired_enabled(1e9) == []
    assert cache.invitations.delete(inv.id) and cache.invitations.get(inv.id) is None


def test_claim_use_respects_max_enabled_and_expiry(cache: Cache) -> None:
    inv = _invitation(cache, max_uses=2, expires_at=100.0)
    assert cache.invitations.claim_use(inv.id, 50.0)
    assert not cache.invitations.claim_use(inv.id, 100.0)  # expired at its expiry instant
    assert cache.invitations.claim_use(inv.id, 99.0)
    assert not cache.invitations.claim_use(inv.id, 1.0)  # used up
    cache.invitations.release_use(inv.id)
    cache.invitations.set_enabled(inv.id, False)
    assert not cache.invitations.claim_use(inv.id, 1.0)


def test_thread_race_for_uses(data_dir: Path) -> None:
    with open_cache(data_dir) as cache:
        inv = _invitation(cache, max_uses=5)
    wins: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def worker() -> None:
        with open_cache(data_dir) as mine:  # its own writer connection: a real concurrent writer
            barrier.wait()
            won = mine.invitations.claim_use(inv.id, 0.0)
        with lock:
            wins.append(won)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 5
    with open_cache(data_dir) as cache:
        assert cache.invitations.get(inv.id).use_count == 5  # type: ignore[union-attr]


def _claim_in_process(data_dir: str, inv_id: int, start: object, out: object) -> None:
    with open_cache(Path(data_dir)) as cache:
        start.wait()  # type: ignore[attr-defined]
        out.put(cache.invitations.claim_use(inv_id, 0.0))  # type: ignore[attr-defined]


def test_process_race_for_the_last_use(data_dir: Path) -> None:
    with open_cache(data_dir) as cache:
        inv = _invitation(cache, max_uses=1)
    mp = multiprocessing.get_context("spawn")
    start, out = mp.Event(), mp.Queue()
    procs = [mp.Process(target=_claim_in_process, args=(str(data_dir), inv.id, start, out)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results.count(True) == 1
    with open_cache(data_dir) as cache:
        assert cache.invitations.get(inv.id).use_count == 1  # type: ignore[union-attr]


def test_redemptions_and_account_expiry(cache: Cache) -> None:
    inv = _invitation(cache)
    sid = inv.targets[0].server_id
    ok = cache.invitations.add_redemption(inv.id, sid, "ann", None, "r1", 500.0, "ok")
    cache.invitations.add_redemption(inv.id, sid, "bob", None, "r2", None, "ok")
    cache.invitations.add_redemption(inv.id, sid, "cyd", None, None, 100.0, "failed", "boom")
    assert [r.username for r in cache.invitations.due_account_expiries(600.0)] == ["ann"]
    cache.invitations.set_redemption_status(ok.id, "expired")
    assert cache.invitations.due_account_expiries(600.0) == []
    assert len(cache.invitations.redemptions(inv.id)) == 3


def test_identity_links_survive_a_users_resync(cache: Cache) -> None:
    server = add_server(cache, "Plex")
    users = [RemoteUser("1", "owner", is_admin=True), RemoteUser("2", "ann", "ann@x.org")]
    cache.users.replace_server_users(server.id, users)
    ann = cache.identities.create("Ann", "ann@x.org")
    cache.identities.link(ann.id, [AccountRef(server.id, "2")])
    assert cache.accounts.find(server.id, "ANN").identity_id == ann.id  # type: ignore[union-attr]
    cache.users.replace_server_users(server.id, users[:1])  # ann gone from the server ...
    assert cache.accounts.find(server.id, "2") is None
    cache.users.replace_server_users(server.id, users)  # ... and back: the trigger re-applies the link
    assert cache.accounts.find(server.id, "2").identity_id == ann.id  # type: ignore[union-attr]
    assert cache.identities.accounts(ann.id) == {AccountRef(server.id, "2"): ann.id}
    cache.identities.unlink([AccountRef(server.id, "2")])
    assert cache.accounts.find(server.id, "2").identity_id is None  # type: ignore[union-attr]
    cache.identities.delete(ann.id)
    assert cache.identities.list() == []


def test_accounts_exclusions_shares_and_task_runs(cache: Cache) -> None:
    server = add_server(cache, "Plex")
    user = cache.accounts.upsert(server.id, RemoteUser("9", "zed", library_keys=("1",)))
    assert user.username == "zed" and cache.accounts.library_access(server.id) == {"9": ("1",)}
    cache.accounts.set_disabled(server.id, "9", True)
    assert cache.accounts.find(server.id, "zed").is_disabled  # type: ignore[union-attr]
    cache.accounts.remove(server.id, "9")
    assert cache.accounts.find(server.id, "9") is None

    cache.exclusions.add(server.id, "9", "deleted")
    assert cache.exclusions.excluded(server.id) == {"9"}
    cache.exclusions.remove(server.id, "9")
    assert cache.exclusions.excluded(server.id) == set()

    share = RememberedShare(server.id, "9", "zed", None, 5.0)
    cache.shares.remember(share)
    assert cache.shares.recall(server.id, "9") == share and cache.shares.remembered(server.id) == [share]
    cache.shares.remember(RememberedShare(server.id, "9", "zed", ("1", "2"), 6.0))
    assert cache.shares.recall(server.id, "9").library_keys == ("1", "2")  # type: ignore[union-attr]
    cache.shares.forget(server.id, "9")
    assert cache.shares.recall(server.id, "9") is None

    run = cache.task_runs.start("sync-users")
    assert cache.task_runs.last("sync-users") is None  # still running
    run.status, run.message, run.finished_at = "succeeded", "done", run.started_at + 2
    cache.task_runs.finish(run)
    last = cache.task_runs.last("sync-users")
    assert last is not None and last.message == "done" and last.duration_s == 2
    cache.task_runs.start("sync-users")
    assert cache.task_runs.abandon_running() == 1
