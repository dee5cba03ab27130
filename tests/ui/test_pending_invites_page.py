"""The Users page's pending Plex invitations over a real cache and the demo Plex + plex.tv: the State column says
since when an invitation is pending; Send again makes it anew; Cancel asks first, then removes it on plex.tv."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.ui.dialogs.outcomes import OutcomesDialog
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump, run


def test_pending_invitation_shown_resent_and_cancelled(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    plex = demo_factory("plex", tracks=20, users=2)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_plex(plex)
    shell.sync_now()
    people = shell.ctx.people
    inv = run(shell.loop, people.invitations.create(["Demo Plex"]))
    result = run(shell.loop, people.invitations.redeem(inv.code, "ana@example.org"))
    assert result.ok, result.message
    run(shell.loop, people.users.sync_all())
    window = shell.open(background_jobs=False)
    page = window.users_page
    window.sidebar.setCurrentRow(2)
    pump(lambda: any(page.model.row(i)[1] == "ana@example.org" for i in range(page.model.rowCount())), 10)
    row = next(i for i in range(page.model.rowCount()) if page.model.row(i)[1] == "ana@example.org")
    assert str(page.model.row(row)[4]).startswith("pending since 20")
    assert not page.invites.resend_action.isEnabled()
    page.view.selectRow(row)
    assert page.invites.resend_action.isEnabled() and page.invites.cancel_action.isEnabled()
    screenshot(window, "page_users_pending_invite")
    invitations = window.invitations_page
    invitations.reload()
    pump(lambda: invitations.model.rowCount() == 1 and "pending" in str(invitations.model.row(0)[2]), 10)
    assert str(invitations.model.row(0)[2]).startswith("1 / ∞ (1 pending on plex.tv since 20")
    before = {s.id for s in plex._ctx.shares if s.pending}

    page.invites.resend_action.trigger()
    pump(lambda: isinstance(page.results, OutcomesDialog), 10)
    assert page.results is not None and page.results.table.texts()[0][2] == "OK"
    after = {s.id for s in plex._ctx.shares if s.pending}
    assert after and after != before  # a new pending share: plex.tv mails the invitee anew
    page.results.close()

    pump(lambda: any(page.model.row(i)[1] == "ana@example.org" for i in range(page.model.rowCount())), 10)
    row = next(i for i in range(page.model.rowCount()) if page.model.row(i)[1] == "ana@example.org")
    page.view.selectRow(row)
    page.invites.cancel_action.trigger()
    box = page.invites.confirm_box
    assert isinstance(box, QMessageBox) and "ana@example.org" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    pump(lambda: not any(s.pending for s in plex._ctx.shares), 10)
    pump(lambda: all(page.model.row(i)[1] != "ana@example.org" for i in range(page.model.rowCount())), 10)
