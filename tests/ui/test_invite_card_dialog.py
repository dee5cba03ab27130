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
    assert shell.ctx.invitations is not None
    inv = run(shell.loop, shell.ctx.invitations.create(["Demo Plex", "Demo Jellyfin"], duration_days=14))
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
