"""The window keeps a removed server's name: its sync runs in Sync history read "<name> (removed)", not "all",
and an invitation whose only server was removed shows "no servers" with the server's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.ui.main_window import PAGES
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import Shell, pump, run


def test_history_and_invitations_keep_a_removed_servers_name(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., Any], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=300)
    plex = demo_factory("plex", tracks=200)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    shell.add_jellyfin(jelly, "Home Jellyfin")
    shell.add_plex(plex, "Kept Plex")
    shell.sync_now()
    invite = run(shell.loop, shell.ctx.people.invitations.create(["Home Jellyfin"]))
    run(shell.loop, shell.ctx.servers.remove("Home Jellyfin"))

    window = shell.open(background_jobs=False)
    window.sidebar.setCurrentRow(PAGES.index("Sync history"))
    pump(lambda: window.history_page.model.rowCount() == 2, 10)
    servers = {window.history_page.model.row(i)[1] for i in range(2)}
    assert servers == {"Home Jellyfin (removed)", "Kept Plex"}
    screenshot(window, "history_removed_server")

    window.sidebar.setCurrentRow(PAGES.index("Invitations"))
    pump(lambda: window.invitations_page.model.rowCount() == 1, 10)
    row = window.invitations_page.model.row(0)
    assert row[0] == invite.code and row[1] == "no servers"
    assert "Home Jellyfin (removed)" in row[5]
    screenshot(window, "invitations_no_servers")
