"""`python -m app --self-test` in a subprocess (offscreen) against a small real cache: exit code 0 and ONE JSON
line; and the single-instance guard between two real GUI processes (the second exits 0, the first shuts down
cleanly on SIGTERM — no segfault at exit)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.filters import TrackFilter
from tests.ui.shell_fixtures import Shell

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.pop("ZONDARR_DATA_DIR", None)
    return env


def _run_app(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m app ARGS``; on a hang, SIGABRT makes faulthandler print every thread's stack."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env={**_env(), "PYTHONFAULTHANDLER": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=30)
        raise AssertionError(f"python -m app {' '.join(args)} hung:\n{out}\n{err}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _small_cache(shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]) -> tuple[Path, int]:
    jelly = demo_factory("jellyfin", tracks=1200)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    count = shell.ctx.tracks.count(TrackFilter())
    shell.close()
    return shell.data_dir, count


def test_self_test_prints_one_json_line_and_exits_0(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], tmp_path: Path
) -> None:
    data_dir, count = _small_cache(shell_factory, demo_factory)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), "--self-test"],
        cwd=REPO,
        # its own window settings: no restored sort order, so the cache's head is what phase 1 paints
        env={**_env(), "XDG_CONFIG_HOME": str(tmp_path / "config")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    report = json.loads(lines[0])
    assert set(report) == {"startup_ms", "ready_ms", "tracks", "rss_mb"}
    assert report["tracks"] == count == 1200
    assert 0 < report["startup_ms"] <= report["ready_ms"] < 30_000 and 20 < report["rss_mb"] < 2_000


def test_self_test_on_an_empty_cache_reports_zero_tracks(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path / "empty"), "--self-test"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip())["tracks"] == 0


def test_second_launch_raises_the_first_and_exits_0(tmp_path: Path) -> None:
    data_dir = tmp_path / "one"
    cmd = [sys.executable, "-m", "app", "--data-dir", str(data_dir)]
    first = subprocess.Popen(
        cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The guard listens before anything opens the cache (app/main.py), so once the cache file exists the
        # first instance answers a knock (the OS queues it until its event loop reads it).
        deadline = time.monotonic() + 20
        while not (data_dir / "cache.sqlite3").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.poll() is None
        second = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=30)
        assert second.returncode == 0, second.stderr
        assert "already open" in second.stderr
        assert "locked" not in second.stderr.lower()
    finally:
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err  # a clean shutdown, not 139


def test_the_readme_main_job_opens_the_window_on_demo_servers_and_syncs_them(tmp_path: Path) -> None:
    # `zondarr --demo` (the README's first command): demo Plex + Jellyfin start in-process, are added, and the
    # first sync runs through the modal dialog; SIGTERM (what closing the session sends) then ends it cleanly.
    data_dir = tmp_path / "home"
    cache = data_dir / "demo-gui" / "cache.sqlite3"
    env = {**_env(), "ZONDARR_DEMO_TRACKS": "300", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    app = subprocess.Popen(
        [sys.executable, "-m", "app", "--demo", "--data-dir", str(data_dir)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state: tuple[int, list[tuple[str, str]]] = (0, [])
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and app.poll() is None:
            state = _demo_state(cache)
            if state[0] == 600 and len(state[1]) == 2:
                break
            time.sleep(0.25)
        assert app.poll() is None, "the window closed by itself"
    finally:
        app.send_signal(signal.SIGTERM)
        out, err = app.communicate(timeout=30)
    assert state == (600, [("Demo Jellyfin", "succeeded"), ("Demo Plex", "succeeded")]), (state, err)
    assert app.returncode == 0, err
    assert "Traceback" not in err
    assert "from another thread" not in err  # no Qt object destroyed off its thread (app/process.py)


def _demo_state(cache: Path) -> tuple[int, list[tuple[str, str]]]:
    """(cached tracks, [(server, status) of finished start-up syncs]) read from the demo cache; (0, []) until the
    file and its tables exist."""
    import sqlite3

    if not cache.exists():
        return 0, []
    try:
        conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
        try:
            tracks = int(conn.execute("SELECT count(*) FROM tracks").fetchone()[0])
            runs = conn.execute(
                "SELECT s.name, r.status FROM sync_runs r JOIN servers s ON s.id = r.server_id "
                "WHERE r.finished_at IS NOT NULL ORDER BY s.name"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0, []
    return tracks, [(str(n), str(st)) for n, st in runs]
