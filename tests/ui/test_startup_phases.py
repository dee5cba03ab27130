"""The two-phase start (so that the window is painted within the start-up budget of DESIGN §8): the window paints the cache's head before asyncio, qasync, the
services or the CLI are imported, then attaches to the context without a flicker; the entry point sends the
window's options to the window and everything else to the CLI.

Real caches filled by syncing demo servers over HTTP on loopback; phase 1 runs in a fresh interpreter.
Screenshot: test-artifacts/screenshots/startup_first_paint.png.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from app.cli.main import build_parser
from app.core.filters import TrackFilter, TrackSort
from app.entry import default_data_dir, gui_options
from app.services.context import AppContext
from app.storage import cache as storage_cache
from app.storage import default_data_dir as storage_default_data_dir
from app.storage import head as storage_head
from app.storage.head import read_head
from app.storage.tracks_query import order_by
from app.ui.main_window import MainWindow
from app.ui.models.track_model import COLUMNS, PAGE_SIZE, cell_text
from app.ui.pages.library_page import LibraryPage
from app.ui.widgets.status_footer import _escape
from tests.ui.conftest import SCREENSHOTS
from tests.ui.shell_fixtures import Shell, pump

REPO = Path(__file__).resolve().parents[2]
ROWS = 30


def _env(tmp: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": str(tmp / "config"),  # the window's QSettings: never the developer's own
    }
    env.pop("ZONDARR_DATA_DIR", None)
    return env


def _expected_rows(ctx: AppContext, n: int) -> list[list[str]]:
    tracks = ctx.tracks.query(TrackFilter(), TrackSort(), limit=n)
    return [[cell_text(t, c) for c in range(len(COLUMNS))] for t in tracks]


@pytest.fixture
def synced(shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any]) -> Iterator[Shell]:
    """A cache holding a Jellyfin and a Plex demo server (their titles interleave), synced over HTTP."""
    jelly = demo_factory("jellyfin", tracks=700, seed=11)
    plex = demo_factory("plex", tracks=500, seed=12)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_jellyfin(jelly)
    shell.add_plex(plex)
    shell.sync_now()
    yield shell


# ---- the head read straight from the file ---------------------------------------------------------------------


def test_head_is_the_default_views_count_and_first_page(synced: Shell) -> None:
    ctx = synced.ctx
    head = read_head(synced.data_dir, PAGE_SIZE)
    assert head is not None
    assert head.tracks == ctx.tracks.count(TrackFilter()) == 1200
    expected = ctx.tracks.query(TrackFilter(), TrackSort(), limit=PAGE_SIZE)
    assert [r.id for r in head.rows] == [t.id for t in expected]
    for row, track in zip(head.rows, expected, strict=True):
        assert [cell_text(row, c) for c in range(len(COLUMNS))] == [
            cell_text(track, c) for c in range(len(COLUMNS))
        ]
    assert {r.server for r in head.rows} == {"Demo Jellyfin", "Demo Plex"}
    synced_at = [s.last_synced_at for s in ctx.server_store.list() if s.last_synced_at is not None]
    assert head.last_synced_at == min(synced_at)


def test_head_sql_matches_the_stores_order_and_file_name() -> None:
    assert storage_head.ORDER_BY == order_by(TrackSort())
    assert storage_head.CACHE_FILE == storage_cache.FILE_NAME


def test_head_is_unknown_for_missing_empty_old_or_damaged_caches(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert read_head(missing, 10) is None
    assert not missing.exists()  # nothing created
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "cache.sqlite3").write_bytes(b"")
    assert read_head(empty, 10) is None
    old = tmp_path / "old"
    old.mkdir()
    with sqlite3.connect(old / "cache.sqlite3") as conn:
        conn.execute("CREATE TABLE tracks (id INTEGER PRIMARY KEY, title TEXT)")
        conn.execute("PRAGMA user_version=1")
    assert read_head(old, 10) is None
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "cache.sqlite3").write_bytes(b"not a database at all" * 100)
    assert read_head(damaged, 10) is None


def test_reading_the_head_writes_nothing(synced: Shell) -> None:
    synced.ctx.close()  # the file at rest, as a new process finds it
    path = synced.data_dir / "cache.sqlite3"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    head = read_head(synced.data_dir, 5)
    assert head is not None and len(head.rows) == 5
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_the_entry_default_data_dir_is_the_storage_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ZONDARR_DATA_DIR", raising=False)
    assert default_data_dir() == storage_default_data_dir()
    monkeypatch.setenv("ZONDARR_DATA_DIR", str(tmp_path / "x"))
    assert default_data_dir() == storage_default_data_dir() == tmp_path / "x"


# ---- phase 1 in a fresh interpreter ------------------------------------------------------------------------


def _probe(data_dir: Path, shot: Path, rows: int, tmp_path: Path) -> dict[str, Any]:
    """Runs phase 1 alone in a fresh interpreter (``tests/ui/startup_probe.py``); its JSON report."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ui.startup_probe", str(data_dir), str(shot), str(rows)],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_phase_one_paints_the_head_before_the_app_is_imported(synced: Shell, tmp_path: Path) -> None:
    expected = _expected_rows(synced.ctx, ROWS)
    synced.ctx.close()
    shot = SCREENSHOTS / "startup_first_paint.png"
    report = _probe(synced.data_dir, shot, ROWS, tmp_path)
    # PySide6 does not import asyncio itself: nothing of the loop, the services or the CLI is loaded yet.
    assert report["loaded"] == [], report["loaded"]
    assert report["rows"] == expected  # the first rows of the cache in title order, every column
    assert report["row_count"] == 1200 and report["count_label"] == "1,200 tracks…"
    assert report["footer"].startswith("1,200 tracks · synced ")
    assert report["top_row"] == 0 and report["visible_rows"] >= 10
    assert report["screenshot"] is True and shot.stat().st_size > 10_000


def test_phase_one_paints_the_loading_state_without_a_cache(tmp_path: Path) -> None:
    data_dir = tmp_path / "none"
    report = _probe(data_dir, tmp_path / "s.png", 1, tmp_path)
    assert report["row_count"] == 0 and report["count_label"] == "0 tracks…"
    assert not data_dir.exists()  # phase 1 creates nothing


# ---- phase 2: attach without a flicker --------------------------------------------------------------------


def test_attach_keeps_the_head_rows_and_fills_in_the_rest(
    synced: Shell, tmp_path: Path, qtbot: QtBot
) -> None:
    head = read_head(synced.data_dir, PAGE_SIZE)
    assert head is not None
    window = MainWindow(None, QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    synced.window = window  # the shell shuts it down
    window.resize(1180, 720)
    assert not window.attached
    assert window.show_head(head.tracks, head.rows, head.last_synced_at)
    window.show()
    qtbot.waitExposed(window)
    library = cast(LibraryPage, window.library)
    model = library.model
    footer = window.footer.text()
    first = [model.data(model.index(r, 0)) for r in range(ROWS)]
    window.refresh_action.trigger()  # before attach the actions wait: nothing happens, nothing breaks
    window.sidebar.setCurrentRow(1)
    window.sidebar.setCurrentRow(0)
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(library.snapshot_ready, timeout=20_000):
        window.attach(synced.ctx)
        window.start(background_jobs=False)
    assert resets == []  # the head stayed on screen: no reset, no flicker
    assert model.complete and model.rowCount() == 1200
    assert [model.data(model.index(r, 0)) for r in range(ROWS)] == first
    assert model.data(model.index(1199, 0)) == cell_text(
        synced.ctx.tracks.query(TrackFilter(), TrackSort(), limit=1, offset=1199)[0], 0
    )
    pump(lambda: window.sync.state.tracks == 1200, 10)
    assert window.footer.text() == footer  # the footer read by phase 2 says what phase 1 said
    assert window.stack.count() == 10 and library.filter_bar.count_label.text() == "1,200 tracks"


def test_a_restored_sort_order_gets_no_head(synced: Shell, tmp_path: Path, qtbot: QtBot) -> None:
    settings_path = tmp_path / "ui.ini"
    first = MainWindow(synced.ctx, QSettings(str(settings_path), QSettings.Format.IniFormat))
    synced.window = first
    cast(LibraryPage, first.library).view.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    first.close()  # saves the column state with its sort indicator
    head = read_head(synced.data_dir, PAGE_SIZE)
    assert head is not None
    second = MainWindow(None, QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.show_head(head.tracks, head.rows, head.last_synced_at) is False  # title order: wrong rows
    assert cast(LibraryPage, second.library).model.rowCount() == 0


# ---- the entry point ----------------------------------------------------------------------------------------

_GUI_TOKENS = st.lists(
    st.one_of(
        st.sampled_from(["--demo", "--self-test", "--hidden"]),
        st.tuples(st.just("--data-dir"), st.sampled_from(["/tmp/z", "rel/dir", "", "a b", "-x"])),
        st.sampled_from(["--data-dir=/tmp/q", "--data-dir=", "--dem", "--self", "-h", "--version", "sync"]),
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(_GUI_TOKENS)
def test_the_window_options_parse_as_the_cli_parses_them(tokens: list[Any]) -> None:
    argv = [x for t in tokens for x in (t if isinstance(t, tuple) else (t,))]
    options = gui_options(argv)
    if options is None:
        return  # the CLI's own parser gets these
    args = build_parser().parse_args(argv)
    assert args.command is None
    assert (args.data_dir, args.demo, args.self_test, args.hidden) == tuple(options)


def test_anything_but_window_options_goes_to_the_cli(tmp_path: Path) -> None:
    for argv in (["tracks", "--help"], ["--data-dir", str(tmp_path), "server", "list"], ["--help"]):
        assert gui_options(argv) is None
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--help"], cwd=REPO, env=_env(tmp_path), capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.split() == build_parser().format_help().split()  # every command, as before
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path / "d"), "tracks", "--help"],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "--min-rating" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path / "d"), "server", "list", "--json"],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


@given(st.text())
def test_the_footer_escapes_as_html_escape(text: str) -> None:
    assert _escape(text) == html.escape(text)
