"""The Library page driven through its real widgets over a real cache synced from demo servers over HTTP.

Every view is compared row for row (in order) with a brute-force filter + sort over all cached tracks
(``tests/storage/reference.py``). Screenshots go to test-artifacts/screenshots/library-*.png.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QHeaderView
from pytestqt.qtbot import QtBot

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import Track
from app.services.context import AppContext
from app.services.export import TRACK_COLUMNS, write_tracks_csv
from app.ui.models.track_model import SORT_COLUMNS, cell_text
from app.ui.pages.library_page import LibraryPage
from app.ui.widgets.filter_bar import DECADES
from tests.ui.conftest import screenshot
from tests.ui.library_fixtures import all_tracks_fixture, library_ctx_fixture, reference_ids  # noqa: F401

WAIT_MS = 20000


@pytest.fixture
def page(qtbot: QtBot, library_ctx: AppContext) -> Iterator[LibraryPage]:
    p = LibraryPage(library_ctx)
    qtbot.addWidget(p)
    p.resize(1280, 640)
    with qtbot.waitSignal(p.snapshot_ready, timeout=WAIT_MS):
        p.show()
    qtbot.waitExposed(p)
    qtbot.waitUntil(lambda: p.filter_bar.server_combo.count() == 3 and p.filter_bar.genre_combo.count() > 5)
    yield p
    p.shutdown()


def settle(qtbot: QtBot, page: LibraryPage, expected: TrackFilter | None = None) -> None:
    """Waits until the debounce has fired and no snapshot is in flight (and the model has ``expected``)."""
    qtbot.waitUntil(
        lambda: (
            not page.filter_bar._debounce.isActive()
            and not page.model.loading
            and (expected is None or page.model.track_filter == expected)
        ),
        timeout=WAIT_MS,
    )


def assert_view_is(page: LibraryPage, tracks: list[Track], flt: TrackFilter, sort: TrackSort) -> list[int]:
    expected = reference_ids(tracks, flt, sort)
    assert (page.model.track_filter, page.model.track_sort) == (flt, sort)
    assert list(page.model.ids) == expected
    by_id = {t.id: t for t in tracks}
    for row in {0, len(expected) // 2, len(expected) - 1} & set(range(len(expected))):  # what is painted
        shown = [page.model.data(page.model.index(row, c)) for c in range(8)]
        assert shown == [cell_text(by_id[expected[row]], c) for c in range(8)]
    count = page.filter_bar.count_label.text()
    assert count == (f"{len(expected):,} track" if len(expected) == 1 else f"{len(expected):,} tracks")
    return expected


def click_header(qtbot: QtBot, page: LibraryPage, section: int) -> None:
    header = page.view.horizontalHeader()
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def click_row(
    qtbot: QtBot, page: LibraryPage, row: int, modifier: Any = Qt.KeyboardModifier.NoModifier
) -> None:
    page.view.scrollTo(page.model.index(row, 0))
    rect = page.view.visualRect(page.model.index(row, 1))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def choose(combo: Any, value: object) -> None:
    index = combo.findData(value) if value is not None else 0
    assert index >= 0, value
    combo.setCurrentIndex(index)


def test_filters_search_and_sort_through_the_widgets_match_brute_force(
    qtbot: QtBot,
    page: LibraryPage,
    all_tracks: list[Track],
) -> None:
    bar = page.filter_bar
    assert_view_is(page, all_tracks, TrackFilter(), TrackSort())
    assert bar.count_label.text() == "4,000 tracks"

    choose(bar.server_combo, "Jelly")
    settle(qtbot, page, TrackFilter(server="Jelly"))
    assert_view_is(page, all_tracks, TrackFilter(server="Jelly"), TrackSort())

    bar.genre_combo.setCurrentIndex(bar.genre_combo.findText("Rock"))
    flt = TrackFilter(server="Jelly", genre="Rock")
    settle(qtbot, page, flt)
    rock = assert_view_is(page, all_tracks, flt, TrackSort())

    click_header(qtbot, page, SORT_COLUMNS.index("year"))
    settle(qtbot, page)
    first = page.model.track_sort
    assert first.column is SortColumn.YEAR
    assert_view_is(page, all_tracks, flt, first)
    click_header(qtbot, page, SORT_COLUMNS.index("year"))  # again: the other direction
    settle(qtbot, page)
    assert page.model.track_sort == TrackSort(SortColumn.YEAR, not first.descending)
    assert page.view.horizontalHeader().sortIndicatorSection() == SORT_COLUMNS.index("year")
    assert_view_is(page, all_tracks, flt, page.model.track_sort)

    by_id = {t.id: t for t in all_tracks}
    word = next(w for i in rock if len(w := by_id[i].title.split()[0]) >= 3 and w.isalpha())[:3]
    bar.search_edit.setFocus()
    qtbot.keyClicks(bar.search_edit, word)
    flt = TrackFilter(server="Jelly", genre="Rock", search=word)
    settle(qtbot, page, flt)
    found = assert_view_is(page, all_tracks, flt, page.model.track_sort)
    assert 0 < len(found) < len(rock)

    bar.live_check.click()
    settle(qtbot, page, TrackFilter(server="Jelly", genre="Rock", search=word, exclude_live=True))
    assert_view_is(page, all_tracks, page.model.track_filter, page.model.track_sort)

    choose(bar.decade_combo, 1970)
    choose(bar.rating_combo, 5)
    settle(qtbot, page, TrackFilter("Jelly", "Rock", 1970, 5, True, word))
    assert_view_is(page, all_tracks, page.model.track_filter, page.model.track_sort)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    server=st.sampled_from([None, "Jelly", "plex home"]),
    genre=st.sampled_from([None, "Rock", "Jazz", "Pop", "World", "Metal"]),
    decade=st.sampled_from([None, *DECADES]),
    min_rating=st.sampled_from([None, 1, 3, 5, 8, 10]),
    exclude_live=st.booleans(),
    search=st.sampled_from([None, "a", "lo", "the", "live", "Über", "월", "m b", "zzzq"]),
    column=st.integers(0, 7),
    descending=st.booleans(),
)
def test_any_filter_combination_matches_brute_force(
    qtbot: QtBot,
    page: LibraryPage,
    all_tracks: list[Track],
    server: str | None,
    genre: str | None,
    decade: int | None,
    min_rating: int | None,
    exclude_live: bool,
    search: str | None,
    column: int,
    descending: bool,
) -> None:
    bar = page.filter_bar
    choose(bar.server_combo, server)
    choose(bar.genre_combo, genre)
    choose(bar.decade_combo, decade)
    choose(bar.rating_combo, min_rating)
    bar.live_check.setChecked(exclude_live)
    bar.search_edit.setText(search or "")
    qtbot.keyClick(bar.search_edit, Qt.Key.Key_Return)
    order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
    page.view.horizontalHeader().setSortIndicator(column, order)
    flt = TrackFilter(server, genre, decade, min_rating, exclude_live, search)
    settle(qtbot, page, flt)
    assert_view_is(page, all_tracks, flt, TrackSort(SortColumn(SORT_COLUMNS[column]), descending))


def test_search_waits_for_a_pause_in_typing(qtbot: QtBot, page: LibraryPage, all_tracks: list[Track]) -> None:
    snapshots: list[int] = []
    page.snapshot_ready.connect(snapshots.append)
    qtbot.keyClicks(page.filter_bar.search_edit, "love")
    assert page.filter_bar._debounce.isActive()
    assert page.model.track_filter == TrackFilter()  # nothing requested while typing
    settle(qtbot, page, TrackFilter(search="love"))
    qtbot.wait(300)
    assert len(snapshots) == 1
    assert_view_is(page, all_tracks, TrackFilter(search="love"), TrackSort())


def test_selection_is_kept_by_id_across_reload_and_sort(
    qtbot: QtBot,
    page: LibraryPage,
    all_tracks: list[Track],
) -> None:
    counts: list[int] = []
    page.selection_changed.connect(counts.append)
    click_row(qtbot, page, 3)
    click_row(qtbot, page, 10, Qt.KeyboardModifier.ControlModifier)
    click_row(qtbot, page, 2002, Qt.KeyboardModifier.ControlModifier)
    click_row(qtbot, page, 2004, Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
    chosen = [page.model.track_id(r) for r in (3, 10, 2002, 2003, 2004)]
    assert page.selected_ids() == chosen
    assert counts[-1] == 5
    page.view.scrollTo(page.model.index(1500, 0), page.view.ScrollHint.PositionAtTop)
    top = page.view.rowAt(0)
    assert top > 1000

    with qtbot.waitSignal(page.snapshot_ready, timeout=WAIT_MS):
        page.reload()
    assert page.selected_ids() == chosen
    assert page.view.rowAt(0) == top  # the same track stays at the top
    assert counts[-1] == 5

    click_header(qtbot, page, SORT_COLUMNS.index("artist"))  # every selected track moves, and stays selected
    settle(qtbot, page)
    assert page.model.track_sort.column is SortColumn.ARTIST
    assert sorted(page.selected_ids()) == sorted(chosen)  # type: ignore[type-var]
    rows = sorted(list(page.model.ids).index(i) for i in chosen)  # type: ignore[arg-type]
    assert [page.model.track_id(r) for r in rows] == page.selected_ids()
    assert page.selected_count() == 5

    # A filter that drops some of them keeps the rest selected.
    keep = {t.id for t in all_tracks if t.server == "Jelly"}
    choose(page.filter_bar.server_combo, "Jelly")
    settle(qtbot, page, TrackFilter(server="Jelly"))
    assert set(page.selected_ids()) == {i for i in chosen if i in keep}
    assert counts[-1] == len({i for i in chosen if i in keep})


def test_ctrl_f_focuses_the_search_field(qtbot: QtBot, page: LibraryPage) -> None:
    page.activateWindow()
    page.view.setFocus()
    qtbot.waitUntil(page.view.hasFocus)
    qtbot.keyClick(page.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(page.filter_bar.search_edit.hasFocus)
    page.view.setFocus()
    page.focus_search()
    assert page.filter_bar.search_edit.hasFocus()


def _expected_csv(all_tracks: list[Track], ids: list[int]) -> str:
    by_id = {t.id: t for t in all_tracks}
    out = io.StringIO(newline="")
    write_tracks_csv((by_id[i] for i in ids), out)
    return out.getvalue()


def test_export_writes_every_row_of_the_view(
    qtbot: QtBot,
    page: LibraryPage,
    all_tracks: list[Track],
    tmp_path: Path,
) -> None:
    choose(page.filter_bar.genre_combo, "Jazz")
    page.view.horizontalHeader().setSortIndicator(SORT_COLUMNS.index("rating"), Qt.SortOrder.DescendingOrder)
    flt, sort = TrackFilter(genre="Jazz"), TrackSort(SortColumn.RATING, True)
    settle(qtbot, page, flt)
    ids = assert_view_is(page, all_tracks, flt, sort)
    target = tmp_path / "jazz.csv"
    with qtbot.waitSignal(page.export_finished, timeout=WAIT_MS) as blocker:
        page.export_csv(target)
    assert blocker.args == [len(ids), str(target)]
    text = target.open(encoding="utf-8", newline="").read()
    assert text == _expected_csv(all_tracks, ids)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == TRACK_COLUMNS and len(rows) == len(ids) + 1
    assert page.toast_label.isVisible() and f"Exported {len(ids):,} tracks" in page.toast_label.text()
    assert page.export_button.isEnabled()


def test_export_without_a_path_asks_with_a_non_blocking_dialog(
    qtbot: QtBot,
    page: LibraryPage,
    all_tracks: list[Track],
    tmp_path: Path,
) -> None:
    page.filter_bar.search_edit.setText("the")
    settle(qtbot, page, TrackFilter(search="the"))
    page.export_csv()  # returns at once: the dialog is opened with open(), not exec()
    dialog = page.findChild(QFileDialog, "libraryExportDialog")
    assert dialog is not None and dialog.isVisible() and dialog.isModal()
    target = tmp_path / "the-view"
    with qtbot.waitSignal(page.export_finished, timeout=WAIT_MS):
        dialog.selectFile(str(target))
        dialog.accept()
    written = tmp_path / "the-view.csv"  # the default suffix is added
    assert written.open(encoding="utf-8", newline="").read() == _expected_csv(
        all_tracks, list(page.model.ids)
    )


def test_scrolling_through_every_row_keeps_the_row_cache_bounded(qtbot: QtBot, page: LibraryPage) -> None:
    model = page.model
    model.max_pages = 5  # 1,000 rows of 4,000: scrolling must evict
    loads = model.page_loads
    bar = page.view.verticalScrollBar()
    step = max(1, bar.pageStep())
    for value in range(0, bar.maximum() + step, step):
        bar.setValue(min(value, bar.maximum()))
        page.view.viewport().repaint()
        assert model.cached_pages <= 5 and model.cached_rows <= 1000
    assert page.view.rowAt(page.view.viewport().height() - 2) == model.rowCount() - 1
    assert model.page_loads - loads >= model.rowCount() // model.page_size - 1
    assert model.cached_rows <= 1000


def test_clear_filters_and_the_empty_state(qtbot: QtBot, page: LibraryPage, all_tracks: list[Track]) -> None:
    bar = page.filter_bar
    choose(bar.decade_combo, 1960)
    bar.search_edit.setText("zzzqxy")
    qtbot.keyClick(bar.search_edit, Qt.Key.Key_Return)
    settle(qtbot, page, TrackFilter(decade=1960, search="zzzqxy"))
    assert page.model.rowCount() == 0 and bar.count_label.text() == "0 tracks"
    assert page.empty_label.isVisible() and "No tracks match" in page.empty_label.text()
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page, TrackFilter())
    assert_view_is(page, all_tracks, TrackFilter(), TrackSort())
    assert not page.empty_label.isVisible()
    assert bar.search_edit.text() == "" and bar.decade_combo.currentIndex() == 0


def test_fixed_row_height_and_no_resize_to_contents(page: LibraryPage) -> None:
    rows = page.view.verticalHeader()
    assert rows.sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed
    header = page.view.horizontalHeader()
    modes = {header.sectionResizeMode(c) for c in range(header.count())}
    assert QHeaderView.ResizeMode.ResizeToContents not in modes
    assert all(page.view.rowHeight(r) == rows.defaultSectionSize() for r in (0, 100, 3999))
    for widget in (page.filter_bar.search_edit, page.filter_bar.server_combo, page.filter_bar.genre_combo,
                   page.filter_bar.decade_combo, page.filter_bar.rating_combo, page.filter_bar.live_check,
                   page.filter_bar.clear_button, page.export_button, page.view):  # fmt: skip
        assert widget.accessibleName(), widget.objectName()
        assert widget.objectName()


@pytest.fixture
def dark_theme(qapp: QApplication) -> Iterator[None]:
    """The shell's dark theme for the screenshots, restored afterwards (the app object is shared)."""
    from app.ui.theme import apply_theme

    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp, "dark")
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_screenshots(qtbot: QtBot, dark_theme: None, page: LibraryPage) -> None:
    shot: Callable[[str], Path] = lambda name: screenshot(page, f"library-{name}")  # noqa: E731
    page.view.selectRow(2)
    assert shot("data").exists()

    bar = page.filter_bar
    choose(bar.genre_combo, "Rock")
    choose(bar.rating_combo, 5)
    bar.search_edit.setText("lo")
    settle(qtbot, page, TrackFilter(genre="Rock", min_rating=5, search="lo"))
    assert page.model.rowCount() > 0
    shot("filtered")

    bar.clear()
    settle(qtbot, page, TrackFilter())
    for _ in range(2):
        if page.model.track_sort != TrackSort(SortColumn.RATING, descending=True):
            click_header(qtbot, page, SORT_COLUMNS.index("rating"))  # twice from ascending: best first
            settle(qtbot, page)
    assert page.model.track_sort == TrackSort(SortColumn.RATING, descending=True)
    shot("sorted-by-rating")

    bar.search_edit.setText("zzzqxy")
    settle(qtbot, page, TrackFilter(search="zzzqxy"))
    assert page.empty_label.isVisible()
    shot("empty")
