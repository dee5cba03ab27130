"""Start-up work of the window (DESIGN §8): only the Library page is built before the first paint, the other
pages are built, placed, wired and loaded on first use; the start-up heap is frozen once."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QTableView

from app.process import freeze_long_lived
from app.ui.main_window import PAGES
from app.ui.pages.page import Page
from tests.ui.shell_fixtures import Shell, pump


def test_pages_are_built_on_first_use_in_their_place_and_loaded(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=20)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    window = shell.open(background_jobs=False)
    built = {p.objectName() for p in window._pages()}
    assert built == {"libraryPage"}, built
    placeholder = window.stack.widget(PAGES.index("Servers"))
    page = window.servers_page  # built now, after start(): it loads at once
    assert window.stack.widget(PAGES.index("Servers")) is page and placeholder is not page
    assert window.stack.count() == len(PAGES) and page.accessibleName() == "Servers page"
    pump(lambda: page.model.rowCount() == 1, 10)
    window.sidebar.setCurrentRow(PAGES.index("Errors"))
    assert window.stack.currentWidget() is window.errors_page
    assert window.stack.currentIndex() == PAGES.index("Errors")
    assert window.servers_page is page  # built once


def test_freeze_long_lived_runs_once_per_process() -> None:
    freeze_long_lived()  # the first call (here or by a window's start) froze the heap
    assert gc.get_freeze_count() > 0
    assert freeze_long_lived() is False


def test_every_page_of_the_window_is_a_page(shell_factory: Callable[..., Shell]) -> None:
    """The window reloads and saves every page through the ``Page`` protocol (pages are imported lazily, so the
    type checker cannot see that they all have a table and a reload)."""
    window = shell_factory().open(background_jobs=False)
    for name in PAGES:
        page = window.page(name)
        assert isinstance(page, Page), name
        assert isinstance(page.view, QTableView), name
