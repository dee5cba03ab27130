"""Paints an ``InviteCard`` into a QImage (saved as PNG by the card dialog and ``zondarr invite card``).

QtGui only (no widgets), so the command line can paint it under a QGuiApplication on the offscreen platform.
Light colours whatever the app's theme: the card is printed or sent to someone else. GUI (or main) thread only,
with a QGuiApplication alive.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

from app.core.models import ServerKind
from app.services.invite_card import InviteCard, card_facts, qr_matrix

WIDTH = 820
MARGIN = 36
MODULE = 5  # pixels per QR module: large enough for a phone camera from a printed page
QUIET = 4  # modules of light border around a QR code, as the standard asks
TEXT_FLAGS = int(Qt.TextFlag.TextWordWrap)


def _font(size: int, bold: bool = False, mono: bool = False) -> QFont:
    font = QFont()
    if mono:
        font.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
        font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPixelSize(size)
    font.setBold(bold)
    return font


def _qr_size(address: str) -> int:
    return (len(qr_matrix(address)) + 2 * QUIET) * MODULE


def _paint_qr(p: QPainter, address: str, x: int, y: int) -> int:
    matrix = qr_matrix(address)
    side = (len(matrix) + 2 * QUIET) * MODULE
    p.fillRect(x, y, side, side, QColor("white"))
    dark = QColor("black")
    for r, row in enumerate(matrix):
        for c, cell in enumerate(row):
            if cell:
                p.fillRect(x + (c + QUIET) * MODULE, y + (r + QUIET) * MODULE, MODULE, MODULE, dark)
    return side


class _Layout:
    """Measures (dry run) or paints (with a painter) the card from top to bottom; returns the height used."""

    def __init__(self, card: InviteCard, painter: QPainter | None) -> None:
        self.card = card
        self.p = painter
        self.y = MARGIN

    def text(self, text: str, font: QFont, x: int, width: int, color: str = "#111111", gap: int = 6) -> None:
        metrics = QFontMetrics(font)
        rect = metrics.boundingRect(QRect(x, self.y, width, 10_000), TEXT_FLAGS, text)
        if self.p is not None:
            self.p.setFont(font)
            self.p.setPen(QColor(color))
            self.p.drawText(QRect(x, self.y, width, rect.height()), TEXT_FLAGS, text)
        self.y += rect.height() + gap

    def run(self) -> int:
        card, inner = self.card, WIDTH - 2 * MARGIN
        self.text(card.title, _font(26, bold=True), MARGIN, inner, gap=14)
        code_font = _font(34, bold=True, mono=True)
        code_metrics = QFontMetrics(code_font)
        box = QRect(
            MARGIN, self.y, code_metrics.horizontalAdvance(card.code) + 48, code_metrics.height() + 24
        )
        if self.p is not None:
            self.p.setPen(QPen(QColor("#444444"), 2, Qt.PenStyle.DashLine))
            self.p.drawRoundedRect(QRectF(box), 8, 8)
            self.p.setFont(code_font)
            self.p.setPen(QColor("#111111"))
            self.p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), card.code)
        self.y += box.height() + 12
        for fact in card_facts(card):
            self.text(fact, _font(16), MARGIN, inner, color="#444444", gap=2)
        if card.note:
            self.y += 8
            self.text(card.note, _font(16), MARGIN, inner)
        for server in card.servers:
            self.y += 18
            if self.p is not None:
                self.p.setPen(QPen(QColor("#bbbbbb"), 1))
                self.p.drawLine(MARGIN, self.y, WIDTH - MARGIN, self.y)
            self.y += 14
            top = self.y
            side = _qr_size(server.address)
            if self.p is not None:
                _paint_qr(self.p, server.address, MARGIN, top)
            x = MARGIN + side + 20
            width = WIDTH - MARGIN - x
            kind = "Plex" if server.kind is ServerKind.PLEX else "Jellyfin"
            self.text(f"{server.name} ({kind})", _font(20, bold=True), x, width)
            libraries = ", ".join(server.libraries) if server.libraries else "all libraries"
            self.text(f"Libraries: {libraries}", _font(15), x, width, color="#444444", gap=2)
            self.text(server.address, _font(16, mono=True), x, width, gap=10)
            for n, step in enumerate(server.steps, 1):
                self.text(f"{n}. {step}", _font(15), x, width, gap=4)
            self.y = max(self.y, top + side)
        return self.y + MARGIN


def paint_card(card: InviteCard) -> QImage:
    """The card as an RGB image, WIDTH pixels wide and as tall as its content."""
    height = _Layout(card, None).run()
    image = QImage(WIDTH, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        _Layout(card, painter).run()
    finally:
        painter.end()
    return image
