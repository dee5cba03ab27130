"""Invite cards end to end: the real CLI over real HTTP against the demo servers writes a card for an invitation
with two servers; its PNG's QR codes decode (zxing-cpp) to the addresses an invitee types, and its HTML is
self-contained."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PySide6.QtGui import QImage

from tests.e2e.conftest import DemoPair, demo_pair, run_cli

PUBLIC = "https://media.example.org:8920"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoPair, Path, str]]:
    data_dir = tmp_path_factory.mktemp("cards") / "data"
    with demo_pair(tracks=40, libraries=2) as pair:
        pair.add_both(data_dir)
        assert run_cli(data_dir, "sync").code == 0
        music = pair.plex.library.music_libraries()[0][1]
        r = run_cli(
            data_dir, "invite", "create", "--server", "Plex", "--server", "Jelly", "--library", f"Plex:{music}",
            "--duration-days", "30", "--note", "Welcome <b>Ana</b>", "--json",
        )  # fmt: skip
        assert r.code == 0, r.err
        yield pair, data_dir, r.json()["code"]  # type: ignore[index]


def test_png_card_qr_codes_decode_to_each_servers_address(
    env: tuple[DemoPair, Path, str], qapp: object
) -> None:
    pair, data_dir, code = env
    r = run_cli(data_dir, "invite", "public-address", "Jelly", PUBLIC, "--json")
    assert r.code == 0, r.err
    assert r.json() == {"server": "Jelly", "public_address": PUBLIC}
    out = data_dir.parent / "card.png"
    r = run_cli(data_dir, "invite", "card", code, "--out", str(out))
    assert r.code == 0, r.err
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 600
    decoded = sorted(b.text for b in zxingcpp.read_barcodes(image))
    assert decoded == sorted([pair.plex.url, PUBLIC])
    shots = Path("test-artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    image.save(str(shots / "invite_card_cli.png"))

    r = run_cli(data_dir, "invite", "public-address", "Jelly", "--clear")
    assert r.code == 0, r.err
    r = run_cli(data_dir, "invite", "card", code, "--out", str(out))
    assert r.code == 0
    assert sorted(b.text for b in zxingcpp.read_barcodes(QImage(str(out)))) == sorted(
        [pair.plex.url, pair.jellyfin.url]
    )


def test_html_card_is_self_contained_and_escapes_what_it_shows(env: tuple[DemoPair, Path, str]) -> None:
    pair, data_dir, code = env
    out = data_dir.parent / "card.html"
    r = run_cli(data_dir, "invite", "card", code, "--out", str(out), "--json")
    assert r.code == 0, r.err
    assert sorted(r.json()["servers"]) == ["Jelly", "Plex"]  # type: ignore[index]
    page = out.read_text(encoding="utf-8")
    assert code in page and pair.plex.url in page and pair.jellyfin.url in page
    # No external resource of any kind: no scripts, stylesheets, images, frames or CSS urls.
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"\b(src|href)\s*=", page, re.I)
    assert "url(" not in page and "@import" not in page
    assert page.count("<svg") == 2  # one QR code per server, inline
    assert "<b>Ana</b>" not in page and "Welcome &lt;b&gt;Ana&lt;/b&gt;" in page


def test_card_refuses_unknown_code_bad_output_and_bad_address(env: tuple[DemoPair, Path, str]) -> None:
    _, data_dir, code = env
    r = run_cli(data_dir, "invite", "card", "NOSUCHCODE", "--out", str(data_dir.parent / "x.png"))
    assert r.code == 1 and "no invitation" in r.err.lower()
    r = run_cli(data_dir, "invite", "card", code, "--out", str(data_dir.parent / "x.pdf"))
    assert r.code != 0 and "png" in r.err.lower()
    r = run_cli(data_dir, "invite", "public-address", "Jelly", "ftp://x")
    assert r.code != 0 and "address" in r.err.lower()
    r = run_cli(data_dir, "invite", "public-address", "Nope", PUBLIC)
    assert r.code != 0
