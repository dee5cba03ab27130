"""SyncController against a stand-in of the sync service: whether a sync may start is the service's answer only;
the controller passes its AlreadyRunning on as the one ``already_running`` signal."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import qasync

from app.core.errors import AlreadyRunning
from app.core.models import MergeCounts, SyncStatus
from app.services.context import AppContext
from app.services.sync import SyncJobResult
from app.ui.sync_controller import SyncController
from tests.ui.shell_fixtures import pump

DONE = SyncJobResult(SyncStatus.SUCCEEDED, (), "Synced 1 server", MergeCounts())


class RecordingSyncService:
    """The service port the controller uses (``start``): records every call and answers from a script — a
    future the job task waits on, or an AlreadyRunning raised at once."""

    def __init__(self, *answers: asyncio.Future[SyncJobResult] | AlreadyRunning) -> None:
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def start(self, names: Sequence[str] | None = None, **_options: Any) -> asyncio.Task[SyncJobResult]:
        self.calls.append(list(names or []))
        answer = self.answers.pop(0)
        if isinstance(answer, AlreadyRunning):
            raise answer

        async def job() -> SyncJobResult:
            return await answer

        return asyncio.get_running_loop().create_task(job(), name="sync-job")


def _controller(service: RecordingSyncService) -> tuple[SyncController, dict[str, list[object]]]:
    controller = SyncController(cast(AppContext, SimpleNamespace(sync=service)))
    seen: dict[str, list[object]] = {"already_running": [], "sync_finished": [], "sync_started": []}
    controller.already_running.connect(seen["already_running"].append)
    controller.sync_finished.connect(seen["sync_finished"].append)
    controller.sync_started.connect(seen["sync_started"].append)
    return controller, seen


def test_a_second_start_while_the_job_runs_is_the_services_decision(qloop: qasync.QEventLoop) -> None:
    first: asyncio.Future[SyncJobResult] = qloop.create_future()
    second: asyncio.Future[SyncJobResult] = qloop.create_future()
    service = RecordingSyncService(first, second)  # the service lets a second job start
    controller, seen = _controller(service)
    assert controller.start()
    first_job = controller.task
    assert controller.start(["Other"])  # its own job runs, yet the controller asks, and the service says yes
    assert service.calls == [[], ["Other"]]
    assert seen["already_running"] == [] and seen["sync_started"] == ["manual", "manual"]
    assert controller.task is not first_job and controller.is_running()
    first.set_result(DONE)
    second.set_result(DONE)
    pump(lambda: not controller.is_running(), 5)
    assert seen["sync_finished"] == [DONE, DONE]


def test_the_services_refusal_is_the_already_running_signal(qloop: qasync.QEventLoop) -> None:
    first: asyncio.Future[SyncJobResult] = qloop.create_future()
    service = RecordingSyncService(first, AlreadyRunning("Already syncing", remedy=""))
    controller, seen = _controller(service)
    assert controller.start()
    first_job = controller.task
    assert not controller.start()  # refused at once by the service: nothing started
    assert service.calls == [[], []]
    assert seen["already_running"] == ["Already syncing"]
    assert controller.task is first_job and seen["sync_started"] == ["manual"]
    first.set_result(DONE)
    pump(lambda: not controller.is_running(), 5)
    assert seen["sync_finished"] == [DONE]


def test_a_refusal_from_the_job_is_the_same_signal(qloop: qasync.QEventLoop) -> None:
    refused: asyncio.Future[SyncJobResult] = qloop.create_future()
    service = RecordingSyncService(refused)
    controller, seen = _controller(service)
    assert controller.start()
    refused.set_exception(AlreadyRunning("Already syncing Home.", remedy="Wait for that sync to finish."))
    pump(lambda: not controller.is_running(), 5)
    assert seen["already_running"] == ["Already syncing Home. Wait for that sync to finish."]
    assert seen["sync_finished"] == []
