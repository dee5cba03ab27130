"""Adding servers as a new admin does it, through the real CLI over HTTP: one server once (a second add of the
same install under another URL or name is refused, also by an edit)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import demo_pair, run_cli


def test_the_same_server_is_refused_under_another_url_and_by_an_edit(tmp_path: Path) -> None:
    with demo_pair(tracks=10) as pair:
        pair.add_both(tmp_path)
        again = run_cli(
            tmp_path,
            "server", "add", "--kind", "plex", "--name", "Home Plex",
            "--url", pair.plex.url + "/web/index.html#!/home", "--token-stdin",
            stdin="demo-plex-token\n",
        )  # fmt: skip
        assert again.code != 0
        assert "already added as Plex" in again.err
        jelly = run_cli(
            tmp_path,
            "server", "add", "--kind", "jellyfin", "--name", "Jelly 2",
            "--url", pair.jellyfin.url.replace("127.0.0.1", "localhost"), "--token-stdin",
            stdin="demo-jellyfin-key\n",
        )  # fmt: skip
        assert jelly.code != 0 and "already added as Jelly" in jelly.err
        listed = run_cli(tmp_path, "server", "list", "--json").json()
        assert sorted(s["name"] for s in listed) == ["Jelly", "Plex"]  # type: ignore[union-attr]


def test_editing_a_server_to_the_address_of_another_configured_one_is_refused(tmp_path: Path) -> None:
    import asyncio

    import pytest

    from app.core.errors import ValidationError
    from app.demo import DemoConfig, start_demo_server
    from app.wiring import build_context

    other = start_demo_server(DemoConfig(kind="plex", tracks=5, seed=2))
    try:
        with demo_pair(tracks=10) as pair:
            pair.add_both(tmp_path)
            added = run_cli(
                tmp_path,
                "server", "add", "--kind", "plex", "--name", "Plex 2", "--url", other.url, "--token-stdin",
                stdin="demo-plex-token\n",
            )  # fmt: skip
            assert added.code == 0, added.err
            ctx = build_context(tmp_path)
            try:
                with pytest.raises(ValidationError) as err:
                    asyncio.run(ctx.servers.update("Plex 2", pair.plex.url, None))
                assert "already added as Plex." in err.value.user_message
                assert ctx.server_store.get_by_name("Plex 2").url == other.url  # nothing changed
            finally:
                ctx.close()
    finally:
        other.stop()


def test_pasted_addresses_are_detected_and_the_normalisation_is_reported(tmp_path: Path) -> None:
    import http.server
    import threading

    with demo_pair(tracks=10) as pair:
        bare = pair.plex.url.removeprefix("http://") + "/web/index.html#!/home"
        r = run_cli(
            tmp_path,
            "server",
            "add",
            "--name",
            "Home Plex",
            "--url",
            bare,
            "--token-stdin",
            stdin="demo-plex-token\n",
        )
        assert r.code == 0, r.err
        assert (
            f"Plex server: using {pair.plex.url} — added http://; removed the '#...' part; removed the web app path /web/index.html."
            in r.err
        )
        r = run_cli(
            tmp_path, "server", "add", "--name", "Jelly", "--url", pair.jellyfin.url + "/web/", "--token-stdin",
            stdin="demo-jellyfin-key\n",
        )  # fmt: skip
        assert r.code == 0, r.err
        assert f"Jellyfin server: using {pair.jellyfin.url} — removed the web app path /web/" in r.err

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{web.server_address[1]}"
        r = run_cli(tmp_path, "server", "add", "--name", "Router", "--url", url, "--token-stdin", stdin="x\n")
        assert r.code == 1 and "is not a Plex or Jellyfin server" in r.err and "32400" in r.err
    finally:
        web.shutdown()
        web.server_close()
