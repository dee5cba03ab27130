"""Python's cyclic garbage collection runs on the GUI thread only (app.process.GuiThreadCollector): Qt objects in
a reference cycle are destroyed on the thread they live in, never on a net or db thread that happened to
allocate past the collector's threshold (Qt: "Timers cannot be stopped from another thread", at worst a crash)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.process import GuiThreadCollector

REPO = Path(__file__).resolve().parents[2]


def _probe(mode: str) -> tuple[list[str], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ui.offthread_garbage_probe", mode],
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])["destroyed_on"], proc.stderr


def test_without_it_a_worker_thread_destroys_qt_objects_of_the_gui_thread() -> None:
    """The hazard itself, so that the next test can fail: automatic collection ran on the allocating thread (Qt
    warns for each timer; their ``destroyed`` signal, emitted there, does not reach Python)."""
    destroyed_on, stderr = _probe("plain")
    assert "MainThread" not in destroyed_on
    assert stderr.count("Timers cannot be stopped from another thread") >= 5


def test_with_it_qt_garbage_is_destroyed_on_the_gui_thread() -> None:
    destroyed_on, stderr = _probe("collector")
    assert destroyed_on == ["MainThread"] * 5
    assert "from another thread" not in stderr


@pytest.fixture
def collector() -> GuiThreadCollector:
    was = gc.isenabled()
    yield GuiThreadCollector()
    gc.enable() if was else gc.disable()


def test_started_it_turns_automatic_collection_off_and_stop_restores_it(
    collector: GuiThreadCollector,
) -> None:
    gc.enable()
    collector.start()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
    gc.disable()
    collector.start()
    collector.stop()
    assert not gc.isenabled()  # it was off before: it stays off


def test_collect_due_runs_the_generation_python_would_and_on_the_calling_thread(
    collector: GuiThreadCollector,
) -> None:
    seen: list[tuple[str, int]] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append((threading.current_thread().name, info["generation"]))

    gc.enable()
    collector.start()
    gc.callbacks.append(record)
    try:
        gc.collect()
        seen.clear()
        assert collector.collect_due() is None  # nothing allocated since
        threshold0, threshold1, _ = gc.get_threshold()
        garbage = [[] for _ in range(threshold0 + 10)]
        worker = threading.Thread(target=lambda: [[] for _ in range(50_000)], name="net-0")
        worker.start()
        worker.join()
        assert seen == []  # the worker allocated far past the threshold: no collection ran there
        assert collector.collect_due() == 0
        assert seen == [("MainThread", 0)]
        for _ in range(threshold1 + 2):
            garbage.extend(
                [] for _ in range(threshold0 + 10)
            )  # kept: the count grows by the threshold each time
            if collector.collect_due() == 1:
                break
        # After more than threshold1 young collections, the middle generation's turn.
        assert seen[-1] == ("MainThread", 1)
        assert set(seen[:-1]) == {("MainThread", 0)} and len(seen) > threshold1
    finally:
        gc.callbacks.remove(record)
        collector.stop()
