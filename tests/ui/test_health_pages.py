"""The health pages against demo servers over HTTP with a real cache: Health (status lights, uptime, sparkline,
an incident opened by real failed heartbeats, alerted once, acknowledged with a note), Diagnostics (a run
through the page, results with evidence), Errors (a failed connection test is found by its reference) and the
server dialog's failure class + remedy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from app.core.models import ServerKind
from app.ui.dialogs.server_dialog import ServerDialog
from app.ui.widgets.sparkline import scale_points
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump, run

PAGE = {"Health": 7, "Diagnostics": 8, "Errors": 9}


def test_health_page_shows_checks_incident_alert_once_and_acknowledges(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=30)
    gone = demo_factory("jellyfin", tracks=10, seed=3)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.add_jellyfin(gone, name="Old Jellyfin")
    health = shell.ctx.health.monitor
    window = shell.open(background_jobs=False)
    for _ in range(3):
        run(shell.loop, health.heartbeat_round())
    gone.stop()
    for _ in range(3):  # two failures open the incident; the third must not alert again
        run(shell.loop, health.heartbeat_round())
    opened = [t for t in window.toasts.history if t.startswith("Old Jellyfin: down since")]
    assert len(opened) == 1 and window.health_notifier.shown == opened
    page = window.health_page
    window.sidebar.setCurrentRow(PAGE["Health"])
    pump(lambda: set(page.lights) == {"Demo Jellyfin", "Old Jellyfin"} and page.model.rowCount() == 1, 10)
    assert page.lights["Demo Jellyfin"].status == "up" and page.lights["Old Jellyfin"].status == "down"
    spark = page.sparklines["Demo Jellyfin"]
    assert len(spark.points) == 6 and all(v is not None for _, v in spark.points)
    assert sum(v is None for _, v in page.sparklines["Old Jellyfin"].points) == 3
    [summary] = [r for r in health.summary() if r.server.name == "Old Jellyfin"]
    assert summary.uptime["24h"] == 50.0
    row = page.model.row(0)
    assert row[0] == "Old Jellyfin" and row[1] == "down" and row[3] == "open"
    page.view.selectRow(0)
    qtbot.keyClicks(page.note, "router restarted")
    qtbot.mouseClick(page.ack_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.rowCount() == 1 and page.model.row(0)[6] == "router restarted", 10)
    assert page.model.row(0)[5]  # acknowledged at
    [incident] = health.incidents(open_only=True)
    assert incident.acknowledged_note == "router restarted"
    screenshot(window, "page_health")


def test_diagnostics_page_runs_and_shows_results_with_evidence(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=30)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    window = shell.open(background_jobs=False)
    page = window.diagnostics_page
    window.sidebar.setCurrentRow(PAGE["Diagnostics"])
    pump(lambda: page.server.count() == 2, 10)
    page.server.setCurrentIndex(page.server.findData("Demo Jellyfin"))
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.runs_model.rowCount() == 1 and page.model.rowCount() > 0, 30)
    [stored] = shell.ctx.health.diagnostics.history()
    assert page.runs_model.row(0)[1:] == (stored.status, stored.summary)
    full = shell.ctx.health.diagnostics.get(stored.id)
    assert full is not None and page.model.rowCount() == len(full.results)
    servers = {page.model.row(i)[0] for i in range(page.model.rowCount())}
    assert servers == {"Demo Jellyfin", "this computer"}
    reachable = next(i for i, r in enumerate(full.results) if r.server == "Demo Jellyfin" and r.evidence)
    page.view.selectRow(reachable)
    assert full.results[reachable].evidence in page.evidence.toPlainText()
    assert "demo-jellyfin-key" not in page.evidence.toPlainText()
    screenshot(window, "page_diagnostics")


def test_failed_connection_test_shows_failure_class_and_is_found_on_the_errors_page(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=10)
    shell = shell_factory()
    window = shell.open(background_jobs=False)
    dialog = ServerDialog(shell.ctx, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.kind.setCurrentIndex(dialog.kind.findData(ServerKind.JELLYFIN.value))
    qtbot.keyClicks(dialog.name, "Home Jellyfin")
    qtbot.keyClicks(dialog.url, jelly.url)
    qtbot.keyClicks(dialog.token, "wrong-key")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.result_label.objectName() == "testFailed" and dialog.test_button.isEnabled(), 15)
    dialog.adjustSize()
    text = dialog.result_label.text()
    assert dialog.failure_class == "auth_failed"
    assert text.startswith("Failure: the token, API key or password was refused (401/403) (auth_failed).")
    assert "enter a fresh one" in text or "Check" in text
    reference = text.rsplit("Reference: ", 1)[1].strip()
    screenshot(dialog, "page_server_test_failure_class")
    dialog.close()
    pump(lambda: bool(shell.ctx.errors.by_correlation(reference)), 10)
    page = window.errors_page
    window.sidebar.setCurrentRow(PAGE["Errors"])
    pump(lambda: page.model.rowCount() >= 1, 10)
    qtbot.keyClicks(page.search, reference)
    pump(lambda: page.model.rowCount() == 1 and page.model.row(0)[1] == reference, 10)
    pump(lambda: reference in page.detail.toPlainText(), 5)
    detail = page.detail.toPlainText()
    assert "Operator detail:" in detail and "Home Jellyfin" in detail and "wrong-key" not in detail
    qtbot.keyClicks(page.search, "-no-such")
    pump(lambda: page.model.rowCount() == 0, 10)
    page.search.clear()
    qtbot.keyClicks(page.search, reference)
    pump(lambda: page.model.rowCount() == 1 and reference in page.detail.toPlainText(), 10)
    screenshot(window, "page_errors")


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 86400, allow_nan=False),
            st.one_of(st.none(), st.floats(0, 60000, allow_nan=False)),
        ),
        max_size=40,
    ),
    st.integers(20, 600),
    st.integers(10, 80),
)
def test_sparkline_points_stay_inside_the_box_and_keep_failures(
    points: list[tuple[float, float | None]], width: int, height: int
) -> None:
    points.sort(key=lambda p: p[0])
    line, fails = scale_points(points, width, height, (0.0, 86400.0))
    assert len(line) + len(fails) == len(points)
    assert len(fails) == sum(v is None for _, v in points)
    for p in line:
        assert -1e-6 <= p.x() <= width + 1e-6 and 0.0 <= p.y() <= height
    assert [p.x() for p in line] == sorted(p.x() for p in line)  # time runs left to right
