"""The invite card of one invitation: a preview of the card as it will be printed or sent, the address invitees
type for each server (editable; saved as that server's public address), and the ways to hand it over: Save as
PNG…, Save as HTML…, Copy text, E-mail….

GUI thread only. Reads and the address change run through ``ctx.runner`` (inside the card service); file dialogs
are opened with ``open()``-style non-blocking calls; nothing here blocks the event loop.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.services.context import AppContext
from app.services.invite_card import InviteCard, card_html, card_text, mailto_url
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup
from app.ui.widgets.invite_card_image import paint_card


class InviteCardDialog(QDialog):
    message = Signal(str, str)  # text, kind (for the window's toasts)
    card_loaded = Signal()

    def __init__(self, ctx: AppContext, code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._code = code
        self.card: InviteCard | None = None
        self.tasks = TaskGroup("invite-card")
        self.file_dialog: QFileDialog | None = None
        self.setWindowTitle(f"Invite card — {code}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(900, 720)
        layout = QVBoxLayout(self)
        self.preview = QLabel("Preparing the card…", self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.preview.setAccessibleName("Card preview")
        scroll = QScrollArea(self)
        scroll.setWidget(self.preview)
        scroll.setWidgetResizable(True)
        layout.addWidget(scroll, 1)

        address_row = QHBoxLayout()
        label = QLabel("Address invitees &type for", self)
        self.server_choice = QComboBox(self)
        self.server_choice.setAccessibleName("Server")
        self.server_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        label.setBuddy(self.server_choice)
        self.address = QLineEdit(self)
        self.address.setAccessibleName("Public address")
        self.address.setPlaceholderText("e.g. https://media.example.org")
        self.address_button = QPushButton("Set &address", self)
        for w in (label, self.server_choice):
            address_row.addWidget(w)
        address_row.addWidget(self.address, 1)
        address_row.addWidget(self.address_button)
        layout.addLayout(address_row)
        hint = QLabel(
            "Often the stored URL is a home-network address; type the one people outside your home use.", self
        )
        hint.setObjectName("hint")
        layout.addWidget(hint)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.png_button = QPushButton("Save as &PNG…", self)
        self.html_button = QPushButton("Save as &HTML…", self)
        self.copy_button = QPushButton("&Copy text", self)
        self.mail_button = QPushButton("&E-mail…", self)
        for b in (self.png_button, self.html_button, self.copy_button, self.mail_button):
            buttons.addButton(b, QDialogButtonBox.ButtonRole.ActionRole)
            b.setEnabled(False)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.close)
        self.png_button.clicked.connect(lambda: self._choose_file("png"))
        self.html_button.clicked.connect(lambda: self._choose_file("html"))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.mail_button.clicked.connect(self._on_mail_clicked)
        self.address_button.clicked.connect(self._on_address_clicked)
        self.server_choice.currentIndexChanged.connect(self._on_server_choice_changed)
        self.tasks.start("load", self._load())

    def closeEvent(self, event: object) -> None:
        self.tasks.cancel_all()
        super().closeEvent(event)  # type: ignore[arg-type]

    async def _load(self) -> None:
        service = self._ctx.invite_cards
        try:
            card = await service.card(self._code)
        except Exception as exc:
            err = as_zondarr_error(exc)
            self.preview.setText(f"{err.user_message}\n(reference {err.correlation_id})")
            return
        self._show(card)

    def _show(self, card: InviteCard) -> None:
        self.card = card
        self.preview.setPixmap(QPixmap.fromImage(paint_card(card)))
        chosen = self.server_choice.currentData()
        self.server_choice.blockSignals(True)
        self.server_choice.clear()
        for server in card.servers:
            self.server_choice.addItem(server.name, server.name)
        index = self.server_choice.findData(chosen)
        self.server_choice.setCurrentIndex(max(index, 0))
        self.server_choice.blockSignals(False)
        self._on_server_choice_changed()
        for b in (self.png_button, self.html_button, self.copy_button, self.mail_button):
            b.setEnabled(True)
        self.card_loaded.emit()

    def _on_server_choice_changed(self, *_: object) -> None:
        name = self.server_choice.currentData()
        if self.card is None:
            return
        for server in self.card.servers:
            if server.name == name:
                self.address.setText(server.address)

    def _on_address_clicked(self) -> None:
        name = self.server_choice.currentData()
        if name:
            self.tasks.start("address", self._set_address(str(name), self.address.text()), replace=True)

    async def _set_address(self, server: str, address: str) -> None:
        service = self._ctx.invite_cards
        try:
            stored = await service.set_public_url(server, address)
            card = await service.card(self._code)
        except Exception as exc:
            err = as_zondarr_error(exc)
            self.message.emit(f"{err.user_message} {err.remedy}".strip(), "error")
            return
        self._show(card)
        self.message.emit(
            f"Cards now show {stored} for {server}." if stored else f"Cards show the stored URL of {server}.",
            "success",
        )

    def _choose_file(self, kind: str) -> None:
        if self.card is None:
            return
        dialog = QFileDialog(self, f"Save the card as {kind.upper()}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(kind)
        dialog.setNameFilter("PNG image (*.png)" if kind == "png" else "Web page (*.html)")
        dialog.selectFile(f"invitation-{self.card.code}.{kind}")
        dialog.fileSelected.connect(lambda path: self.save_to(path, kind))
        self.file_dialog = dialog
        dialog.open()

    def save_to(self, path: str, kind: str) -> bool:
        """Writes the card to ``path`` as ``kind`` ("png" or "html"); tells the admin how it went."""
        if self.card is None:
            return False
        if kind == "png":
            ok = paint_card(self.card).save(path)
        else:
            try:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(card_html(self.card))
                ok = True
            except OSError:
                ok = False
        if ok:
            self.message.emit(f"Card saved as {path}.", "success")
        else:
            self.message.emit(
                "The card could not be saved there. Choose a folder you can write to, with free space.",
                "error",
            )
        return ok

    def _on_copy_clicked(self) -> None:
        if self.card is not None:
            QGuiApplication.clipboard().setText(card_text(self.card))
            self.message.emit("The card's text is on the clipboard.", "info")

    def _on_mail_clicked(self) -> None:
        if self.card is not None:
            QDesktopServices.openUrl(QUrl(mailto_url(self.card), QUrl.ParsingMode.StrictMode))
