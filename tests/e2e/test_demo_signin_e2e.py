"""Demo mode shows the new ways in without any real account: the settings `zondarr --demo` uses point Sign in
with Plex at the demo plex.tv (its sign-in page, approval by itself after 3 polls), Find servers at the demo
Jellyfin's discovery port, and its Quick Connect approves itself after 3 polls too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import requests

from app.cli.demo import demo_overrides, start_demo_servers
from app.demo.plextv_signin import ACCOUNT_TOKEN
from app.wiring import build_context
from tests.e2e.test_plex_signin_e2e import FakeTime


def test_demo_mode_signs_in_with_plex_and_finds_the_jellyfin(tmp_path: Path) -> None:
    plex, jellyfin = start_demo_servers(20)
    try:
        ctx = build_context(tmp_path, overrides=demo_overrides(plex, jellyfin))
        try:
            fake = FakeTime()
            ctx.plex_signin._sleep = fake.sleep  # no real-time waiting between polls
            ctx.jellyfin_signin._sleep = fake.sleep

            async def go() -> tuple[str, str, list[str], bool]:
                pin = await ctx.plex_signin.start()
                token = await ctx.plex_signin.wait_for_token(pin)
                found = await ctx.jellyfin_signin.discover(0.5)
                code, _ = await ctx.jellyfin_signin.start_quick_connect(found[0].url)
                signed = await ctx.jellyfin_signin.wait_quick_connect(code)
                return pin.auth_url, token, [f.url for f in found], signed.is_admin

            auth_url, token, found, admin = asyncio.run(go())
            assert token == ACCOUNT_TOKEN and admin
            assert fake.sleeps == 4  # each approved at its third poll
            page = requests.get(auth_url.split("#", 1)[0], timeout=5)
            assert page.status_code == 200 and "approved by itself after 3 checks" in page.text
            assert found == [jellyfin.url]
        finally:
            ctx.close()
    finally:
        plex.stop()
        jellyfin.stop()
