"""The people pages against the demo servers over HTTP with a real cache: Invitations (create → pre-flight →
redeem through the dialogs; the demo Jellyfin then holds the account), Users (disable/enable through the page,
a refused action shows its reason, admins greyed out), Identities (accept a suggestion, the grid shows
access), Tasks (Run now updates the last result). The demo servers' own state is the oracle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.core.models import AuthMethod, Server, ServerKind, User
from app.demo import DemoServer
from app.services.identities import AccessRow
from app.ui.dialogs.invitation_dialogs import CreateInvitationDialog, RedeemDialog
from app.ui.dialogs.outcomes import OutcomesDialog
from app.ui.pages.identities_page import grid_cells
from app.ui.pages.users_page import block_reason
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, open_plex_and_jellyfin, pump

PAGE = {"Users": 2, "Invitations": 4, "Identities": 5, "Tasks": 6}


def _demo_user(server: DemoServer, name: str) -> Any:
    return next((u for u in server._ctx.users if u.username == name), None)


def _jelly_disabled(server: DemoServer, name: str) -> bool:
    u = _demo_user(server, name)
    policy = server._ctx.policies.get(u.jellyfin_id)
    return bool(policy["IsDisabled"]) if policy is not None else bool(u.is_disabled)


def _yes(box: Any, qtbot: Any) -> None:
    assert isinstance(box, QMessageBox) and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)


def test_invitation_create_preflight_then_redeem_creates_the_jellyfin_account(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=120, users=3, libraries=3)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open(background_jobs=False)
    pump(window.isActiveWindow, 5)
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    page = window.invitations_page
    assert window.stack.currentWidget() is page
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    create = page.create_dialog
    assert isinstance(create, CreateInvitationDialog)
    pump(lambda: create.targets.topLevelItemCount() == 1, 10)
    libs = shell.ctx.tracks.libraries()
    chosen = [libs[1].title, libs[2].title]
    create.set_target("Demo Jellyfin", chosen)
    create.max_uses.setValue(1)
    create.duration.setValue(30)
    qtbot.keyClicks(create.note, "for Robin")
    assert create.selection() == (["Demo Jellyfin"], {"Demo Jellyfin": [libs[1].key, libs[2].key]})
    screenshot(create, "page_invitation_create")
    qtbot.mouseClick(create.create_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.rowCount() == 1, 10)
    code, status, uses = page.model.row(0)[:3]
    assert status == "active" and uses == "0 / 1"
    assert page.model.row(0)[4] == "30 days" and page.model.row(0)[6] == "for Robin"

    page.select_code(str(code))
    qtbot.mouseClick(page.redeem_button, Qt.MouseButton.LeftButton)
    redeem = page.redeem_dialog
    assert isinstance(redeem, RedeemDialog) and redeem.code.text() == code
    qtbot.keyClicks(redeem.username, "robin")
    qtbot.keyClicks(redeem.email, "robin@example.com")
    assert not redeem.redeem_button.isEnabled()  # nothing can be created before the pre-flight
    qtbot.mouseClick(redeem.check_button, Qt.MouseButton.LeftButton)
    pump(lambda: redeem.stage.objectName() != "hint", 15)
    # Jellyfin needs a password: the pre-flight says so, and nothing is created
    assert redeem.stage.objectName() == "testFailed"
    assert "password" in redeem.table.texts()[0][3]
    assert not redeem.redeem_button.isEnabled() and _demo_user(jelly, "robin") is None
    qtbot.keyClicks(redeem.password, "pw-robin-1")
    qtbot.mouseClick(redeem.check_button, Qt.MouseButton.LeftButton)
    pump(lambda: redeem.stage.objectName() == "testOk", 15)
    assert redeem.table.texts() == [("Demo Jellyfin", "robin", "OK", "Demo Jellyfin: ready.")]
    assert _demo_user(jelly, "robin") is None  # pre-flight only
    assert redeem.redeem_button.isEnabled()
    screenshot(redeem, "page_invitation_preflight")
    qtbot.mouseClick(redeem.redeem_button, Qt.MouseButton.LeftButton)
    pump(lambda: "Created robin" in redeem.stage.text() or redeem.stage.objectName() == "testFailed", 15)
    assert redeem.stage.text() == "Created robin on Demo Jellyfin."
    made = _demo_user(jelly, "robin")
    assert made is not None and set(made.library_keys) == {libs[1].key, libs[2].key}
    assert "pw-robin-1" not in redeem.stage.text()
    # the admin is told (no tray here: a toast), as they would be of a redemption made elsewhere
    assert f"robin redeemed {code}: an account on Demo Jellyfin." in window.toasts.history
    screenshot(redeem, "page_invitation_redeemed")
    pump(lambda: page.model.row(0)[1] == "used up", 10)
    assert page.model.row(0)[2] == "1 / 1"
    redeem.close()
    # disable, enable, then delete after the confirmation
    page.select_code(str(code))
    qtbot.mouseClick(page.toggle_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.row(0)[1] == "disabled", 10)
    screenshot(window, "page_invitations")
    page.select_code(str(code))
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    _yes(page.confirm_box, qtbot)
    pump(lambda: page.model.rowCount() == 0, 10)
    assert shell.ctx.people.invitations.overview() == []


def test_users_page_disable_enable_refusal_and_greyed_admin(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=60, users=3)
    gone = demo_factory("jellyfin", tracks=20, users=2, seed=2)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.add_jellyfin(gone, name="Old Jellyfin")
    shell.sync_now()
    window = shell.open(background_jobs=False)
    page = window.users_page
    window.sidebar.setCurrentRow(PAGE["Users"])
    total = len(shell.ctx.users.list())
    pump(lambda: page.model.rowCount() == total, 10)
    rows = {(page.model.row(i)[0], page.model.row(i)[1]): i for i in range(total)}
    admin_row = rows[("Demo Jellyfin", "admin")]
    page.view.selectRow(admin_row)
    assert not page.buttons["disable"].isEnabled()
    assert "administrator" in page.buttons["disable"].toolTip()
    target = next(u for u in shell.ctx.users.list("Demo Jellyfin") if not u.is_admin and not u.is_disabled)
    assert not _jelly_disabled(jelly, target.username)
    page.view.selectRow(rows[("Demo Jellyfin", target.username)])
    assert page.buttons["disable"].isEnabled() and not page.buttons["enable"].isEnabled()
    qtbot.mouseClick(page.buttons["disable"], Qt.MouseButton.LeftButton)
    box = page.confirm_box
    assert isinstance(box, QMessageBox) and "Demo Jellyfin" in box.text() and target.username in box.text()
    _yes(box, qtbot)
    pump(lambda: isinstance(page.results, OutcomesDialog), 15)
    assert page.results is not None
    assert page.results.table.texts()[0][:3] == ("Demo Jellyfin", target.username, "OK")
    assert _jelly_disabled(jelly, target.username)
    pump(lambda: page.model.row(rows[("Demo Jellyfin", target.username)])[4] == "disabled", 10)
    page.results.close()
    page.view.selectRow(rows[("Demo Jellyfin", target.username)])
    assert page.buttons["enable"].isEnabled()
    qtbot.mouseClick(page.buttons["enable"], Qt.MouseButton.LeftButton)
    page.results = None
    _yes(page.confirm_box, qtbot)
    pump(lambda: page.results is not None, 15)
    assert not _jelly_disabled(jelly, target.username)
    page.results.close()
    # discrepancies: the review lists what the service finds (every non-admin account is unmanaged here)
    qtbot.mouseClick(page.discrepancies_button, Qt.MouseButton.LeftButton)
    review = page.discrepancies
    assert review is not None
    review.server.setCurrentIndex(review.server.findData("Demo Jellyfin"))
    orphaned, stale = shell.ctx.people.users.discrepancies("Demo Jellyfin")
    assert orphaned and target.username in {u.username for u in orphaned}
    pump(lambda: review.orphaned.count() == len(orphaned), 10)
    assert review.stale.count() == len(stale)
    screenshot(review, "page_users_discrepancies")
    review.close()
    # the second server went away: the action is refused per account, with the reason and a remedy
    gone.stop()
    other = next(u for u in shell.ctx.users.list("Old Jellyfin") if not u.is_admin and not u.is_disabled)
    page.view.clearSelection()
    page.view.selectRow(rows[("Old Jellyfin", other.username)])
    qtbot.mouseClick(page.buttons["disable"], Qt.MouseButton.LeftButton)
    page.results = None
    _yes(page.confirm_box, qtbot)
    pump(lambda: page.results is not None, 20)
    [row] = page.results.table.texts()
    assert row[:3] == ("Old Jellyfin", other.username, "server unavailable")
    assert "could not be reached" in row[3] or "refused" in row[3]
    assert "succeeded" in page.results.summary.text() and "0 of 1" in page.results.summary.text()
    screenshot(page.results, "page_users_refused")
    page.results.close()
    pump(lambda: page.model.rowCount() == total, 5)
    screenshot(window, "page_users")


def test_identities_accept_suggestion_and_grid_shows_access(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex, jelly, shell, window = open_plex_and_jellyfin(shell_factory, demo_factory, libraries=2)
    page = window.identities_page
    window.sidebar.setCurrentRow(PAGE["Identities"])
    pump(lambda: page.suggestions.count() > 0, 10)
    assert page.model.rowCount() == 0
    text = page.suggestions.item(0).text()
    assert "Demo Plex" in text and "Demo Jellyfin" in text
    page.suggestions.setCurrentRow(0)
    first = page._suggestions[0]
    name = first.accounts[0].username
    qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.rowCount() == 1 and page.grid.rowCount() == 2, 10)
    assert page.model.row(0)[0] == name and page.model.row(0)[2] == 2
    headers = [page.grid.horizontalHeaderItem(c).text() for c in range(page.grid.columnCount())]
    assert headers[:2] == ["Server", "Account"] and len(headers) > 2
    cells = page.grid_texts()
    assert {r[0] for r in cells} == {"Demo Plex", "Demo Jellyfin"}
    # the grid is the service's answer: the same ticks, cell by cell
    for row in shell.ctx.people.identities.grid(name):
        [shown] = [c for c in cells if c[0] == row.server]
        for title, access in row.libraries:
            assert shown[headers.index(title)] == ("✓" if access else "✗")
    assert any("✓" in c for r in cells for c in r[2:])
    screenshot(window, "page_identities")
    # identity-wide disable names both servers in its confirmation
    qtbot.mouseClick(page.disable_button, Qt.MouseButton.LeftButton)
    box = page.confirm_box
    assert isinstance(box, QMessageBox) and "Demo Plex" in box.text() and "Demo Jellyfin" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)


def test_tasks_page_run_now_updates_the_last_result(
    shell_factory: Callable[..., Shell], dark_theme: None, qtbot: Any
) -> None:
    shell = shell_factory()
    window = shell.open(background_jobs=False)
    page = window.tasks_page
    window.sidebar.setCurrentRow(PAGE["Tasks"])
    pump(lambda: page.model.rowCount() == len(shell.ctx.people.tasks.names), 10)
    names = list(page.model.row_keys)
    row = names.index("expire-invitations")
    assert page.model.row(row)[3] == "never run"
    page.view.selectRow(row)
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.row(row)[3] == "succeeded", 10)
    assert page.model.row(row)[6] == "Disabled 0 expired invitations."
    assert page.model.row(row)[5].endswith(" s")
    page.view.selectRow(row)
    qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.row(row)[2] == "paused", 5)
    assert any(s.paused for s in page._statuses if s.name == "expire-invitations")
    screenshot(window, "page_tasks")


def _user(uid: int, server_id: int, admin: bool = False, disabled: bool = False) -> User:
    return User(uid, server_id, f"S{server_id}", f"r{uid}", f"u{uid}", None, admin, disabled)


@given(st.lists(st.tuples(st.integers(1, 3), st.booleans(), st.booleans()), min_size=1, max_size=8))
def test_block_reason_refuses_exactly_admins_disabled_servers_and_no_ops(
    picks: list[tuple[int, bool, bool]],
) -> None:
    servers = {
        1: Server(1, "S1", ServerKind.JELLYFIN, "http://a", AuthMethod.API_KEY),
        2: Server(2, "S2", ServerKind.PLEX, "http://b", AuthMethod.TOKEN),
        3: Server(3, "S3", ServerKind.JELLYFIN, "http://c", AuthMethod.API_KEY, enabled=False),
    }
    users = [_user(i, sid, admin, disabled) for i, (sid, admin, disabled) in enumerate(picks)]
    for action in ("enable", "disable", "delete"):
        reason = block_reason(action, users, servers)
        refused = (
            any(u.is_admin or u.server_id == 3 for u in users)
            or (action == "enable" and not any(u.is_disabled for u in users))
            or (action == "disable" and all(u.is_disabled for u in users))
        )
        assert (reason is not None) == refused
    assert block_reason("disable", [], servers) == "Select one or more users first."


def test_grid_cells_mark_access_and_missing_libraries() -> None:
    rows = [
        AccessRow("Plex", "ann", False, (("Music", True), ("Lossless", False))),
        AccessRow("Jelly", "ann", True, (("Music", False), ("Rips", True))),
    ]
    headers, cells = grid_cells(rows)
    assert headers == ["Server", "Account", "Music", "Lossless", "Rips"]
    assert cells == [["Plex", "ann", "✓", "✗", ""], ["Jelly", "ann (disabled)", "✗", "", "✓"]]
