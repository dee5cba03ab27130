"""The library table's model: an ordered id snapshot of the current view, rows read by primary key in pages.

It never loads the whole table (DESIGN §2; a million rows must scroll within the budgets of DESIGN §8):

* ``set_view(filter, sort, keep)`` builds the ordered id snapshot (``TrackReader.ids``, an ``array('q')``, 8 bytes
  a track) on the read pool, in a named task the model keeps. A newer request cancels the older one and the
  older result is dropped even if its thread finishes later: the last request wins.
* Before that (``quick=True``, views without search text) one short read fetches the view's count and its
  first page (``count`` + ``query`` with ``limit=page_size``, a few ms on the indexed sorts): the model shows
  the full row count with the first page filled at once, and the other rows fill in when the id snapshot
  lands (about 0.4 s for 1,000,000 ids). So the first rows paint in milliseconds whatever the cache size.
* ``data()`` reads rows by id in pages of ``page_size`` through ``TrackReader.get_many`` (one short read
  transaction per page, about 1 ms; none is held across pages) into an LRU of at most ``max_pages`` pages.
* ``data()`` answers DisplayRole, TextAlignmentRole (numbers right-aligned) and ToolTipRole (title column);
  every other role gets ``None`` at once.

* Start-up (``app/main.py``): the window paints before the store exists. The model is then built without a
  store (``TrackTableModel(None, None)``) and given the head of the cache, read straight from the file
  (``show_head``: the count and the first page). ``attach(store, runner)`` later gives it the store, and the
  default view's id snapshot (``set_view(..., quick=False)``) confirms the head rows without a reset: nothing on
  screen changes. That is also why asyncio, the core value types and the error types are imported where they
  are first used, not with this module (they would delay the first paint).

Threads: every method runs on the GUI (event-loop) thread; only the snapshot query leaves it.
"""

from __future__ import annotations

import logging
from array import array
from collections import OrderedDict
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from app.ui.tasks import TaskGroup

if TYPE_CHECKING:
    import asyncio

    from app.core.filters import TrackFilter, TrackSort
    from app.core.models import Track
    from app.core.ports import Runner, TrackReader

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # rows read in one page (and in the head the window paints first)

# The id snapshot waits this long at most for the view to paint the quick first page: started at once, its row
# loop holds the GIL the paint needs (~25 ms later first paint at 1,000,000 tracks). A hidden view never paints.
HEAD_PAINT_WAIT_S = 0.25

# (header, sort column as the value of ``core.filters.SortColumn``, right-aligned) in display order.
# Server comes right after Title: at the window's first size every column but the last may be cut, and two
# servers holding the same track must not look like one duplicated row.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("Title", "title", False),
    ("Server", "server", False),
    ("Artist", "artist", False),
    ("Album", "album", False),
    ("Genre", "genre", False),
    ("Year", "year", True),
    ("Rating", "rating", True),
    ("Duration", "duration", True),
)
SORT_COLUMNS: tuple[str, ...] = tuple(c[1] for c in COLUMNS)

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
# Built once: or-ing enum flags is Python code, and flags() runs for every painted cell.
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_NO_FLAGS = Qt.ItemFlag.NoItemFlags

Index = QModelIndex | QPersistentModelIndex


class RowLike(Protocol):
    """What a row of the table needs of a track: an ``app.core.models.Track``, or a head row read from the cache
    file before the store existed (``app.storage.head.HeadTrack``, handed over by the composition root)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def artist(self) -> str | None: ...
    @property
    def album(self) -> str | None: ...
    @property
    def genres(self) -> tuple[str, ...]: ...
    @property
    def year(self) -> int | None: ...
    @property
    def rating(self) -> float | None: ...
    @property
    def duration_ms(self) -> int | None: ...
    @property
    def server(self) -> str: ...


def format_duration(ms: int | None) -> str:
    """``m:ss`` (``h:mm:ss`` from one hour); empty when unknown."""
    if ms is None or ms < 0:
        return ""
    total = int(ms) // 1000
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def format_rating(rating: float | None) -> str:
    """The 0-10 rating as the filter offers it: ``8``, ``7.5``; empty when unrated."""
    if rating is None:
        return ""
    return f"{rating:g}" if rating == round(rating, 1) else f"{rating:.1f}"


def cell_text(track: RowLike, column: int) -> str:
    """What a column (an index into ``COLUMNS``) shows for a track (also used by tests)."""
    key = COLUMNS[column][1]
    if key == "title":
        return track.title
    if key == "server":
        return track.server
    if key == "artist":
        return track.artist or ""
    if key == "album":
        return track.album or ""
    if key == "genre":
        return ", ".join(track.genres)
    if key == "year":
        return "" if track.year is None else str(track.year)
    if key == "rating":
        return format_rating(track.rating)
    return format_duration(track.duration_ms)


def _head(tracks: TrackReader, flt: TrackFilter, sort: TrackSort, size: int) -> tuple[int, list[Track]]:
    """Read pool: the view's row count and its first ``size`` tracks."""
    return tracks.count(flt), tracks.query(flt, sort, limit=size)


def _snapshot(
    tracks: TrackReader, flt: TrackFilter, sort: TrackSort, keep: frozenset[int]
) -> tuple[Sequence[int], dict[int, int]]:
    """Read pool: the view's id snapshot and the row of each id of ``keep`` that is still in it."""
    ids = tracks.ids(flt, sort)
    positions: dict[int, int] = {}
    if keep:
        # A Python loop here lets the GIL go every few ms, so the GUI keeps painting over 1M ids.
        for row, track_id in enumerate(ids):
            if track_id in keep:
                positions[track_id] = row
                if len(positions) == len(keep):
                    break
    return ids, positions


class TrackTableModel(QAbstractTableModel):
    """Lazy table over the cached tracks of one view (filter + sort). See the module docstring.

    Signals: ``head_applied(int)`` when a quick first page is shown ahead of the id snapshot (the row count);
    ``snapshot_applied(dict)`` after the full id snapshot is in the model, with ``{track id: row}`` for the ids
    passed as ``keep`` that are still in the view; ``snapshot_failed(object)`` with the ``ZondarrError`` when
    the snapshot query failed (the previous snapshot stays).
    """

    head_applied = Signal(int)
    snapshot_applied = Signal(object)
    snapshot_failed = Signal(object)

    def __init__(
        self,
        tracks: TrackReader | None,
        runner: Runner | None,
        *,
        page_size: int = PAGE_SIZE,
        max_pages: int = 64,
        parent: QObject | None = None,
    ) -> None:
        """``tracks`` and ``runner`` may be None until ``attach`` (the first paint; see the module docstring)."""
        super().__init__(parent)
        self._tracks = tracks
        self._runner = runner
        self.page_size = page_size
        self.max_pages = max_pages
        self._ids: Sequence[int] = array("q")
        self._rows = 0  # rows shown; larger than len(self._ids) while only the quick first page is known
        self._pages: OrderedDict[int, list[RowLike | None]] = OrderedDict()
        self._filter: TrackFilter | None = None  # None: the default view (its value type is imported on use)
        self._sort: TrackSort | None = None
        self._generation = 0
        self._tasks = TaskGroup("library-model")
        self.page_loads = 0  # pages read since creation (tests and benchmarks look at it)
        self._head_painted = True
        self._head_only = False  # the rows known are a first page shown ahead of the view's id snapshot

    # ---- the view -------------------------------------------------------------------------------------------

    @property
    def attached(self) -> bool:
        """Whether the model has its store (``attach``, or one given at construction)."""
        return self._tracks is not None and self._runner is not None

    def attach(self, tracks: TrackReader, runner: Runner) -> None:
        """Gives a model built without a store its store and runner. The rows shown stay as they are; request a
        view next (``set_view``)."""
        self._tracks, self._runner = tracks, runner

    def show_head(self, count: int, rows: Sequence[RowLike]) -> None:
        """Shows ``count`` rows of the default view, ``rows`` being the first ones (at most ``page_size``), read
        before the store existed. ``head_applied`` follows; a later ``set_view(TrackFilter(), TrackSort(),
        quick=False)`` fills in the rest without a reset when the cache still holds that head."""
        self._apply_head(count, rows[: self.page_size])

    @property
    def track_filter(self) -> TrackFilter:
        """The filter of the last requested view."""
        if self._filter is None:
            from app.core.filters import TrackFilter

            self._filter = TrackFilter()
        return self._filter

    @property
    def track_sort(self) -> TrackSort:
        """The sort of the last requested view."""
        if self._sort is None:
            from app.core.filters import TrackSort

            self._sort = TrackSort()
        return self._sort

    @property
    def ids(self) -> Sequence[int]:
        """The current id snapshot, in view order (replaced, never mutated: safe to hand to another thread).
        Only the first page while ``complete`` is false."""
        return self._ids

    @property
    def complete(self) -> bool:
        """False while only the quick first page of the view is known (the rest of the ids are on their way)."""
        return len(self._ids) == self._rows

    @property
    def loading(self) -> bool:
        """True while a snapshot request is in flight."""
        return self._tasks.get("snapshot") is not None

    @property
    def cached_rows(self) -> int:
        """Rows held in the page cache now (at most ``page_size * max_pages``)."""
        return sum(len(p) for p in self._pages.values())

    @property
    def cached_pages(self) -> int:
        return len(self._pages)

    def set_view(
        self, flt: TrackFilter, sort: TrackSort, keep: Collection[int] = (), *, quick: bool = True
    ) -> asyncio.Task[Any]:
        """Requests a new snapshot for ``flt``/``sort``; returns its task (the model keeps a reference and
        cancels it on a newer request or ``shutdown``). ``quick``: show the first page as soon as it is read
        (a reset; use False to keep the old rows on screen until the new snapshot replaces them, as a reload
        that restores the scroll position wants). Needs the event loop set for this thread and the store (raises
        RuntimeError before ``attach``: a programming error)."""
        if not self.attached:
            raise RuntimeError("TrackTableModel.set_view before attach()")
        self._filter, self._sort = flt, sort
        self._generation += 1
        coro = self._load(self._generation, flt, sort, frozenset(keep), quick)
        return self._tasks.start("snapshot", coro, replace=True)

    def refresh(self, keep: Collection[int] = (), *, quick: bool = False) -> asyncio.Task[Any]:
        """Re-snapshots the current view (after a sync)."""
        return self.set_view(self.track_filter, self.track_sort, keep, quick=quick)

    async def wait_complete(self) -> None:
        """Returns once no snapshot is in flight (the ids then hold the whole view)."""
        import asyncio

        while (task := self._tasks.get("snapshot")) is not None:
            await asyncio.wait([task])

    def shutdown(self) -> None:
        """Cancels a snapshot in flight (the page's close path)."""
        self._generation += 1
        self._tasks.cancel_all()

    async def _load(
        self, generation: int, flt: TrackFilter, sort: TrackSort, keep: frozenset[int], quick: bool
    ) -> None:
        from app.core.errors import ZondarrError

        assert self._tracks is not None and self._runner is not None  # set_view checked it
        try:
            # The first page goes first, alone: run beside the id snapshot it would wait on the GIL that the
            # snapshot's row loop holds. Searches skip it (FTS makes count + page cost as much as the ids).
            if quick and not flt.search_words:
                try:
                    count, head = await self._runner.read(_head, self._tracks, flt, sort, self.page_size)
                except ZondarrError as exc:  # only a head start: the full snapshot below still decides
                    log.info("quick first page failed: %s", exc)
                else:
                    if generation == self._generation:
                        self._apply_head(count, head)
                        await self._wait_head_painted()
            ids, positions = await self._runner.read(_snapshot, self._tracks, flt, sort, keep)
        except ZondarrError as exc:
            if generation == self._generation:
                log.warning("library snapshot failed: %s", exc)
                self.snapshot_failed.emit(exc)
            return
        if generation != self._generation:
            return  # superseded while the thread ran: the newer request wins
        self._apply_snapshot(ids)
        self.snapshot_applied.emit(positions)

    def head_painted(self) -> None:
        """The view painted (call it from its paint handler): a snapshot waiting for its first page may start."""
        self._head_painted = True

    async def _wait_head_painted(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + HEAD_PAINT_WAIT_S
        while not self._head_painted and loop.time() < deadline:
            await asyncio.sleep(0.005)

    def _apply_head(self, count: int, head: Sequence[RowLike]) -> None:
        self._head_painted = False
        self._head_only = True
        self.beginResetModel()
        self._ids = array("q", (t.id for t in head))
        self._rows = max(count, len(head))
        self._pages.clear()
        if head:
            first: list[RowLike | None] = list(head)
            self._pages[0] = first
        self.endResetModel()
        self.head_applied.emit(self._rows)

    def _apply_snapshot(self, ids: Sequence[int]) -> None:
        known = len(self._ids)
        head_only, self._head_only = self._head_only, False
        if head_only and len(ids) == self._rows and list(ids[:known]) == list(self._ids):
            # The quick first page was right: fill in the rest without a reset (selection and scroll stay).
            self._ids = ids
            if self._rows > known:
                self.dataChanged.emit(self.index(known, 0), self.index(self._rows - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._ids = ids
        self._rows = len(ids)
        self._pages.clear()
        self.endResetModel()

    def clear_row_cache(self) -> None:
        """Drops every cached page (rows are read again on the next paint)."""
        self._pages.clear()

    def track_id(self, row: int) -> int | None:
        """The id shown in ``row`` of the current snapshot."""
        return int(self._ids[row]) if 0 <= row < len(self._ids) else None

    def track_at(self, row: int) -> RowLike | None:
        """The track of ``row`` (read through the page cache); None when out of range, deleted since, or not
        known yet (beyond the quick first page)."""
        if not 0 <= row < len(self._ids):
            return None
        page_no, offset = divmod(row, self.page_size)
        page = self._pages.get(page_no)
        if page is None:
            page = self._load_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page[offset] if offset < len(page) else None

    def _load_page(self, page_no: int) -> list[RowLike | None]:
        from app.core.errors import ZondarrError

        start = page_no * self.page_size
        ids = self._ids[start : start + self.page_size]
        if self._tracks is None:
            return [None] * len(ids)  # no store yet (the first paint): read once attached
        try:
            found: dict[int, Track] = {t.id: t for t in self._tracks.get_many(ids)}
        except ZondarrError as exc:
            log.warning("reading library rows failed: %s", exc)
            return [None] * len(ids)  # not cached: the next paint tries again
        page: list[RowLike | None] = [found.get(i) for i in ids]
        self.page_loads += 1
        self._pages[page_no] = page
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return page

    # ---- QAbstractTableModel ---------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            if not index.isValid():
                return None
            track = self.track_at(index.row())
            return "" if track is None else cell_text(track, index.column())
        if role == _ALIGN:
            return _RIGHT if index.isValid() and COLUMNS[index.column()][2] else _LEFT
        if role == _TOOLTIP and index.isValid():  # the whole text of a cell the column width elides
            track = self.track_at(index.row())
            if track is None:
                return None
            if index.column() == 0:
                return f"{track.title}\n{track.artist or 'Unknown artist'} — {track.album or 'Unknown album'}"
            if COLUMNS[index.column()][2]:
                return None  # numbers are never cut
            return cell_text(track, index.column()) or None
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == _DISPLAY:
            return COLUMNS[section][0]
        if role == _ALIGN:
            return _LEFT  # right-aligned titles would run under the sort arrow
        if role == _TOOLTIP:
            return f"Sort by {COLUMNS[section][0].lower()} (click again to reverse)"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else _NO_FLAGS

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-snapshots in the order of ``column`` (the store sorts; there is no proxy model)."""
        from app.core.filters import SortColumn, TrackSort

        if 0 <= column < len(COLUMNS):
            sort = TrackSort(SortColumn(SORT_COLUMNS[column]), order == Qt.SortOrder.DescendingOrder)
            self.set_view(self.track_filter, sort)
