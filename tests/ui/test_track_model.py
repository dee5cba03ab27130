"""TrackTableModel over a real cache synced from demo servers: Qt's model rules (qtmodeltester), lazy paged
reads through an LRU, the last request wins, and the roles data() answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import Track
from app.core.ports import TrackStore
from app.services.context import AppContext
from app.ui.models.track_model import COLUMNS, TrackTableModel, cell_text, format_duration, format_rating
from tests.ui.library_fixtures import all_tracks_fixture, library_ctx_fixture, reference_ids  # noqa: F401


class SpyStore:
    """Wraps the real TrackStore and records how the model uses it. Only ``ids``, ``get_many``, ``count`` and
    ``query`` with a small limit are allowed: the model must never read the whole table."""

    def __init__(self, real: TrackStore) -> None:
        self.real = real
        self.get_many_sizes: list[int] = []
        self.ids_threads: list[str] = []
        self.query_limits: list[int | None] = []
        self.hidden: set[int] = set()  # ids that get_many pretends were deleted
        self.ids_delay = 0.0  # seconds ids() takes extra (a big cache)
        self.ids_drop = 0  # ids() leaves out its first N ids (the cache changed between two reads)

    def ids(self, flt: TrackFilter, sort: TrackSort) -> Sequence[int]:
        self.ids_threads.append(threading.current_thread().name)
        time.sleep(self.ids_delay)
        return self.real.ids(flt, sort)[self.ids_drop :]

    def count(self, flt: TrackFilter) -> int:
        return self.real.count(flt)

    def query(
        self, flt: TrackFilter, sort: TrackSort, limit: int | None = None, offset: int = 0
    ) -> list[Track]:
        self.query_limits.append(limit)
        assert limit is not None and limit <= 200 and offset == 0
        return self.real.query(flt, sort, limit, offset)

    def get_many(self, ids: Sequence[int]) -> list[Track]:
        self.get_many_sizes.append(len(ids))
        return [t for t in self.real.get_many(ids) if t.id not in self.hidden]

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the model called TrackStore.{name}")


def _model(ctx: AppContext, store: Any, qtbot: QtBot, *, quick: bool = False, **kw: Any) -> TrackTableModel:
    model = TrackTableModel(store, ctx.runner, **kw)
    with qtbot.waitSignal(model.snapshot_applied, timeout=20000):
        model.set_view(TrackFilter(), TrackSort(), quick=quick)
    return model


@pytest.fixture
def spy(library_ctx: AppContext) -> SpyStore:
    return SpyStore(library_ctx.tracks)


def test_qtmodeltester_python_checks_pass_across_resets(
    qtbot: QtBot,
    qtmodeltester: Any,
    library_ctx: AppContext,
    spy: SpyStore,
) -> None:
    model = _model(library_ctx, spy, qtbot)
    qtmodeltester.check(model, force_py=True)  # re-runs its checks on every reset below
    spy.ids_delay = 0.2  # the quick first page lands first: a head reset, then the rows fill in
    for flt in (TrackFilter(search="zzzzqqq"), TrackFilter(genre="Rock"), TrackFilter()):
        with qtbot.waitSignal(model.snapshot_applied, timeout=20000):
            model.set_view(flt, TrackSort(SortColumn.ARTIST, descending=True), quick=True)
    assert model.rowCount() == len(library_ctx.tracks.ids(TrackFilter(), TrackSort()))


def test_qt_cpp_model_tester_reports_nothing(
    qtbot: QtBot,
    qtmodeltester: Any,
    qtlog: Any,
    library_ctx: AppContext,
    spy: SpyStore,
) -> None:
    model = _model(library_ctx, spy, qtbot)
    qtmodeltester.check(model)
    with qtbot.waitSignal(model.snapshot_applied, timeout=20000):
        model.set_view(TrackFilter(decade=1990), TrackSort(SortColumn.YEAR))
    for row in (0, model.rowCount() // 2, model.rowCount() - 1):
        for col in range(model.columnCount()):
            model.data(model.index(row, col))
    complaints = [r.message for r in qtlog.records if "FAIL" in r.message or "ModelTester" in r.message]
    assert complaints == []


def test_rows_come_by_primary_key_in_pages_into_a_bounded_lru(
    qtbot: QtBot,
    library_ctx: AppContext,
    spy: SpyStore,
    all_tracks: list[Track],
) -> None:
    model = _model(library_ctx, spy, qtbot, page_size=100, max_pages=4)
    assert spy.ids_threads and all(name.startswith("db-read") for name in spy.ids_threads)
    by_id = {t.id: t for t in all_tracks}
    rows = model.rowCount()
    assert rows == len(all_tracks)
    for row in range(rows):  # every row, every column, in order: like scrolling to the end
        track = by_id[model.track_id(row)]  # type: ignore[index]
        for col in range(len(COLUMNS)):
            assert model.data(model.index(row, col)) == cell_text(track, col)
        assert model.cached_pages <= 4
        assert model.cached_rows <= 400
    assert max(spy.get_many_sizes) <= 100
    assert model.page_loads == len(spy.get_many_sizes) == -(-rows // 100)  # each page read exactly once
    # Jumping back to the first page: it was evicted, so it is read again.
    model.data(model.index(0, 0))
    assert model.page_loads == -(-rows // 100) + 1
    # A page still in the LRU is not read again.
    model.data(model.index(rows - 1, 0))
    assert model.page_loads == -(-rows // 100) + 1


def test_the_last_request_wins(
    qtbot: QtBot,
    library_ctx: AppContext,
    spy: SpyStore,
    all_tracks: list[Track],
) -> None:
    model = _model(library_ctx, spy, qtbot)
    applied: list[dict[int, int]] = []
    model.snapshot_applied.connect(applied.append)
    requests = [
        (TrackFilter(genre="Jazz"), TrackSort(SortColumn.TITLE)),
        (TrackFilter(decade=1970), TrackSort(SortColumn.YEAR, True)),
        (TrackFilter(server="plex home", exclude_live=True), TrackSort(SortColumn.DURATION)),
    ]
    tasks = [model.set_view(flt, sort) for flt, sort in requests]
    qtbot.waitUntil(lambda: all(t.done() for t in tasks), timeout=20000)
    assert [t.cancelled() for t in tasks] == [True, True, False]
    assert len(applied) == 1
    flt, sort = requests[-1]
    assert list(model.ids) == reference_ids(all_tracks, flt, sort)
    assert (model.track_filter, model.track_sort) == (flt, sort)


def test_a_quick_first_page_shows_before_the_id_snapshot_and_the_rest_fills_in(
    qtbot: QtBot, library_ctx: AppContext, spy: SpyStore, all_tracks: list[Track]
) -> None:
    model = _model(library_ctx, spy, qtbot)
    spy.ids_delay = 0.5  # like 1,000,000 ids
    resets: list[int] = []
    changed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(model.rowCount()))
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    sort = TrackSort(SortColumn.YEAR, descending=True)
    expected = reference_ids(all_tracks, TrackFilter(), sort)
    with qtbot.waitSignal(model.head_applied, timeout=20000) as head:
        task = model.set_view(TrackFilter(), sort, quick=True)
    assert head.args == [len(expected)] and not task.done() and not model.complete
    assert model.rowCount() == len(expected)
    assert [model.track_id(r) for r in range(200)] == expected[:200]
    by_id = {t.id: t for t in all_tracks}
    assert model.data(model.index(199, 0)) == by_id[expected[199]].title
    assert model.data(model.index(200, 0)) == "" and model.track_id(200) is None  # not known yet
    with qtbot.waitSignal(model.snapshot_applied, timeout=20000):
        pass
    assert list(model.ids) == expected and model.complete
    assert resets == [len(expected)]  # one reset (the head); the rest came as dataChanged
    assert changed == [(200, len(expected) - 1)]
    assert model.data(model.index(200, 0)) == by_id[expected[200]].title
    assert all(limit == 200 for limit in spy.query_limits)


def test_a_first_page_that_no_longer_matches_is_replaced_by_a_reset(
    qtbot: QtBot, library_ctx: AppContext, spy: SpyStore, all_tracks: list[Track]
) -> None:
    model = _model(library_ctx, spy, qtbot)
    spy.ids_delay, spy.ids_drop = 0.3, 1  # a sync committed between the two reads
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(model.rowCount()))
    with qtbot.waitSignal(model.snapshot_applied, timeout=20000):
        model.set_view(TrackFilter(), TrackSort(), quick=True)
    assert resets == [len(all_tracks), len(all_tracks) - 1]
    assert list(model.ids) == reference_ids(all_tracks, TrackFilter(), TrackSort())[1:]


def test_snapshot_reports_where_kept_ids_landed(
    qtbot: QtBot,
    library_ctx: AppContext,
    spy: SpyStore,
    all_tracks: list[Track],
) -> None:
    model = _model(library_ctx, spy, qtbot)
    keep = {model.track_id(5), model.track_id(2500), -1}
    sort = TrackSort(SortColumn.RATING, descending=True)
    with qtbot.waitSignal(model.snapshot_applied, timeout=20000) as blocker:
        model.set_view(TrackFilter(), sort, keep)  # type: ignore[arg-type]
    positions = blocker.args[0]
    expected = reference_ids(all_tracks, TrackFilter(), sort)
    assert positions == {i: expected.index(i) for i in keep if i in expected}
    assert -1 not in positions


def test_data_answers_only_its_roles(qtbot: QtBot, library_ctx: AppContext, spy: SpyStore) -> None:
    model = _model(library_ctx, spy, qtbot)
    idx = model.index(0, 0)
    for role in (
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.EditRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.CheckStateRole,
        Qt.ItemDataRole.SizeHintRole,
        Qt.ItemDataRole.UserRole,
    ):
        assert model.data(idx, role) is None
    reads = len(spy.get_many_sizes)
    model.data(model.index(model.rowCount() - 1, 3), Qt.ItemDataRole.DecorationRole)
    assert len(spy.get_many_sizes) == reads  # roles it does not answer never read rows
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    aligns = [model.data(model.index(0, c), Qt.ItemDataRole.TextAlignmentRole) for c in range(len(COLUMNS))]
    assert [a == right for a in aligns] == [False, False, False, False, False, True, True, True]
    track = model.track_at(0)
    assert track is not None and track.title in model.data(idx, Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole) == track.server  # elided text: whole
    assert model.data(model.index(0, 6), Qt.ItemDataRole.ToolTipRole) is None  # numbers are never cut
    assert model.data(QModelIndex()) is None
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))] == [
        "Title", "Server", "Artist", "Album", "Genre", "Year", "Rating", "Duration",
    ]  # fmt: skip


def test_tracks_deleted_since_the_snapshot_show_as_empty_rows(
    qtbot: QtBot,
    library_ctx: AppContext,
    spy: SpyStore,
) -> None:
    model = _model(library_ctx, spy, qtbot)
    gone = model.track_id(3)
    assert gone is not None
    spy.hidden.add(gone)
    assert model.track_at(3) is None
    assert [model.data(model.index(3, c)) for c in range(len(COLUMNS))] == [""] * len(COLUMNS)
    assert model.data(model.index(4, 0)) != ""


def test_header_sort_maps_every_column(
    qtbot: QtBot, library_ctx: AppContext, spy: SpyStore, all_tracks: list[Track]
) -> None:
    model = _model(library_ctx, spy, qtbot)
    expected_columns = [
        SortColumn.TITLE, SortColumn.SERVER, SortColumn.ARTIST, SortColumn.ALBUM, SortColumn.GENRE,
        SortColumn.YEAR, SortColumn.RATING, SortColumn.DURATION,
    ]  # fmt: skip
    for col, column in enumerate(expected_columns):
        with qtbot.waitSignal(model.snapshot_applied, timeout=20000):
            model.sort(col, Qt.SortOrder.DescendingOrder)
        assert model.track_sort == TrackSort(column, descending=True)
        assert list(model.ids) == reference_ids(all_tracks, TrackFilter(), TrackSort(column, True))


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, ""), (0, "0:00"), (999, "0:00"), (61_000, "1:01"), (599_999, "9:59"), (3_600_000, "1:00:00"),
     (3_725_000, "1:02:05")],
)  # fmt: skip
def test_duration_is_minutes_and_seconds(ms: int | None, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(
    ("rating", "text"), [(None, ""), (0.0, "0"), (7.5, "7.5"), (10.0, "10"), (8.25, "8.2")]
)
def test_rating_text(rating: float | None, text: str) -> None:
    assert format_rating(rating) == text
