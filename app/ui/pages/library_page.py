"""The Library page: every cached track of every server in one lazy table, with filters, search, sort, a
selection kept by track id across refreshes, and CSV export of the current view.

The shell embeds it as a widget. Threads: GUI thread only; id snapshots, option lists and the export run on the
read pool (``ctx.runner.read``) in named tasks the page keeps and cancels in ``shutdown()`` (call it before
``ctx.close()``; ``closeEvent`` calls it too).

Start-up (``app/main.py``): the page can be built without a context, shown with the head of the cache
(``show_head``: count and first rows, read from the file before the store existed) for the first paint, and given
its context later (``attach``). The core value types, the error types and asyncio are imported where first used,
so that building the page for that paint does not load them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui.models.track_model import COLUMNS, SORT_COLUMNS, RowLike, TrackTableModel
from app.ui.tasks import TaskGroup
from app.ui.widgets.filter_bar import FilterBar, format_count

if TYPE_CHECKING:
    from PySide6.QtWidgets import QFileDialog

    from app.core.errors import ZondarrError
    from app.core.filters import TrackFilter, TrackSort
    from app.services.context import AppContext

log = logging.getLogger(__name__)

# Starting widths in average characters; the shell may restore saved widths over these.
_COLUMN_CHARS = (36, 14, 26, 28, 20, 5, 5, 7)  # in COLUMNS order
TOAST_MS = 6000


class LibraryPage(QWidget):
    """See the module docstring. Signals: ``selection_changed(int)`` (selected tracks), ``snapshot_ready(int)``
    (a new id snapshot is in the model; its row count), ``first_rows_ready(int)`` (the first rows of a new view
    can be painted: the quick first page or the snapshot, whichever came first; the row count), ``export_finished(int, str)`` (rows written, file path),
    ``error_raised(object)`` (a ``ZondarrError`` for the shell's error dialog; the page also shows it inline)."""

    selection_changed = Signal(int)
    snapshot_ready = Signal(int)
    first_rows_ready = Signal(int)
    export_finished = Signal(int, str)
    error_raised = Signal(object)

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None) -> None:
        """Without ``ctx`` the page shows the loading state (or ``show_head``) until ``attach``."""
        super().__init__(parent)
        self.setObjectName("libraryPage")
        self._ctx = ctx
        self._tasks = TaskGroup("library")
        self._restore_top_id: int | None = None
        self._head_shown = False  # the quick first page of the pending request is on screen
        self._keep_selected: set[int] = set()
        self._restore_scroll = 0
        self._export_dialog: QFileDialog | None = None

        self.filter_bar = FilterBar(self)
        self.export_button = QPushButton("&Export CSV…", self)
        self.export_button.setObjectName("libraryExport")
        self.export_button.setAccessibleName("Export view to CSV")
        self.export_button.setToolTip("Write every track of this view to a CSV file (Ctrl+E)")

        self._model = TrackTableModel(None, None, parent=self)
        self.view = QTableView(self)
        self.view.setObjectName("libraryTable")
        self.view.setAccessibleName("Tracks")
        self.view.setModel(self._model)
        self._setup_view()

        self.empty_label = QLabel(self.view.viewport())
        self.empty_label.setObjectName("libraryEmptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()
        self.view.viewport().installEventFilter(self)

        self.toast_label = QLabel(self)
        self.toast_label.setObjectName("libraryToast")
        self.toast_label.setAccessibleName("Library messages")
        self.toast_label.hide()
        self._toast_timer = QTimer(self)
        self._toast_timer.setSingleShot(True)
        self._toast_timer.timeout.connect(self.toast_label.hide)

        self.filter_bar.add_action(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.toast_label)

        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.focus_search)
        export = QShortcut(QKeySequence("Ctrl+E"), self)
        export.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        export.activated.connect(self._on_export_shortcut_activated)
        self._shortcuts = (find, export)

        self.filter_bar.filter_changed.connect(self._on_filter_bar_filter_changed)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._on_header_sort_indicator_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self._model.head_applied.connect(self._on_model_head_applied)
        self._model.snapshot_applied.connect(self._on_model_snapshot_applied)
        self._model.snapshot_failed.connect(self._on_model_snapshot_failed)

        self.filter_bar.set_count(0, loading=True)
        if ctx is not None:
            self.attach(ctx)

    def _setup_view(self) -> None:
        view = self.view
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setCornerButtonEnabled(False)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # fixed height: no per-row measuring
        rows.setDefaultSectionSize(view.fontMetrics().height() + 10)
        rows.setMinimumSectionSize(view.fontMetrics().height() + 4)
        rows.hide()
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )  # as every table
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        header.setHighlightSections(False)
        # Wide enough for the content's typical length and for the header text plus the sort arrow.
        char = view.fontMetrics().averageCharWidth()
        header_metrics = header.fontMetrics()
        for col, chars in enumerate(_COLUMN_CHARS):
            title = COLUMNS[col][0]
            header.resizeSection(col, max(chars * char + 16, header_metrics.horizontalAdvance(title) + 40))

    # ---- public API -------------------------------------------------------------------------------------------

    @property
    def model(self) -> TrackTableModel:
        return self._model

    def show_head(self, count: int, rows: Sequence[RowLike]) -> bool:
        """Before ``attach``: shows the default view's ``count`` and first ``rows`` (read from the cache file);
        ``first_rows_ready`` follows at once. Returns False, showing nothing, when the page is set to another
        view (a sort order restored from the settings): those rows would be the wrong ones. GUI thread; needs no
        event loop."""
        header = self.view.horizontalHeader()
        if self._ctx is not None or self.filter_bar.is_filtered():
            return False
        if header.sortIndicatorSection() != 0 or header.sortIndicatorOrder() != Qt.SortOrder.AscendingOrder:
            return False
        self._model.show_head(count, rows)
        return True

    def attach(self, ctx: AppContext) -> None:
        """Gives a page built without a context its context, then loads the view the filter bar and the sort
        indicator show, and the filter lists (needs the event loop). Rows shown by ``show_head`` stay on screen
        while the id snapshot of the default view confirms them (no reset, the scroll position stays). Once."""
        from app.core.filters import TrackFilter

        self._ctx = ctx
        self._model.attach(ctx.tracks, ctx.runner)
        flt, sort = self.filter_bar.current_filter(), self._header_sort()
        if self._head_shown and flt == TrackFilter() and sort == self._model.track_sort:
            self._keep_selected = set(self.selected_ids())
            self._restore_top_id, self._restore_scroll = None, 0
            self._model.set_view(flt, sort, self._keep_selected, quick=False)
        else:
            self._request(flt, sort, keep_scroll=False)
        self._tasks.start("options", self._load_options(), replace=True)

    def _header_sort(self) -> TrackSort:
        """The sort the header's indicator shows (title ascending when it shows none)."""
        from app.core.filters import SortColumn, TrackSort

        header = self.view.horizontalHeader()
        section = header.sortIndicatorSection()
        if not 0 <= section < len(SORT_COLUMNS):
            return TrackSort()
        descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        return TrackSort(SortColumn(SORT_COLUMNS[section]), descending)

    def reload(self) -> None:
        """Re-snapshots the current view (after a sync) and refreshes the server/genre lists, keeping the
        selection by track id and the top visible track where they still exist. Returns at once. Nothing before
        ``attach``."""
        if self._ctx is None:
            return
        self._request(self._model.track_filter, self._model.track_sort, keep_scroll=True)
        self._tasks.start("options", self._load_options(), replace=True)

    def focus_search(self) -> None:
        """Moves the keyboard focus to the search field (Ctrl+F)."""
        self.filter_bar.focus_search()

    def export_csv(self, path: Path | None = None) -> None:
        """Writes every track of the current view to ``path`` as CSV (the ``tracks --csv`` columns) on the read
        pool; ``None`` asks for a file first (a non-modal-to-the-loop ``QFileDialog.open()``). Returns at once;
        ``export_finished`` and a message follow. Nothing before ``attach``."""
        if self._ctx is None:
            return
        if path is None:
            self._ask_export_path()
            return
        self.export_button.setEnabled(False)
        self._show_toast(f"Exporting {format_count(self._model.rowCount())}…", sticky=True)
        self._tasks.start("export", self._export(Path(path)), replace=True)

    def selected_ids(self) -> list[int]:
        """Ids of the selected tracks, in view order."""
        ids = self._model.ids
        out: list[int] = []
        for top, bottom in self._selected_spans():
            out.extend(ids[top : bottom + 1])
        return out

    def selected_count(self) -> int:
        return sum(bottom - top + 1 for top, bottom in self._selected_spans())

    def _selected_spans(self) -> list[tuple[int, int]]:
        """(top, bottom) rows of the selection ranges, in view order (rows are selected whole)."""
        selection = self.view.selectionModel().selection()
        return sorted((r.top(), r.bottom()) for r in (selection.at(i) for i in range(selection.size())))

    def shutdown(self) -> None:
        """Cancels every task of the page (snapshot, option lists, export). Idempotent."""
        self._model.shutdown()
        self._tasks.cancel_all()
        self._toast_timer.stop()
        self.filter_bar.cancel_pending_search()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ---- snapshots --------------------------------------------------------------------------------------------

    def _request(self, flt: TrackFilter, sort: TrackSort, *, keep_scroll: bool) -> None:
        """Asks the model for a new snapshot, remembering what to restore when it lands."""
        self._keep_selected = set(self.selected_ids())
        self._restore_top_id = None
        self._restore_scroll = self.view.verticalScrollBar().value() if keep_scroll else 0
        if keep_scroll and (top_row := self.view.rowAt(0)) >= 0:
            self._restore_top_id = self._model.track_id(top_row)
        keep = self._keep_selected | ({self._restore_top_id} if self._restore_top_id is not None else set())
        self.filter_bar.set_count(self._model.rowCount(), loading=True)
        self._head_shown = False
        # A reload keeps the old rows on screen until the new snapshot can restore the scroll position.
        self._model.set_view(flt, sort, keep, quick=not keep_scroll)

    def _on_model_head_applied(self, rows: int) -> None:
        self._head_shown = True
        self.filter_bar.set_count(rows, loading=True)
        self.view.scrollToTop()
        self._update_empty_state()
        self.first_rows_ready.emit(rows)

    def _on_model_snapshot_applied(self, positions: dict[int, int]) -> None:
        rows = sorted(positions[i] for i in self._keep_selected if i in positions)
        self._select_rows(rows)
        if self._restore_top_id is not None and self._restore_top_id in positions:
            self.view.scrollTo(
                self._model.index(positions[self._restore_top_id], 0),
                QAbstractItemView.ScrollHint.PositionAtTop,
            )
        elif self._restore_scroll:
            self.view.verticalScrollBar().setValue(self._restore_scroll)
        elif rows:
            self.view.scrollTo(self._model.index(rows[0], 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        elif not self._head_shown:  # after a quick first page the admin may already be scrolling: stay
            self.view.scrollToTop()
        n = self._model.rowCount()
        self.filter_bar.set_count(n)
        self._update_empty_state()
        if not self._head_shown:
            self.first_rows_ready.emit(n)
        self._head_shown = False
        self.snapshot_ready.emit(n)

    def _on_model_snapshot_failed(self, error: ZondarrError) -> None:
        self.filter_bar.set_count(self._model.rowCount())
        self._show_toast(error.display())
        self.error_raised.emit(error)

    def _select_rows(self, rows: list[int]) -> None:
        """Selects ``rows`` (sorted) as few contiguous ranges (fast for large selections)."""
        selection = QItemSelection()
        last_col = len(COLUMNS) - 1
        start = prev = None
        for row in [*rows, None]:
            if row is not None and prev is not None and row == prev + 1:
                prev = row
                continue
            if start is not None and prev is not None:
                selection.select(self._model.index(start, 0), self._model.index(prev, last_col))
            start = prev = row
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().select(selection, flags)
        if rows:
            self.view.selectionModel().setCurrentIndex(
                self._model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
        self._on_view_selection_changed()

    def _update_empty_state(self) -> None:
        if self._model.rowCount():
            self.empty_label.hide()
            return
        if self.filter_bar.is_filtered():
            self.empty_label.setText("No tracks match these filters.\nPress Alt+L to clear them.")
        else:
            self.empty_label.setText("No tracks cached yet.\nAdd a server and sync to fill the library.")
        self.empty_label.setGeometry(self.view.viewport().rect())
        self.empty_label.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport():
            if event.type() == QEvent.Type.Resize:
                self.empty_label.setGeometry(self.view.viewport().rect())
            elif event.type() == QEvent.Type.Paint:
                self._model.head_painted()
        return super().eventFilter(watched, event)

    # ---- option lists and export (read pool) ------------------------------------------------------------------

    async def _load_options(self) -> None:
        from app.core.errors import ZondarrError

        assert self._ctx is not None  # started by attach()
        try:
            servers = await self._ctx.runner.read(self._ctx.server_store.list)
            genres = await self._ctx.runner.read(self._ctx.tracks.genres)
        except ZondarrError as exc:
            log.warning("loading library filter options failed: %s", exc)
            return
        self.filter_bar.set_servers(sorted((s.name for s in servers), key=lambda n: (n.casefold(), n)))
        self.filter_bar.set_genres(genres)

    async def _export(self, path: Path) -> None:
        from app.core.errors import ZondarrError
        from app.services.export import export_ids_csv

        assert self._ctx is not None  # export_csv() checked it
        try:
            await self._model.wait_complete()  # the whole id snapshot of the view on screen
            # Replaced, never mutated, so safe to read on another thread.
            ids = self._model.ids
            n = await self._ctx.runner.read(export_ids_csv, self._ctx.tracks, ids, path)
        except ZondarrError as exc:
            self._show_toast(f"Export failed. {exc.display()}")
            self.error_raised.emit(exc)
            return
        finally:
            self.export_button.setEnabled(True)
        self._show_toast(f"Exported {format_count(n)} to {path.name}.")
        self.export_finished.emit(n, str(path))

    def _ask_export_path(self) -> None:
        if self._export_dialog is not None:
            self._export_dialog.raise_()
            return
        from PySide6.QtWidgets import QFileDialog  # its first use costs ~1.5 ms: not before the first paint

        dialog = QFileDialog(self, "Export view to CSV")
        dialog.setObjectName("libraryExportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.selectFile("tracks.csv")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        dialog.finished.connect(self._on_export_dialog_finished)
        self._export_dialog = dialog
        dialog.open()  # never exec(): it would nest the event loop under running tasks

    def _show_toast(self, text: str, *, sticky: bool = False) -> None:
        self.toast_label.setText(text)
        self.toast_label.show()
        self._toast_timer.stop()
        if not sticky:
            self._toast_timer.start(TOAST_MS)

    # ---- slots ------------------------------------------------------------------------------------------------

    def _on_filter_bar_filter_changed(self, flt: TrackFilter) -> None:
        if self._ctx is None:
            return  # attach() loads the view the controls show then
        if flt != self._model.track_filter:
            self._request(flt, self._model.track_sort, keep_scroll=False)

    def _on_header_sort_indicator_changed(self, section: int, order: Qt.SortOrder) -> None:
        if self._ctx is None:
            return  # a sort restored from the settings: attach() loads the view in that order
        if 0 <= section < len(SORT_COLUMNS):
            sort = self._header_sort()
            if sort != self._model.track_sort:
                self._request(self._model.track_filter, sort, keep_scroll=False)

    def _on_view_selection_changed(self, *_: object) -> None:
        self.selection_changed.emit(self.selected_count())

    def _on_export_button_clicked(self) -> None:
        self.export_csv()

    def _on_export_shortcut_activated(self) -> None:
        if self.export_button.isEnabled():
            self.export_csv()

    def _on_export_dialog_file_selected(self, file: str) -> None:
        if file:
            self.export_csv(Path(file))

    def _on_export_dialog_finished(self, _result: int) -> None:
        self._export_dialog = None
