"""Who Zondarr says it is: every Plex and plex.tv request carries Zondarr's product name and the client
identifier stored in the cache (never plexapi's "PlexAPI" and MAC-derived id), the same across runs; Jellyfin's
MediaBrowser header carries the same device id. Real CLI, real HTTP against the demo servers."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from app.demo import DemoServer
from app.storage import open_cache
from tests.e2e.conftest import demo_pair, run_cli

MAC_ID = str(hex(uuid.getnode()))


def _stored_client_id(data_dir: Path) -> str:
    with open_cache(data_dir) as cache:
        return cache.settings.load_raw()["client_identifier"]


def _plex_headers(server: DemoServer) -> list[dict[str, str]]:
    return [h for h in server.recent_headers if "x-plex-client-identifier" in h or "x-plex-token" in h]


def test_every_plex_request_says_zondarr_with_the_stored_id_across_runs(tmp_path: Path) -> None:
    with demo_pair(tracks=20) as pair:
        pair.add_both(tmp_path)  # plex.tv (users) is the demo Plex itself
        first_id = _stored_client_id(tmp_path)
        assert uuid.UUID(first_id).version == 4
        sync = run_cli(tmp_path, "sync")  # a second run of the CLI: the same identifier
        assert sync.code == 0, sync.err
        assert _stored_client_id(tmp_path) == first_id

        plex_requests = _plex_headers(pair.plex)
        assert len(plex_requests) >= 5  # connect, sections, listings, plex.tv users
        for headers in plex_requests:
            assert headers.get("x-plex-product") == "Zondarr", headers.get("x-plex-product")
            assert headers.get("x-plex-client-identifier") == first_id
            assert MAC_ID not in headers.values()
            assert not any("plexapi" in v.lower() for v in headers.values())

        jelly_auth = [h["authorization"] for h in pair.jellyfin.recent_headers if "authorization" in h]
        assert jelly_auth
        for value in jelly_auth:
            assert value.startswith("MediaBrowser ")
            assert re.search(r'DeviceId="([^"]+)"', value).group(1) == first_id  # type: ignore[union-attr]
            assert 'Client="Zondarr"' in value
