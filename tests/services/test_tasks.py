"""Background tasks: the expiration task (hypothesis: disables exactly the expired enabled invitations and
survives a failing row), and the scheduler (run now, pause, failures isolated, catch-up after sleep)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import CacheError
from app.core.models import InvitationTarget, NewInvitation
from app.services.runner import ThreadRunner
from app.services.tasks import TaskScheduler, TaskSpec
from app.storage import open_cache
from tests.services.people_fakes import AccountServer, Harness

NOW = 1_800_000_000.0

rows = st.lists(
    st.tuples(st.booleans(), st.none() | st.floats(min_value=NOW - 1e6, max_value=NOW + 1e6), st.booleans()),
    max_size=12,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
def test_expiration_disables_exactly_expired_enabled_and_survives_a_bad_row(
    tmp_path_factory: object, rows: list[tuple[bool, float | None, bool]]
) -> None:
    data_dir = Path(tmp_path_factory.mktemp("expire")) / "data"  # type: ignore[attr-defined]
    h = Harness(data_dir, {"A": AccountServer()}, now=NOW)
    try:
        store = h.cache.invitations
        target = InvitationTarget(1, "A")
        made = []
        for n, (enabled, expires_at, bad) in enumerate(rows):
            inv = store.create(NewInvitation(f"CODE{n:06d}", (target,), expires_at=expires_at))
            if not enabled:
                store.set_enabled(inv.id, False)
            made.append((inv.id, enabled, expires_at, bad))
        bad_ids = {i for i, _, _, bad in made if bad}
        real = store.set_enabled

        def flaky(invitation_id: int, enabled: bool) -> bool:
            if invitation_id in bad_ids:
                raise CacheError(detail="injected failure")
            return real(invitation_id, enabled)

        store.set_enabled = flaky  # type: ignore[method-assign]
        done, failed = asyncio.run(h.people.invitations.expire_due())
        should = {i for i, en, exp, _ in made if en and exp is not None and exp <= NOW}
        assert done == len(should - bad_ids) and failed == len(should & bad_ids)
        for inv_id, enabled, _expires, _ in made:
            now_enabled = store.get(inv_id).enabled  # type: ignore[union-attr]
            expected = enabled and not (inv_id in should and inv_id not in bad_ids)
            assert now_enabled == expected
    finally:
        h.close()


def _scheduler(
    tmp_path: Path, clock: list[float], specs: list[TaskSpec]
) -> tuple[TaskScheduler, object, object]:
    cache = open_cache(tmp_path / "data", clock=lambda: clock[0])
    runner = ThreadRunner()
    return (
        TaskScheduler(
            specs,
            runs=cache.task_runs,
            runner=runner,
            clock=lambda: clock[0],
            tick_s=0.01,
            preferences=cache.settings,  # type: ignore[attr-defined]
        ),
        cache,
        runner,
    )


def test_scheduler_runs_due_tasks_isolates_failures_and_records_runs(tmp_path: Path) -> None:
    clock = [NOW]
    calls: list[str] = []

    async def ok() -> str:
        calls.append("ok")
        return "fine"

    async def boom() -> str:
        calls.append("boom")
        raise RuntimeError("bug")

    specs = [TaskSpec("ok", "OK", lambda: 60, ok), TaskSpec("boom", "Boom", lambda: 60, boom)]
    sched, cache, runner = _scheduler(tmp_path, clock, specs)

    async def scenario() -> None:
        runs = await sched.run_due()  # never run before: both due now
        assert sorted(r.status for r in runs) == ["failed", "succeeded"]
        assert await sched.run_due() == []  # not due again until the interval passed
        clock[0] += 61
        assert len(await sched.run_due()) == 2
        await sched.pause("ok")
        clock[0] += 61
        assert [r.task for r in await sched.run_due()] == ["boom"]
        status = {s.name: s for s in await sched.status()}
        assert status["ok"].paused and status["ok"].next_run_at is None
        assert status["boom"].last_run.status == "failed"  # type: ignore[union-attr]
        run = await sched.run_now("ok")  # works while paused
        assert run.status == "succeeded" and run.message == "fine"

    asyncio.run(scenario())
    assert calls.count("ok") == 3 and calls.count("boom") == 3
    assert len(cache.task_runs.list("boom")) == 3  # type: ignore[attr-defined]
    runner.close()  # type: ignore[attr-defined]
    cache.close()  # type: ignore[attr-defined]


def test_scheduler_catches_up_once_after_sleep_and_resumes_from_history(tmp_path: Path) -> None:
    clock = [NOW]
    calls: list[float] = []

    async def work() -> str:
        calls.append(clock[0])
        return "ran"

    specs = [TaskSpec("work", "Work", lambda: 3600, work)]
    sched, cache, runner = _scheduler(tmp_path, clock, specs)

    async def scenario() -> None:
        loop_task = asyncio.create_task(sched.run_forever())
        await asyncio.sleep(0.1)
        assert len(calls) == 1
        clock[0] += 10 * 3600  # the machine slept ten intervals: the wall clock jumped
        await asyncio.sleep(0.1)
        assert len(calls) == 2  # caught up at once, and only once
        sched.stop()
        await loop_task

    asyncio.run(scenario())
    runner.close()  # type: ignore[attr-defined]
    # a new process: the next run is computed from the recorded history, not "now"
    clock[0] += 60
    runner2 = ThreadRunner()
    again = TaskScheduler(specs, runs=cache.task_runs, runner=runner2, clock=lambda: clock[0])  # type: ignore[attr-defined]
    [status] = asyncio.run(again.status())
    assert status.next_run_at == calls[-1] + 3600
    runner2.close()
    cache.close()  # type: ignore[attr-defined]


def test_a_paused_task_stays_paused_after_a_restart_and_resuming_is_kept_too(tmp_path: Path) -> None:
    # Pause is what the admin chose for the schedule, not a state of one process: a restarted app (or another
    # process on the same data dir) must not run the task on its own again.
    clock = [1_000.0]
    calls: list[str] = []

    async def ok() -> str:
        calls.append("ok")
        return "fine"

    specs = [TaskSpec("ok", "OK", lambda: 60, ok)]
    first, cache, runner = _scheduler(tmp_path, clock, specs)

    async def pause_in_first() -> None:
        await first.pause("ok")

    asyncio.run(pause_in_first())
    runner.close()  # type: ignore[attr-defined]
    cache.close()  # type: ignore[attr-defined]

    second, cache, runner = _scheduler(tmp_path, clock, specs)

    async def in_second() -> None:
        clock[0] += 3_600
        assert await second.run_due() == []  # still paused: nothing ran
        assert [s.paused for s in await second.status()] == [True]
        await second.pause("ok", False)

    asyncio.run(in_second())
    runner.close()  # type: ignore[attr-defined]
    cache.close()  # type: ignore[attr-defined]

    third, cache, runner = _scheduler(tmp_path, clock, specs)

    async def in_third() -> None:
        assert [s.paused for s in await third.status()] == [False]
        assert [r.task for r in await third.run_due()] == ["ok"]

    asyncio.run(in_third())
    runner.close()  # type: ignore[attr-defined]
    cache.close()  # type: ignore[attr-defined]
    assert calls == ["ok"]


def test_suspending_all_tasks_holds_every_schedule_across_a_restart_and_run_now_still_works(
    tmp_path: Path,
) -> None:
    clock = [1_000.0]
    calls: list[str] = []

    async def ok() -> str:
        calls.append("ok")
        return "fine"

    specs = [TaskSpec("ok", "OK", lambda: 60, ok)]
    first, cache, runner = _scheduler(tmp_path, clock, specs)

    async def in_first() -> None:
        await first.suspend()
        assert await first.run_due() == []
        assert (await first.run_now("ok")).status == "succeeded"

    asyncio.run(in_first())
    runner.close()  # type: ignore[attr-defined]
    cache.close()  # type: ignore[attr-defined]
    second, cache, runner = _scheduler(tmp_path, clock, specs)

    async def in_second() -> None:
        clock[0] += 3_600
        assert await second.run_due() == [] and second.suspended
        await second.suspend(False)
        assert [r.task for r in await second.run_due()] == ["ok"]

    asyncio.run(in_second())
    runner.close()  # type: ignore[attr-defined]
    cache.close()  # type: ignore[attr-defined]
    assert calls == ["ok", "ok"]
