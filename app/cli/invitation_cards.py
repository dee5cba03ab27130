"""Command line for handing over invitations: ``invite card CODE --out FILE.png|FILE.html`` and
``invite public-address SERVER [ADDRESS | --clear]`` (the address invitees type, shown on cards).

``register(invite_subparsers)`` is called by ``app.cli.people`` while it builds the ``invite`` group.
The PNG is painted with QtGui under a QGuiApplication on the offscreen platform, so it works without a display.
Main thread; exit codes as the other commands (DESIGN §6).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.cli.render import print_json, with_json
from app.core.errors import ConfigurationError, ValidationError
from app.services.context import AppContext
from app.services.invite_card import InviteCard, InviteCardService, card_html

EXIT_OK = 0


def _service(ctx: AppContext) -> InviteCardService:
    return ctx.invite_cards


def _write_png(card: InviteCard, out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from app.ui.widgets.invite_card_image import paint_card

    app = QGuiApplication.instance() or QGuiApplication([])
    image = paint_card(card)
    if not image.save(str(out)):
        raise _not_written(out)
    del app


def _not_written(out: Path, exc: OSError | None = None) -> ConfigurationError:
    detail = f": {exc.strerror}" if exc is not None and exc.strerror else ""
    return ConfigurationError(
        f"The card could not be written to {out.name}{detail}.",
        remedy="Choose a folder you can write to, with free space.",
    )


async def cmd_invite_card(ctx: AppContext, args: argparse.Namespace) -> int:
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise ValidationError(
            f"{out.name} is neither a .png nor an .html file.",
            remedy="Name the output FILE.png or FILE.html.",
        )
    card = await _service(ctx).card(args.code)
    if suffix == ".png":
        _write_png(card, out)
    else:
        try:
            out.write_text(card_html(card), encoding="utf-8")
        except OSError as exc:
            raise _not_written(out, exc) from None
    if args.json:
        print_json({"code": card.code, "out": str(out), "servers": [s.name for s in card.servers]})
    else:
        print(f"Card for {card.code} written to {out}")
    return EXIT_OK


async def cmd_invite_public_address(ctx: AppContext, args: argparse.Namespace) -> int:
    service = _service(ctx)
    if args.clear or args.address is not None:
        stored = await service.set_public_url(args.server, "" if args.clear else args.address)
    else:
        stored = await service.public_url(args.server)
    if args.json:
        print_json({"server": args.server, "public_address": stored or None})
    else:
        print(stored or f"{args.server} has no public address: cards show its stored URL.")
    return EXIT_OK


def register(isub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = with_json(
        isub.add_parser("card", help="write an invitation's card (QR code, steps) as PNG or HTML")
    )
    card.add_argument("code")
    card.add_argument("--out", required=True, metavar="FILE.png|FILE.html")
    card.set_defaults(in_context=cmd_invite_card)
    address = with_json(
        isub.add_parser("public-address", help="the address invitees type for a server (shown on cards)")
    )
    address.add_argument("server", metavar="SERVER")
    address.add_argument("address", nargs="?", metavar="ADDRESS", help="e.g. https://media.example.org")
    address.add_argument("--clear", action="store_true", help="cards show the server's stored URL again")
    address.set_defaults(in_context=cmd_invite_public_address)
