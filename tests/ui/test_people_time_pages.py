"""People over time in the window, against the demo servers over HTTP with a real cache: the Identities access
grid is editable (a tick changes the demo server), the Users page's Expiry… bulk action and its Expires column,
the Last seen column with the "inactive for" filter and a bulk disable from that view, Library access…, and
the person's timeline. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.core.models import AccountRef, Restrictions
from app.services.expiry import DAY
from app.storage import open_cache
from app.ui.dialogs.account_time_dialogs import AccessDialog, ExpiryDialog, RestrictionsDialog
from app.ui.dialogs.invitation_dialogs import CreateInvitationDialog
from app.ui.pages.users_page import day_text, seen_text
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, open_plex_and_jellyfin, pump, run

PAGE = {"Users": 2, "Identities": 5}


def _rows(page: Any) -> dict[tuple[str, str], int]:
    return {(page.model.row(i)[0], page.model.row(i)[1]): i for i in range(page.model.rowCount())}


def test_editable_access_grid_and_timeline(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex, jelly, shell, window = open_plex_and_jellyfin(shell_factory, demo_factory, libraries=3)
    page = window.identities_page
    window.sidebar.setCurrentRow(PAGE["Identities"])
    pump(lambda: page.suggestions.count() > 0, 10)
    page.suggestions.setCurrentRow(0)
    name = page._suggestions[0].accounts[0].username
    qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    pump(lambda: page.model.rowCount() == 1 and page.grid.rowCount() == 2, 10)
    headers = [page.grid.horizontalHeaderItem(c).text() for c in range(page.grid.columnCount())]
    jrow = next(r for r, cells in enumerate(page.grid_texts()) if cells[0] == "Demo Jellyfin")
    user = next(u for u in jelly._ctx.users if u.username == name)
    # take one library away on Jellyfin: a tick in the grid, the server's policy changes
    ticked = [c for c in range(2, len(headers)) if page.grid_texts()[jrow][c] == "✓"]
    assert ticked, page.grid_texts()
    column = ticked[0]
    page.toggle_cell(jrow, column)
    pump(lambda: page.grid_texts()[jrow][column] == "✗", 15)
    keys = {k for k, t, _ in jelly.library.music_libraries() if t != headers[column] and t in headers}
    policy = jelly._ctx.policies[user.jellyfin_id]
    assert policy["EnableAllFolders"] is False and set(policy["EnabledFolders"]) == (
        keys if len(ticked) == len(headers) - 2 else {k for k in keys if k in (user.library_keys or keys)}
    )
    assert f"Took away {headers[column]} on Demo Jellyfin ({name})." in window.toasts.history
    # and give it back on Plex after taking it away there
    prow = 1 - jrow
    pcol = next(c for c in range(2, len(headers)) if page.grid_texts()[prow][c] == "✓")
    page.toggle_cell(prow, pcol)
    pump(lambda: page.grid_texts()[prow][pcol] == "✗", 15)
    plex_key = next(k for k, t, _ in plex.library.music_libraries() if t == headers[pcol])

    def plex_keys() -> set[str]:  # the share is removed when no library is left
        return {k for s in plex._ctx.shares if name in (s.username, s.email) for k in s.section_keys}

    assert plex_key not in plex_keys()
    page.toggle_cell(prow, pcol)
    pump(lambda: page.grid_texts()[prow][pcol] == "✓", 15)
    assert plex_key in plex_keys()
    screenshot(window, "page_identities_access_grid")
    # the timeline lists the three changes, newest first, with who did them
    pump(lambda: page.timeline.rowCount() == 3, 10)
    rows = [page.timeline.row(i) for i in range(3)]
    assert [r[2] for r in rows] == ["access changed"] * 3 and {r[3] for r in rows} == {"admin"}
    assert rows[2][1] == f"Demo Jellyfin: {name}" and all(str(r[4]).startswith("OK") for r in rows)
    screenshot(page.timeline_view, "page_identities_timeline")


def test_users_expiry_bulk_last_seen_inactive_filter_and_access(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=60, users=5, libraries=3)
    now = time.time()
    for u in jelly._ctx.users:
        jelly._ctx.activity[u.username] = now - 3600
    sleepers = [u.username for u in jelly._ctx.users[1:3]]
    for n in sleepers:
        jelly._ctx.activity[n] = now - 90 * DAY
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open(background_jobs=False)
    page = window.users_page
    window.sidebar.setCurrentRow(PAGE["Users"])
    total = len(shell.ctx.users.list())
    pump(lambda: page.model.rowCount() == total, 10)
    rows = _rows(page)
    assert page.model.row(rows[("Demo Jellyfin", sleepers[0])])[6] == "90 days ago"
    assert page.model.row(rows[("Demo Jellyfin", "admin")])[6] == "today"
    # inactive for 30 days: only the two sleepers; disable both from that view
    page.inactive.setValue(30)
    pump(lambda: page.model.rowCount() == 2, 10)
    assert {page.model.row(i)[1] for i in range(2)} == set(sleepers)
    page.view.selectAll()
    qtbot.mouseClick(page.buttons["disable"], Qt.MouseButton.LeftButton)
    box = page.confirm_box
    assert isinstance(box, QMessageBox) and "2 users" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    pump(lambda: page.results is not None, 15)
    assert all(r[2] == "OK" for r in page.results.table.texts())  # type: ignore[union-attr]
    page.results.close()  # type: ignore[union-attr]
    for n in sleepers:
        u = next(x for x in jelly._ctx.users if x.username == n)
        assert jelly._ctx.policies[u.jellyfin_id]["IsDisabled"] is True
    pump(lambda: page.model.rowCount() == 2 and page.model.row(0)[4] == "disabled", 10)
    screenshot(window, "page_users_inactive_last_seen")
    page.inactive.setValue(0)
    pump(lambda: page.model.rowCount() == total, 10)
    # Expiry…: 45 days for two accounts at once; the Expires column shows the day
    rows = _rows(page)
    others = [u.username for u in jelly._ctx.users[3:5]]
    page.view.clearSelection()
    for n in others:
        page.view.selectionModel().select(
            page.model.index(rows[("Demo Jellyfin", n)], 0),
            page.view.selectionModel().SelectionFlag.Select | page.view.selectionModel().SelectionFlag.Rows,
        )
    assert page.expiry_button.isEnabled()
    qtbot.mouseClick(page.expiry_button, Qt.MouseButton.LeftButton)
    dialog = page.change_dialog
    assert isinstance(dialog, ExpiryDialog)
    dialog.in_radio.setChecked(True)
    dialog.in_days.setValue(45)
    screenshot(dialog, "dialog_users_expiry")
    before = time.time()
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    want = day_text(before + 45 * DAY)
    pump(lambda: all(page.model.row(rows[("Demo Jellyfin", n)])[5] == want for n in others), 15)
    assert all(
        (u.expires_at or 0) >= before + 45 * DAY for u in shell.ctx.users.list() if u.username in others
    )
    assert "Expiry: 2 of 2 succeeded." in window.toasts.history[-1] or any(
        "Expiry" in t for t in window.toasts.history
    )
    screenshot(window, "page_users_expires")
    # Library access… for one account: exactly the ticked library on the demo server
    target = others[0]
    page.view.clearSelection()
    page.view.selectRow(rows[("Demo Jellyfin", target)])
    qtbot.mouseClick(page.access_button, Qt.MouseButton.LeftButton)
    pump(lambda: isinstance(page.change_dialog, AccessDialog), 10)
    access = page.change_dialog
    assert isinstance(access, AccessDialog)
    first = jelly.library.music_libraries()[0][0]
    access.set_libraries([first])
    screenshot(access, "dialog_users_library_access")
    qtbot.mouseClick(access.apply_button, Qt.MouseButton.LeftButton)
    user = next(u for u in jelly._ctx.users if u.username == target)
    pump(
        lambda: (
            user.jellyfin_id in jelly._ctx.policies
            and jelly._ctx.policies[user.jellyfin_id]["EnabledFolders"] == [first]
        ),
        15,
    )
    assert jelly._ctx.policies[user.jellyfin_id]["EnableAllFolders"] is False


def test_seen_and_day_texts() -> None:
    now = 1_800_000_000.0
    assert seen_text(None, now) == "unknown"
    assert seen_text(now - 10, now) == "today"
    assert seen_text(now - DAY - 10, now) == "yesterday"
    assert seen_text(now - 12 * DAY, now) == "12 days ago"
    assert day_text(None) == "" and len(day_text(now)) == 10


def test_expired_accounts_past_the_grace_period_wait_for_the_admins_confirmation(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=60, users=3)
    shell = shell_factory(overrides={"expiry_action": "disable-then-delete", "delete_after_days": "30"})
    shell.add_jellyfin(jelly)
    shell.sync_now()
    target = next(u for u in shell.ctx.users.list("Demo Jellyfin") if not u.is_admin)
    ref = AccountRef(target.server_id, target.remote_id)
    with open_cache(shell.data_dir) as cache:  # the account expired 40 days ago and was disabled then
        cache.expiry.set_expiry([(ref, time.time() - 40 * DAY)])
        cache.expiry.mark_disabled(ref, time.time() - 40 * DAY)
    window = shell.open(background_jobs=False)
    page = window.users_page
    window.sidebar.setCurrentRow(PAGE["Users"])
    pump(lambda: page.pending_button.isVisible(), 10)
    assert page.pending_button.text() == "Expired: 1 to &delete…"
    assert any(u.username == target.username for u in jelly._ctx.users)  # nothing deleted without the admin
    screenshot(window, "page_users_expired_to_delete")
    qtbot.mouseClick(page.pending_button, Qt.MouseButton.LeftButton)
    box = page.confirm_box
    assert isinstance(box, QMessageBox) and "1 expired account" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    pump(lambda: page.results is not None, 15)
    assert [r[2] for r in page.results.table.texts()] == ["OK"]  # type: ignore[union-attr]
    assert not any(u.username == target.username for u in jelly._ctx.users)
    pump(lambda: not page.pending_button.isVisible(), 10)


def test_invitation_restrictions_are_offered_where_the_servers_have_them(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex, jelly, shell, window = open_plex_and_jellyfin(shell_factory, demo_factory, libraries=2)
    dialog = CreateInvitationDialog(shell.ctx, window)
    dialog.show()
    pump(lambda: dialog.targets.topLevelItemCount() == 2, 10)

    def shown() -> set[str]:
        return {name for name, (_, w) in dialog.restriction_rows.items() if dialog._form.isRowVisible(w)}

    assert shown() == set()
    dialog.set_target("Demo Plex")
    assert shown() == {"downloads"} and "Plex has only" in dialog.restrictions_hint.text()
    dialog.set_target("Demo Jellyfin")
    assert shown() == {"sessions", "downloads", "remote"}
    dialog.max_sessions.setValue(2)
    dialog.downloads.setCurrentIndex(dialog.downloads.findData(False))
    screenshot(dialog, "dialog_invitation_restrictions")
    created: list[Any] = []
    dialog.created.connect(created.append)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    pump(lambda: bool(created), 10)
    assert created[0].restrictions == Restrictions(max_sessions=2, allow_downloads=False)
    result = run(
        shell.loop,
        shell.ctx.people.invitations.redeem(created[0].code, "wanda", "wanda@example.com", "pw-1-wanda"),
    )
    assert result.ok, result.message
    user = next(u for u in jelly._ctx.users if u.username == "wanda")
    policy = jelly._ctx.policies[user.jellyfin_id]
    assert (policy["MaxActiveSessions"], policy["EnableContentDownloading"]) == (2, False)
    assert [s.allow_sync for s in plex._ctx.shares if "wanda" in (s.username, s.email)] == [False]


def test_restrictions_of_existing_accounts_from_the_users_page(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    plex, jelly, shell, window = open_plex_and_jellyfin(shell_factory, demo_factory, libraries=2)
    page = window.users_page
    window.sidebar.setCurrentRow(PAGE["Users"])
    pump(lambda: page.model.rowCount() == len(shell.ctx.users.list()), 10)
    rows = _rows(page)
    target = jelly._ctx.users[1].username
    page.view.selectRow(rows[("Demo Jellyfin", target)])
    qtbot.mouseClick(page.restrict_button, Qt.MouseButton.LeftButton)
    dialog = page.change_dialog
    assert isinstance(dialog, RestrictionsDialog)
    assert not dialog.max_sessions.isHidden() and not dialog.remote.isHidden()
    dialog.max_sessions.setValue(1)
    dialog.remote.setCurrentIndex(dialog.remote.findData(False))
    screenshot(dialog, "dialog_users_restrictions")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    user = next(u for u in jelly._ctx.users if u.username == target)
    pump(lambda: jelly._ctx.policies.get(user.jellyfin_id, {}).get("MaxActiveSessions") == 1, 15)
    assert jelly._ctx.policies[user.jellyfin_id]["EnableRemoteAccess"] is False
    # a Plex account: only downloads is offered
    friend = plex.library.users[1].username
    page.view.clearSelection()
    page.view.selectRow(rows[("Demo Plex", friend)])
    qtbot.mouseClick(page.restrict_button, Qt.MouseButton.LeftButton)
    dialog = page.change_dialog
    assert isinstance(dialog, RestrictionsDialog)
    assert dialog.max_sessions.isHidden() and dialog.remote.isHidden() and not dialog.downloads.isHidden()
    dialog.close()
