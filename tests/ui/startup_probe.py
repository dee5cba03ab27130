"""Runs start-up phase 1 of the real entry point and reports what the first paint shows, then exits before phase 2.

    python -m tests.ui.startup_probe DATA_DIR SCREENSHOT.png [ROWS]

Prints one JSON line: the modules of interest already imported at the first paint, the cell texts of the first
ROWS rows the library table shows, its row count, the count label, the footer, how many rows are on screen, and
saves a screenshot of the window. Used by test_startup_phases.py in a subprocess (a fresh interpreter is the only
honest way to see what phase 1 imports).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import app.main
from app.entry import main

WATCHED = (
    "asyncio",
    "qasync",
    "app.cli",
    "app.services",
    "app.servers",
    "app.demo",
    "app.core.models",
    "app.core.filters",
    "app.core.errors",
    "app.storage.cache",
    "app.storage.tracks",
    "app.ui.sync_presenter",
    "app.gui_session",
    "PySide6.QtNetwork",
)


def _report(window: Any, shot: Path, rows: int) -> dict[str, Any]:
    view = window.library.view
    model = view.model()
    last_visible = view.rowAt(view.viewport().height() - 1)
    shot.parent.mkdir(parents=True, exist_ok=True)
    return {
        "loaded": sorted(m for m in WATCHED if m in sys.modules),
        "rows": [[model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(rows)],
        "row_count": model.rowCount(),
        "count_label": window.library.filter_bar.count_label.text(),
        "footer": window.footer.text(),
        "visible_rows": (last_visible if last_visible >= 0 else model.rowCount() - 1) + 1,
        "top_row": view.rowAt(0),
        "screenshot": window.grab().save(str(shot)),
    }


def probe(data_dir: str, shot: str, rows: int) -> None:
    paint = app.main._paint_now

    def paint_then_report(qapp: Any, window: Any) -> None:
        paint(qapp, window)
        print(json.dumps(_report(window, Path(shot), rows)), flush=True)
        os._exit(0)  # before phase 2: nothing more is imported, opened or written

    app.main._paint_now = paint_then_report  # type: ignore[assignment]
    main(["--data-dir", data_dir, "--self-test"])
    raise SystemExit("phase 1 did not paint")


if __name__ == "__main__":
    probe(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 30)
