"""The invite card's pure parts: what it shows, its text and mailto link, the self-contained HTML, and reading
what an invitee sent back."""

from __future__ import annotations

import re
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.models import AuthMethod, Invitation, InvitationTarget, Library, Server, ServerKind
from app.services.invite_card import (
    build_card,
    card_html,
    card_text,
    mailto_url,
    parse_invitee_reply,
    qr_matrix,
)

PLEX = Server(1, "Home Plex", ServerKind.PLEX, "http://192.168.1.10:32400", AuthMethod.TOKEN)
JELLY = Server(2, "Jelly <b>", ServerKind.JELLYFIN, "http://192.168.1.11:8096", AuthMethod.API_KEY)


def _invitation(*targets: InvitationTarget, note: str = "") -> Invitation:
    return Invitation(7, "ABCDEFGH23", True, 0.0, None, None, 0, 30, note, targets)


def test_card_uses_public_addresses_library_titles_and_leaves_out_removed_servers() -> None:
    inv = _invitation(
        InvitationTarget(1, "Home Plex", ("11", "99")),
        InvitationTarget(2, "Jelly <b>"),
        InvitationTarget(3, "Gone"),
    )
    card = build_card(
        inv, {1: PLEX, 2: JELLY}, {1: [Library(5, 1, "11", "Lossless")]}, {2: "https://j.example"}
    )
    assert [(s.name, s.address, s.libraries) for s in card.servers] == [
        ("Home Plex", PLEX.url, ("Lossless", "99")),
        ("Jelly <b>", "https://j.example", ()),
    ]
    text = card_text(card)
    assert "Invitation code: ABCDEFGH23" in text and "Access for 30 days" in text
    assert "all libraries" in text and "Quick Connect" in text and "Gone" not in text


def test_mailto_carries_subject_and_the_whole_text() -> None:
    card = build_card(_invitation(InvitationTarget(1, "Home Plex")), {1: PLEX}, {}, {})
    url = mailto_url(card, "ana@example.org")
    assert url.startswith("mailto:ana@example.org?")
    query = urllib.parse.parse_qs(url.partition("?")[2])
    assert query["subject"] == [card.title]
    assert query["body"][0].replace("\r\n", "\n") == card_text(card)
    assert "+" not in url.partition("?")[2]  # spaces as %20: mail clients show '+' literally


def test_html_is_self_contained_and_escaped() -> None:
    card = build_card(
        _invitation(InvitationTarget(2, "x"), note="<script>alert(1)</script>"), {2: JELLY}, {}, {}
    )
    page = card_html(card)
    assert "<script" not in page and "&lt;script&gt;" in page and "Jelly &lt;b&gt;" in page
    assert not re.search(r"\b(src|href)\s*=", page) and "url(" not in page and page.count("<svg") == 1


def test_qr_matrix_is_a_square_code() -> None:
    matrix = qr_matrix("http://192.168.1.10:32400")
    assert len(matrix) >= 21 and all(len(row) == len(matrix) for row in matrix)
    assert matrix[0][:7] == (True,) * 7  # the finder pattern's top edge


def test_reply_forms() -> None:
    assert parse_invitee_reply("ana@example.org") == ("ana@example.org", "ana@example.org")
    assert parse_invitee_reply(" robin. ") == ("robin", "")
    assert parse_invitee_reply("Hi! username: kim_88\nmail kim@example.com") == ("kim_88", "kim@example.com")
    assert parse_invitee_reply("Hello there friend") == ("", "")


names = st.from_regex(r"[a-z][a-z0-9_]{2,15}", fullmatch=True)
emails = st.builds(lambda u, d: f"{u}@{d}.org", names, st.from_regex(r"[a-z][a-z0-9]{1,15}", fullmatch=True))


@settings(max_examples=200)
@given(
    names, emails, st.sampled_from(["{e}", "{u}", "username: {u}\n{e}", "Hi, it's {e}, thanks!", "user={u}"])
)
def test_reply_finds_what_was_sent(name: str, email: str, form: str) -> None:
    reply = parse_invitee_reply(form.format(u=name, e=email))
    if "{u}" in form:
        assert reply.username == name
    if "{e}" in form:
        assert reply.email == email
        assert reply.username in (name, email)
