"""The library page's filter bar: server, genre, decade, minimum rating, "exclude live versions", a debounced
search field, "Clear filters", and the count of tracks in the view.

Every change emits ``filter_changed(TrackFilter)`` once; typing in the search field waits for a pause of
``SEARCH_DEBOUNCE_MS`` (Enter applies at once). GUI thread only. Colours come from the palette and the theme
(object names below), never from here. ``TrackFilter`` is imported when a filter is first built: the bar is part
of the window's first paint, which comes before the core value types are loaded (start-up phase 1, app/main.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.models.simple_table import refill_choices

if TYPE_CHECKING:
    from app.core.filters import TrackFilter

SEARCH_DEBOUNCE_MS = 200
DECADES = tuple(range(1950, 2030, 10))
MIN_RATINGS = tuple(range(1, 11))
ALL_SERVERS = "All servers"
ALL_GENRES = "All genres"
ANY_DECADE = "Any decade"
ANY_RATING = "Any rating"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "invitation")`` → ``"1 invitation"``, ``counted(12345, "track")`` → ``"12,345 tracks"``;
    ``plural`` for the irregular ones (``counted(2, "library", "libraries")``)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"


def format_count(n: int) -> str:
    """``"12,345 tracks"``, ``"1 track"``."""
    return counted(n, "track")


class FilterBar(QWidget):
    """The controls that build the library view's ``TrackFilter``."""

    filter_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryFilterBar")
        self._quiet = False  # set while several controls change together (clear, repopulate)

        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("librarySearch")
        self.search_edit.setPlaceholderText("Search title, artist or album  (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search tracks")
        self.search_edit.setToolTip("Every word must start a word of the title, artist or album (Ctrl+F)")
        self.search_edit.setMinimumWidth(220)

        self.server_combo = self._combo("libraryServerFilter", "Server", "Show tracks of one server")
        self.server_combo.addItem(ALL_SERVERS, None)
        self.genre_combo = self._combo("libraryGenreFilter", "Genre", "Show tracks with this genre")
        self.genre_combo.addItem(ALL_GENRES, None)
        self.decade_combo = self._combo(
            "libraryDecadeFilter", "Decade", "Show tracks released in this decade"
        )
        self.decade_combo.addItem(ANY_DECADE, None)
        for decade in DECADES:
            self.decade_combo.addItem(f"{decade}s", decade)
        self.rating_combo = self._combo(
            "libraryRatingFilter",
            "Minimum rating",
            "Show tracks rated at least this (0-10); hides unrated ones",
        )
        self.rating_combo.addItem(ANY_RATING, None)
        for stars in MIN_RATINGS:
            self.rating_combo.addItem(f"≥ {stars}", stars)

        self.live_check = QCheckBox("E&xclude live versions", self)
        self.live_check.setObjectName("libraryExcludeLive")
        self.live_check.setAccessibleName("Exclude live versions")
        self.live_check.setToolTip("Hide tracks marked as live recordings (Alt+X)")

        self.clear_button = QPushButton("C&lear filters", self)
        self.clear_button.setObjectName("libraryClearFilters")
        self.clear_button.setAccessibleName("Clear filters")
        self.clear_button.setToolTip("Reset every filter and the search (Alt+L)")

        self.count_label = QLabel(format_count(0), self)
        self.count_label.setObjectName("libraryCount")
        self.count_label.setAccessibleName("Tracks in view")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count_label.setMinimumWidth(
            self.count_label.fontMetrics().horizontalAdvance("0,000,000 tracks…")
        )

        # Two rows: search, count and actions on top; the filter controls below (fits 1,000 px wide windows).
        self._top_row = QHBoxLayout()
        self._top_row.setSpacing(8)
        self._top_row.addWidget(self.search_edit, 1)
        self._top_row.addWidget(self.count_label)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        for label_text, combo in (
            ("&Server", self.server_combo),
            ("&Genre", self.genre_combo),
            ("&Decade", self.decade_combo),
            ("&Rating", self.rating_combo),
        ):
            label = QLabel(label_text, self)
            label.setBuddy(combo)
            filters.addWidget(label)
            filters.addWidget(combo)
            filters.addSpacing(6)
        filters.addWidget(self.live_check)
        filters.addStretch(1)
        filters.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(self._top_row)
        layout.addLayout(filters)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.search_edit.returnPressed.connect(self._on_search_return_pressed)
        for combo in (self.server_combo, self.genre_combo, self.decade_combo, self.rating_combo):
            combo.currentIndexChanged.connect(self._on_control_changed)
        self.live_check.toggled.connect(self._on_control_changed)
        self.clear_button.clicked.connect(self._on_clear_clicked)

    def _combo(self, name: str, accessible: str, tip: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.setToolTip(tip)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(10)
        return combo

    # ---- public -----------------------------------------------------------------------------------------------

    def current_filter(self) -> TrackFilter:
        """The filter the controls show now (the search text as typed, even before the debounce fires)."""
        from app.core.filters import TrackFilter

        text = self.search_edit.text().strip()
        return TrackFilter(
            server=self.server_combo.currentData(),
            genre=self.genre_combo.currentData(),
            decade=self.decade_combo.currentData(),
            min_rating=self.rating_combo.currentData(),
            exclude_live=self.live_check.isChecked(),
            search=text or None,
        )

    def is_filtered(self) -> bool:
        """Whether any control differs from its default (``current_filter() != TrackFilter()``)."""
        combos = (self.server_combo, self.genre_combo, self.decade_combo, self.rating_combo)
        return (
            bool(self.search_edit.text().strip())
            or self.live_check.isChecked()
            or any(c.currentData() is not None for c in combos)
        )

    def set_servers(self, names: list[str]) -> None:
        """Fills the server combo (keeps the current choice while it still exists; otherwise "All")."""
        self._refill(self.server_combo, ALL_SERVERS, names)

    def set_genres(self, names: list[str]) -> None:
        """Fills the genre combo (keeps the current choice while it still exists; otherwise "All")."""
        self._refill(self.genre_combo, ALL_GENRES, names)

    def add_action(self, widget: QWidget) -> None:
        """Puts a page action (like "Export CSV…") at the end of the search row."""
        self._top_row.addWidget(widget)

    def set_count(self, n: int, *, loading: bool = False) -> None:
        self.count_label.setText(format_count(n) + ("…" if loading else ""))

    def clear(self) -> None:
        """Resets every control; emits ``filter_changed`` once if anything changed."""
        before = self.current_filter()
        self._quiet = True
        try:
            self._debounce.stop()
            self.search_edit.clear()
            for combo in (self.server_combo, self.genre_combo, self.decade_combo, self.rating_combo):
                combo.setCurrentIndex(0)
            self.live_check.setChecked(False)
        finally:
            self._quiet = False
        self._debounce.stop()
        if self.current_filter() != before:
            self.filter_changed.emit(self.current_filter())

    def cancel_pending_search(self) -> None:
        """Drops a search typed but not yet applied (its debounce timer stops; no ``filter_changed``)."""
        self._debounce.stop()

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def _refill(self, combo: QComboBox, all_text: str, names: list[str]) -> None:
        if [combo.itemData(i) for i in range(1, combo.count())] == names:
            return
        if refill_choices(combo, all_text, names):
            self.filter_changed.emit(self.current_filter())

    # ---- slots ------------------------------------------------------------------------------------------------

    def _on_control_changed(self, *_: object) -> None:
        if not self._quiet:
            self._debounce.stop()  # the search text as typed goes with this change
            self.filter_changed.emit(self.current_filter())

    def _on_search_text_changed(self, _text: str) -> None:
        if not self._quiet:
            self._debounce.start()

    def _on_search_return_pressed(self) -> None:
        self._debounce.stop()
        self.filter_changed.emit(self.current_filter())

    def _on_debounce_timeout(self) -> None:
        self.filter_changed.emit(self.current_filter())

    def _on_clear_clicked(self) -> None:
        self.clear()
