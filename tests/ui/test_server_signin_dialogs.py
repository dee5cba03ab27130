"""The Add server dialog's ways in, against the demo servers over HTTP (loopback UDP for discovery): Sign in with
Plex (waiting with the link, then the account's servers with the chosen connection, then added), Find servers
(the demo Jellyfin listed) and Quick Connect (the code shown, then added with the API key offer). Screenshots
are saved for each state; the browser is never opened (``open_url`` is replaced)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PySide6.QtCore import Qt, QUrl

from app.demo import DemoServer
from app.demo.jellyfin_signin import QC_CONTROL_PATH
from app.demo.plextv_signin import PIN_CONTROL_PATH
from app.ui.dialogs import server_signin_dialogs
from app.ui.dialogs.server_dialog import ServerDialog
from app.ui.dialogs.server_signin_dialogs import FindServersDialog, PlexSignInDialog, QuickConnectDialog
from tests.ui.conftest import screenshot
from tests.ui.shell_fixtures import JELLYFIN_KEY, PLEX_TOKEN, Shell, pump


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []

    def record(url: QUrl) -> bool:
        urls.append(url.toString())
        return True

    monkeypatch.setattr(server_signin_dialogs, "open_url", record)
    return urls


def test_sign_in_with_plex_waits_then_lists_the_account_servers_and_adds_the_chosen_connection(
    shell_factory: Callable[..., Shell],
    demo_factory: Callable[..., DemoServer],
    dark_theme: None,
    qtbot: Any,
    opened: list[str],
) -> None:
    plex = demo_factory("plex", tracks=30)
    shell = shell_factory(overrides={"plex_tv_url": plex.url, "plex_auth_url": plex.url + "/auth"})
    add = ServerDialog(shell.ctx)
    qtbot.addWidget(add)
    add.show()
    screenshot(add, "add_server_ways_in")
    qtbot.mouseClick(add.plex_button, Qt.MouseButton.LeftButton)
    dialog = add.flow
    assert isinstance(dialog, PlexSignInDialog)
    pump(lambda: dialog.outcome == "waiting", 15)
    assert opened == [dialog.link.text()] and dialog.link.text().startswith(plex.url + "/auth#?")
    assert "Waiting for you to sign in at plex.tv" in dialog.status.text()
    assert dialog.copy_button.isEnabled() and dialog.cancel_button.isEnabled()
    screenshot(dialog, "signin_plex_waiting")

    code = parse_qs(urlsplit(dialog.link.text()).fragment.lstrip("?"))["code"][0]
    approved = requests.post(
        plex.url + PIN_CONTROL_PATH,
        data=json.dumps({"code": code}),
        headers={"X-Plex-Token": PLEX_TOKEN},
        timeout=5,
    )
    assert approved.status_code == 200
    pump(lambda: dialog.outcome == "choosing", 20)
    rows = [dialog.servers.item(n).text() for n in range(dialog.servers.count())]
    assert rows[0].startswith(f"Zondarr Demo Plex (owned) — {plex.url}")
    assert "local address not reachable; using the remote http address" in rows[0]
    assert rows[1].startswith("Friend's Plex (shared with you)") and "no address answered" in rows[1]
    assert dialog.add_button.isEnabled()
    screenshot(dialog, "signin_plex_servers")

    saved: list[object] = []
    add.server_saved.connect(saved.append)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    pump(lambda: dialog.outcome in ("added", "failed"), 20)
    assert dialog.outcome == "added", dialog.status.text()
    assert f"Added Zondarr Demo Plex at {plex.url}" in dialog.status.text()
    screenshot(dialog, "signin_plex_done")
    [server] = shell.ctx.server_store.list()
    assert saved and server.url == plex.url and shell.ctx.secrets.get(server.secret_ref) == PLEX_TOKEN


def test_cancelled_plex_sign_in_says_so_and_stores_nothing(
    shell_factory: Callable[..., Shell],
    demo_factory: Callable[..., DemoServer],
    qtbot: Any,
    opened: list[str],
) -> None:
    plex = demo_factory("plex", tracks=10)
    shell = shell_factory(overrides={"plex_tv_url": plex.url})
    dialog = PlexSignInDialog(shell.ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    pump(lambda: dialog.outcome == "waiting", 15)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.outcome == "cancelled" and not dialog.isVisible()
    pump(lambda: not dialog.tasks.running(), 5)
    assert shell.ctx.server_store.list() == []


def test_find_servers_lists_the_demo_jellyfin_and_quick_connect_shows_the_code_then_adds_it(
    shell_factory: Callable[..., Shell],
    demo_factory: Callable[..., DemoServer],
    dark_theme: None,
    qtbot: Any,
) -> None:
    jelly = demo_factory("jellyfin", tracks=30)
    shell = shell_factory(overrides={"discovery_address": f"127.0.0.1:{jelly.discovery_port}"})
    add = ServerDialog(shell.ctx)
    qtbot.addWidget(add)
    add.show()
    qtbot.mouseClick(add.find_button, Qt.MouseButton.LeftButton)
    finder = add.flow
    assert isinstance(finder, FindServersDialog)
    pump(lambda: finder.list.count() == 1, 15)
    assert finder.list.item(0).text() == f"Zondarr Demo Jellyfin — {jelly.url}\n    id {jelly.machine_id}"
    assert "Found 1 Jellyfin server on the network." in finder.status.text()
    screenshot(finder, "find_servers")

    qtbot.mouseClick(finder.quick_button, Qt.MouseButton.LeftButton)
    qc = finder.quick_connect
    assert isinstance(qc, QuickConnectDialog)
    pump(lambda: qc.outcome == "waiting", 15)
    assert qc.code.text().isdigit() and len(qc.code.text()) == 6
    assert "Enter this code in any signed-in Jellyfin app" in qc.status.text()
    screenshot(qc, "quick_connect_code")

    admin = {"Authorization": f'MediaBrowser Token="{JELLYFIN_KEY}"'}
    r = requests.post(
        jelly.url + QC_CONTROL_PATH, data=json.dumps({"code": qc.code.text()}), headers=admin, timeout=5
    )
    assert r.status_code == 200
    pump(lambda: qc.outcome in ("added", "failed"), 20)
    assert qc.outcome == "added", qc.status.text()
    assert qc.api_key_button.isVisible() and "added Zondarr Demo Jellyfin" in qc.status.text()
    screenshot(qc, "quick_connect_done")
    [server] = shell.ctx.server_store.list()
    assert server.machine_id == jelly.machine_id


def test_a_pasted_address_is_detected_and_a_second_add_of_the_same_server_is_refused(
    shell_factory: Callable[..., Shell], demo_factory: Callable[..., DemoServer], dark_theme: None, qtbot: Any
) -> None:
    jelly = demo_factory("jellyfin", tracks=20)
    shell = shell_factory()
    shell.add_jellyfin(jelly, "Jelly")
    add = ServerDialog(shell.ctx)
    qtbot.addWidget(add)
    add.show()
    add.url.setFocus()
    qtbot.keyClicks(add.url, jelly.url.removeprefix("http://") + "/web/index.html#!/home")
    add.url.editingFinished.emit()
    pump(
        lambda: "server: using" in add.result_label.text() or add.result_label.objectName() == "testFailed",
        15,
    )
    assert add.selected_kind().value == "jellyfin" and add.url.text() == jelly.url
    assert add.result_label.text().startswith(f"Jellyfin server: using {jelly.url} — added http://")
    qtbot.keyClicks(add.name, "Jelly again")
    qtbot.keyClicks(add.token, JELLYFIN_KEY)
    qtbot.mouseClick(add.test_button, Qt.MouseButton.LeftButton)
    pump(lambda: add.result_label.objectName() in ("testOk", "testFailed"), 15)
    assert "This server is already added as Jelly." in add.result_label.text()  # said by Test connection
    assert not add.save_button.isEnabled()
    screenshot(add, "add_server_duplicate_refused")
    assert [s.name for s in shell.ctx.server_store.list()] == ["Jelly"]
