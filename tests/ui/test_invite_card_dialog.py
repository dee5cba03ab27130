"""The invite card dialog over a real cache and the demo servers: preview, public address, save as PNG (its QR
code decodes to the address shown) and HTML, copy text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import zxingcpp
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage

from app.ui.dialogs.invite_card_dialog import InviteCardDialog
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump, run


def test_card_dialog_previews_sets_the_public_address_and_saves(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any, tmp_path: Path
) -> None:
    plex = demo_factory("plex", tracks=60, users=2, libraries=2)
    jelly = demo_factory("jellyfin", tracks=60, users=2, libraries=2)
    shell = shell_factory()
    shell.add_plex(plex)
    shell.add_jellyfin(jelly)
    shell.sync_now()
    inv = run(
        shell.loop, shell.ctx.people.invitations.create(["Demo Plex", "Demo Jellyfin"], duration_days=14)
    )
    window = shell.open(background_jobs=False)
    page = window.invitations_page
    page.reload()
    pump(lambda: page.model.rowCount() == 1, 10)
    page.select_code(inv.code)
    assert page.card_button.isEnabled()
    qtbot.mouseClick(page.card_button, Qt.MouseButton.LeftButton)
    dialog = page.card_dialog
    assert isinstance(dialog, InviteCardDialog)
    pump(lambda: dialog.card is not None, 10)
    assert dialog.png_button.isEnabled() and dialog.server_choice.count() == 2

    dialog.server_choice.setCurrentIndex(dialog.server_choice.findData("Demo Jellyfin"))
    assert dialog.address.text() == jelly.url
    dialog.address.setText("https://jelly.example.org")
    qtbot.mouseClick(dialog.address_button, Qt.MouseButton.LeftButton)
    pump(
        lambda: (
            dialog.card is not None
            and "https://jelly.example.org" in [s.address for s in dialog.card.servers]
        )
    )
    screenshot(dialog, "dialog_invite_card")

    png, html = tmp_path / "card.png", tmp_path / "card.html"
    assert dialog.save_to(str(png), "png") and dialog.save_to(str(html), "html")
    decoded = sorted(b.text for b in zxingcpp.read_barcodes(QImage(str(png))))
    assert decoded == sorted([plex.url, "https://jelly.example.org"])
    assert inv.code in html.read_text(encoding="utf-8")
    assert not dialog.save_to(str(tmp_path / "missing-dir" / "card.html"), "html")

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert inv.code in text and "Quick Connect" in text and "Accept the e-mail from Plex" in text
    dialog.close()


def test_redeem_dialog_fills_the_form_from_the_invitees_reply(
    shell_factory: Callable[..., Shell], qtbot: Any
) -> None:
    from app.ui.dialogs.invitation_dialogs import RedeemDialog

    shell = shell_factory()
    dialog = RedeemDialog(shell.ctx, "ABCDEFGH23")
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.reply, "Hi! username: kim_88, mail kim@example.com")
    assert (dialog.username.text(), dialog.email.text()) == ("kim_88", "kim@example.com")
    assert not dialog.redeem_button.isEnabled()  # filled, but nothing can be created before Check
    dialog.show()
    screenshot(dialog, "dialog_redeem_from_reply")


def test_sign_in_a_device_from_the_users_page(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    import json
    import urllib.request

    from app.ui.dialogs.device_signin_dialog import DeviceSignInDialog

    jelly = demo_factory("jellyfin", tracks=20, users=3)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    window = shell.open(background_jobs=False)
    page = window.users_page
    window.sidebar.setCurrentRow(2)
    total = len(shell.ctx.users.list())
    pump(lambda: page.model.rowCount() == total, 10)
    rows = {(page.model.row(i)[0], page.model.row(i)[1]): i for i in range(total)}
    assert not page.device_button.isEnabled()  # nothing selected
    kim = next(u for u in shell.ctx.users.list("Demo Jellyfin") if not u.is_admin and not u.is_disabled)
    page.view.selectRow(rows[("Demo Jellyfin", kim.username)])
    assert page.device_button.isEnabled()

    # The person's TV starts Quick Connect (as the Jellyfin app does) and shows a code.
    req = urllib.request.Request(
        f"{jelly.url}/QuickConnect/Initiate",
        data=b"",
        method="POST",
        headers={
            "Authorization": 'MediaBrowser Client="Jellyfin", Device="TV", DeviceId="tv1", Version="10.11"'
        },
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        started = json.loads(resp.read())

    qtbot.mouseClick(page.device_button, Qt.MouseButton.LeftButton)
    dialog = page.device_dialog
    assert isinstance(dialog, DeviceSignInDialog)
    assert not dialog.sign_in_button.isEnabled()
    qtbot.keyClicks(dialog.code, "12x3")  # the validator keeps digits only
    assert dialog.code.text() == "123"
    dialog.code.clear()
    qtbot.keyClicks(dialog.code, started["Code"])
    assert dialog.sign_in_button.isEnabled()
    screenshot(dialog, "dialog_device_signin_code")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.outcome is not None, 10)
    assert dialog.outcome is not None and dialog.outcome.ok, dialog.status.text()
    assert "signed in as" in dialog.status.text()
    screenshot(dialog, "dialog_device_signin_done")
    assert jelly._ctx.quick_connect.by_secret(started["Secret"]).user_id == kim.remote_id
    dialog.close()


def test_device_block_reason() -> None:
    from app.core.models import AuthMethod, Server, ServerKind, User
    from app.ui.pages.users_page import device_block_reason

    plex = Server(1, "Home Plex", ServerKind.PLEX, "http://p", AuthMethod.TOKEN)
    jelly = Server(2, "Jelly", ServerKind.JELLYFIN, "http://j", AuthMethod.API_KEY)
    servers = {1: plex, 2: jelly}

    def user(server: Server, disabled: bool = False, n: int = 1) -> User:
        return User(n, server.id, server.name, f"r{n}", f"u{n}", None, False, disabled)

    assert device_block_reason([user(jelly)], servers) is None
    assert "plex.tv" in (device_block_reason([user(plex)], servers) or "")
    assert "enable it" in (device_block_reason([user(jelly, disabled=True)], servers) or "")
    assert device_block_reason([user(jelly), user(jelly, n=2)], servers) == "Select one account."
    assert device_block_reason([], servers) == "Select one account."


def test_redeem_dialog_creates_a_jellyfin_account_for_quick_connect(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], qtbot: Any
) -> None:
    from app.ui.dialogs.invitation_dialogs import RedeemDialog

    jelly = demo_factory("jellyfin", tracks=20, users=2)
    shell = shell_factory()
    shell.add_jellyfin(jelly)
    shell.sync_now()
    inv = run(shell.loop, shell.ctx.people.invitations.create(["Demo Jellyfin"]))
    dialog = RedeemDialog(shell.ctx, inv.code)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password, "typed-then-dropped")
    dialog.quick_connect.setChecked(True)
    assert dialog.password.text() == "" and not dialog.password.isEnabled()
    qtbot.keyClicks(dialog.reply, "wanted username: kim")
    assert dialog.username.text() == "kim"
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.redeem_button.isEnabled(), 10)
    assert "Quick Connect" in dialog.table.texts()[0][3]
    screenshot(dialog, "dialog_redeem_quick_connect")
    qtbot.mouseClick(dialog.redeem_button, Qt.MouseButton.LeftButton)
    pump(lambda: any(u.username == "kim" for u in jelly._ctx.users), 10)
    kim = next(u for u in jelly._ctx.users if u.username == "kim")
    assert len(jelly._ctx.passwords[kim.jellyfin_id]) >= 32
    pump(lambda: dialog.check_button.isEnabled(), 10)  # the redemption task has finished
    dialog.close()
