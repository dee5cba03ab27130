"""The invite card: what an admin hands to an invitee — the code, what it gives, each server's address as the
invitee should type it, a QR code of that address and short steps per app — as plain text, a ``mailto:`` link
and a self-contained, print-friendly HTML page. The PNG is painted by the UI (Qt) from the same ``InviteCard``.

``build_card``, ``card_text``, ``card_html``, ``mailto_url`` and ``qr_matrix`` are pure. ``InviteCardService``
is a Qt-free coroutine API for the event loop; its reads go through the runner. Nothing here opens a port or
sends anything: the admin hands the card over.
"""

from __future__ import annotations

import html
import re
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from app.core.errors import NotFoundError, ValidationError
from app.core.models import Invitation, Library, Server, ServerKind
from app.core.ports import Clock, InvitationStore, Runner, ServerStore, SettingsStore, TrackReader
from app.services.invitations import normalize_code

PUBLIC_URL_KEY = "public_url:{server_id}"  # settings key: the address invitees type for one server


@dataclass(frozen=True, slots=True)
class CardServer:
    """One target server as the invitee meets it."""

    name: str
    kind: ServerKind
    address: str  # the public address (setting), else the stored URL
    libraries: tuple[str, ...]  # library titles; empty = every library
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InviteCard:
    code: str
    servers: tuple[CardServer, ...]
    duration_days: int | None
    expires_at: float | None
    note: str

    @property
    def title(self) -> str:
        return f"Your invitation to {_join_names([s.name for s in self.servers]) or 'our media servers'}"


def _join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _steps(kind: ServerKind, name: str, address: str) -> tuple[str, ...]:
    if kind is ServerKind.PLEX:
        return (
            "Send your admin the e-mail address (or plex.tv username) of your Plex account — or create a free "
            "account at plex.tv first.",
            "Accept the e-mail from Plex inviting you to " + name + ".",
            "Open Plex or Plexamp, signed in with that account: the shared libraries appear there.",
        )
    return (
        "Install the Jellyfin app on your phone, TV or computer (or open the address above in a browser).",
        "Add this server: " + address,
        "Choose Quick Connect and read the 6-digit code it shows to your admin; you are signed in once they "
        "approve it.",
    )


def build_card(
    invitation: Invitation,
    servers: Mapping[int, Server],
    libraries: Mapping[int, Sequence[Library]],
    public_urls: Mapping[int, str],
) -> InviteCard:
    """Pure: the card of ``invitation``. Targets whose server is gone are left out (the invitation's status says
    so elsewhere); library keys the cache no longer knows are shown as their key."""
    card_servers = []
    for target in invitation.targets:
        server = servers.get(target.server_id)
        if server is None:
            continue
        titles = {lib.key: lib.title for lib in libraries.get(server.id, ())}
        address = public_urls.get(server.id) or server.url
        card_servers.append(
            CardServer(
                name=server.name,
                kind=server.kind,
                address=address,
                libraries=tuple(titles.get(key, key) for key in target.library_keys),
                steps=_steps(server.kind, server.name, address),
            )
        )
    return InviteCard(
        code=invitation.code,
        servers=tuple(card_servers),
        duration_days=invitation.duration_days,
        expires_at=invitation.expires_at,
        note=invitation.note,
    )


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


def card_facts(card: InviteCard) -> list[str]:
    """The short lines under the code: what the invitation gives and until when."""
    facts = []
    if card.duration_days:
        facts.append(f"Access for {card.duration_days} day{'s' if card.duration_days != 1 else ''}")
    else:
        facts.append("Access without an end date")
    if card.expires_at is not None:
        facts.append(f"Use this invitation before {_date(card.expires_at)}")
    return facts


def _libraries_text(server: CardServer) -> str:
    return ", ".join(server.libraries) if server.libraries else "all libraries"


def card_text(card: InviteCard) -> str:
    """Plain text of the card, for the clipboard and the e-mail body."""
    lines = [card.title, "", f"Invitation code: {card.code}", *card_facts(card)]
    if card.note:
        lines += ["", card.note]
    for server in card.servers:
        kind = "Plex" if server.kind is ServerKind.PLEX else "Jellyfin"
        lines += ["", f"{server.name} ({kind}) — {_libraries_text(server)}", f"Address: {server.address}"]
        lines += [f"  {n}. {step}" for n, step in enumerate(server.steps, 1)]
    return "\n".join(lines) + "\n"


def mailto_url(card: InviteCard, to: str = "") -> str:
    """A ``mailto:`` link with the subject and body filled in (RFC 6068: %20 for spaces, CRLF line breaks)."""
    query = urllib.parse.urlencode(
        {"subject": card.title, "body": card_text(card).replace("\n", "\r\n")}, quote_via=urllib.parse.quote
    )
    return f"mailto:{urllib.parse.quote(to, safe='@')}?{query}"


def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of ``data`` (segno, error correction M, no border) as rows of dark/light modules."""
    import segno  # loaded with the first card, not at start-up

    qr = segno.make_qr(data, error="m")
    return tuple(tuple(bool(cell) for cell in row) for row in qr.matrix)


def _qr_svg(data: str) -> str:
    import segno

    # svg_inline: no XML declaration, fit for embedding; no external reference of any kind.
    return str(segno.make_qr(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff"))


_CSS = """
body { font-family: system-ui, sans-serif; color: #111; background: #fff; max-width: 44em; margin: 2em auto; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
.code { font: bold 2em ui-monospace, monospace; letter-spacing: .15em; border: 2px dashed #444;
        padding: .3em .6em; display: inline-block; margin: .4em 0; }
.server { border-top: 1px solid #bbb; margin-top: 1.2em; padding-top: .8em; display: flex; gap: 1.2em; }
.server svg { flex: none; }
.address { font-family: ui-monospace, monospace; word-break: break-all; }
.muted { color: #555; }
@media print { body { margin: 0; } .server { break-inside: avoid; } }
"""


def card_html(card: InviteCard) -> str:
    """A self-contained, print-friendly HTML page: inline CSS and inline SVG QR codes, no script, no link to
    anything outside the file."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(card.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(card.title)}</h1>",
        f'<div class="code">{esc(card.code)}</div>',
        "".join(f'<p class="muted">{esc(fact)}</p>' for fact in card_facts(card)),
    ]
    if card.note:
        parts.append(f"<p>{esc(card.note)}</p>")
    for server in card.servers:
        kind = "Plex" if server.kind is ServerKind.PLEX else "Jellyfin"
        steps = "".join(f"<li>{esc(step)}</li>" for step in server.steps)
        parts.append(
            '<section class="server">'
            f"{_qr_svg(server.address)}"
            f"<div><h2>{esc(server.name)} <span class='muted'>({kind})</span></h2>"
            f"<p>Libraries: {esc(_libraries_text(server))}</p>"
            f'<p>Address: <span class="address">{esc(server.address)}</span></p>'
            f"<ol>{steps}</ol></div></section>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _normalised_address(text: str) -> str:
    address = text.strip()
    if not address:
        return ""
    parsed = urllib.parse.urlsplit(address if "://" in address else "http://" + address)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationError(
            f"{text!r} is not an address an invitee can open.",
            remedy="Type it as the invitee would, e.g. https://media.example.org or http://203.0.113.7:8096.",
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
        raise ValidationError("The address contains control characters.", remedy="Type the address again.")
    return urllib.parse.urlunsplit(parsed)


class InviteCardService:
    """Builds invite cards and keeps each server's public address (what invitees type; the stored URL is often a
    LAN address). Event-loop coroutines; store calls go through the runner."""

    def __init__(
        self,
        *,
        runner: Runner,
        invitations: InvitationStore,
        servers: ServerStore,
        tracks: TrackReader,
        settings: SettingsStore,
        clock: Clock = time.time,
    ) -> None:
        self._runner = runner
        self._invitations = invitations
        self._servers = servers
        self._tracks = tracks
        self._settings = settings
        self._clock = clock

    async def public_urls(self) -> dict[int, str]:
        """Server id → public address, for the servers that have one set."""
        raw = await self._runner.read(self._settings.load_raw)
        prefix = PUBLIC_URL_KEY.partition("{")[0]
        urls = {}
        for key, value in raw.items():
            if key.startswith(prefix) and key[len(prefix) :].isdigit() and value:
                urls[int(key[len(prefix) :])] = value
        return urls

    async def public_url(self, server_name: str) -> str:
        """The public address set for ``server_name`` ("" when none). Raises NotFoundError for an unknown server."""
        server = await self._runner.read(self._servers.get_by_name, server_name)
        return (await self.public_urls()).get(server.id, "")

    async def set_public_url(self, server_name: str, address: str) -> str:
        """Sets (or, with an empty ``address``, clears) the address invitees type for ``server_name``; returns
        the stored form. Raises NotFoundError for an unknown server, ValidationError for a bad address."""
        server = await self._runner.read(self._servers.get_by_name, server_name)
        value = _normalised_address(address)
        await self._runner.db(self._settings.save_raw, {PUBLIC_URL_KEY.format(server_id=server.id): value})
        return value

    async def card(self, code: str) -> InviteCard:
        """The card of the invitation ``code``. Raises NotFoundError when there is no such invitation and
        ValidationError when none of its servers is configured any more."""
        invitation = await self._runner.read(self._invitations.get_by_code, normalize_code(code))
        if invitation is None:
            raise NotFoundError(
                f"There is no invitation {code!r}.", remedy="Check the code with `zondarr invite list`."
            )
        servers = {s.id: s for s in await self._runner.read(self._servers.list)}
        libraries = {
            t.server_id: await self._runner.read(self._tracks.libraries, t.server_id)
            for t in invitation.targets
            if t.server_id in servers
        }
        card = build_card(invitation, servers, libraries, await self.public_urls())
        if not card.servers:
            raise ValidationError(
                f"Invitation {invitation.code} has no target server any more.",
                remedy="Create a new invitation for the servers you have now.",
            )
        return card


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_LABELLED = re.compile(r"(?i)\b(?:user\s*name|user|name|login)\s*[:=]\s*([^\s,;]+)")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")


class InviteeReply(NamedTuple):
    """What an invitee sent back after reading their card, as the redeem form wants it."""

    username: str
    email: str


def parse_invitee_reply(text: str) -> InviteeReply:
    """Pure: the username and e-mail address in what an invitee sent back — a bare e-mail address, a plex.tv
    username, a wanted Jellyfin username, or a short message with "username: …" and an address in it.
    Without a username, a found address doubles as it (plex.tv accepts either); empty parts stay empty."""
    emails = _EMAIL.findall(text)
    email = emails[0] if emails else ""
    labelled = _LABELLED.search(text)
    username = labelled.group(1).strip(".,;") if labelled else ""
    if not username:
        rest = _EMAIL.sub(" ", text).split()
        if len(rest) == 1 and _NAME.fullmatch(rest[0].strip(".,;")):
            username = rest[0].strip(".,;")
    if not username:
        username = email
    return InviteeReply(username=username, email=email)
