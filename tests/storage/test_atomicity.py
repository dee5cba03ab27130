"""Readers never see a half-merged library; a killed process leaves the previous data intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from app.core.filters import TrackFilter, TrackSort
from app.core.models import MergeCounts, RemoteLibrary
from app.storage import Cache, open_cache
from tests.storage.conftest import add_server, sync, track

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(cache: Cache) -> list[tuple[str, str, float | None]]:
    return [(t.remote_id, t.title, t.rating) for t in cache.tracks.query(TrackFilter(), TrackSort())]


def test_reader_sees_old_data_during_staging_and_new_after_commit(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("a", "Old")]})
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_tracks(s.id, "1", [track("a", "New"), track("b", "Added")])
    seen: list[list[tuple[str, str, float | None]]] = []
    t = threading.Thread(target=lambda: seen.append(_snapshot(cache)))
    t.start()
    t.join()
    assert seen == [[("a", "Old", None)]]
    cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "L")], ["1"], ["1"])
    t = threading.Thread(target=lambda: seen.append(_snapshot(cache)))
    t.start()
    t.join()
    assert seen[1] == [("b", "Added", None), ("a", "New", None)]


def test_concurrent_readers_see_all_or_nothing(cache: Cache) -> None:
    s = add_server(cache)
    old = [track(str(i), "old") for i in range(2000)]
    sync(cache, s.id, {"1": old})
    stop = threading.Event()
    views: set[tuple[int, frozenset[str]]] = set()

    def read() -> None:
        while not stop.is_set():
            rows = _snapshot(cache)
            views.add((len(rows), frozenset(title for _, title, _ in rows)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for title in ("new", "old", "new"):
            sync(cache, s.id, {"1": [track(str(i), title) for i in range(2000)]})
    finally:
        stop.set()
        reader.join()
    assert len(views) >= 1 and views <= {(2000, frozenset({"old"})), (2000, frozenset({"new"}))}


_CHILD = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from app.core.models import RemoteLibrary, TrackRecord
from app.storage import open_cache
cache = open_cache(Path({data!r}))
sid = cache.servers.get_by_name("Home").id
cache.tracks.begin_staging(sid)
batch = 0
while True:
    tracks = [TrackRecord(str(batch * 2000 + i), "changed " + str(i), rating=5.0) for i in range(2000)]
    cache.tracks.stage_tracks(sid, "1", tracks)
    batch += 1
    if {phase!r} == "stage":
        print("staging", flush=True)
    elif batch == 40:
        print("committing", flush=True)
        cache.tracks.commit_staging(sid, [RemoteLibrary("1", "L")], ["1"], ["1"])
        print("committed", flush=True)
        break
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("phase", ["stage", "commit"])
def test_sigkill_leaves_previous_data_intact(data_dir: Path, phase: str) -> None:
    with open_cache(data_dir) as c:
        s = add_server(c)
        sync(c, s.id, {"1": [track(str(i), f"original {i}", genres=("Rock",)) for i in range(300)]})
        before = _snapshot(c)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_CHILD.format(root=str(ROOT), data=str(data_dir), phase=phase)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == ("staging" if phase == "stage" else "committing")
        time.sleep(0.1)  # inside the merge of 80,000 staged rows (about a second or more)
        os.kill(child.pid, signal.SIGKILL)
        rest = child.stdout.read()
    finally:
        child.wait()
    assert "committed" not in rest, "the kill came too late to test anything"
    with open_cache(data_dir) as c:
        assert c.integrity_check() == "ok"
        assert _snapshot(c) == before
        assert c.tracks.count(TrackFilter(genre="Rock", search="original")) == 300
        # the next run drops the dead run's staged rows
        sid = c.servers.get_by_name("Home").id
        assert sync(c, sid, {"1": [track("0", "original 0", genres=("Rock",))]}, complete=[]) == MergeCounts(
            unchanged=1
        )
