"""Every fault kind as a client sees it over real HTTP."""

from __future__ import annotations

import json
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import requests
from plexapi.server import PlexServer

from app.demo import DEFAULT_JELLYFIN_API_KEY, DEFAULT_PLEX_TOKEN, DemoConfig, DemoServer, start_demo_server
from app.demo.errors import DemoConfigError

TOKEN = {"X-Plex-Token": DEFAULT_PLEX_TOKEN}


@pytest.fixture()
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=400, libraries=1)) as server:
        yield server


def _page(server: DemoServer, page: int, size: int = 20, timeout: float = 5) -> requests.Response:
    headers = TOKEN | {"X-Plex-Container-Start": str(page * size), "X-Plex-Container-Size": str(size)}
    return requests.get(server.url + "/library/sections/2/all?type=10", headers=headers, timeout=timeout)


def test_500_on_exactly_page_7_and_counts_untouched(plex: DemoServer) -> None:
    plex.set_faults("tracks:500@7")
    assert [_page(plex, p).status_code for p in range(10)] == [200] * 7 + [500] + [200] * 2
    count = requests.get(
        plex.url + "/library/sections/2/all?type=10&X-Plex-Container-Size=0", headers=TOKEN, timeout=5
    )
    assert count.status_code == 200 and ET.fromstring(count.content).get("totalSize") == "400"


def test_count_limited_rule_stops_after_count(plex: DemoServer) -> None:
    plex.set_faults("tracks:502@0x2")
    assert [_page(plex, 0).status_code for _ in range(4)] == [502, 502, 200, 200]


def test_page_and_later_401_403_404(plex: DemoServer) -> None:
    plex.set_faults("tracks:401@3+; albums:403; users:404")
    assert [_page(plex, p).status_code for p in range(6)] == [200, 200, 200, 401, 401, 401]
    assert (
        requests.get(plex.url + "/library/sections/2/all?type=9", headers=TOKEN, timeout=5).status_code == 403
    )
    assert requests.get(plex.url + "/accounts", headers=TOKEN, timeout=5).status_code == 404


def test_truncate_and_drop_break_the_body(plex: DemoServer) -> None:
    for fault in ("truncate", "drop"):
        plex.set_faults(f"tracks:{fault}@1")
        assert _page(plex, 0).status_code == 200
        with pytest.raises(requests.RequestException):
            _page(plex, 1).content  # noqa: B018 - reading the body is the point
    plex.set_faults("")
    assert _page(plex, 1).status_code == 200


def test_malformed_body_is_not_xml_even_for_plexapi(plex: DemoServer) -> None:
    plex.set_faults("tracks:malformed")
    r = _page(plex, 0)
    assert r.status_code == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(r.content)
    section = PlexServer(plex.url, DEFAULT_PLEX_TOKEN).library.sectionByID(2)
    with pytest.raises(ET.ParseError):
        section.searchTracks(container_size=20)


def test_timeout_latency_and_a_quick_stop() -> None:
    server = start_demo_server(
        DemoConfig(kind="plex", tracks=40, faults="tracks:timeout; identity:latency=0.3")
    )
    t0 = time.perf_counter()
    assert requests.get(server.url + "/identity", headers=TOKEN, timeout=5).status_code == 200
    assert time.perf_counter() - t0 >= 0.3
    with pytest.raises(requests.Timeout):
        _page(server, 0, timeout=0.5)
    t0 = time.perf_counter()
    server.stop()
    assert time.perf_counter() - t0 < 3
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=1)


def test_drip_sends_one_byte_per_second(plex: DemoServer) -> None:
    plex.set_faults("tracks:drip")
    with requests.get(
        plex.url + "/library/sections/2/all?type=10", headers=TOKEN, stream=True, timeout=5
    ) as r:
        assert r.status_code == 200 and int(r.headers["Content-Length"]) > 1000
        t0 = time.perf_counter()
        first = r.raw.read(2)
        assert first == b"<?" and time.perf_counter() - t0 >= 1.5


def test_empty_listings_and_counts(plex: DemoServer) -> None:
    plex.set_faults("tracks:empty; libraries:empty")
    root = ET.fromstring(_page(plex, 0).content)
    assert (root.get("totalSize"), root.findall("Track")) == ("0", [])
    count = requests.get(
        plex.url + "/library/sections/2/all?type=10&X-Plex-Container-Size=0", headers=TOKEN, timeout=5
    )
    assert ET.fromstring(count.content).get("totalSize") == "0"
    assert (
        ET.fromstring(requests.get(plex.url + "/library/sections", headers=TOKEN, timeout=5).content).get(
            "size"
        )
        == "0"
    )


def test_identity_change_plex_and_jellyfin(plex: DemoServer) -> None:
    before = plex.machine_id
    plex.set_faults("identity:identity-change")
    assert plex.machine_id != before
    assert PlexServer(plex.url, DEFAULT_PLEX_TOKEN).machineIdentifier == plex.machine_id
    plex.set_faults("")
    assert plex.machine_id == before
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=10, faults="identity:identity-change")) as jf:
        public = requests.get(jf.url + "/system/info/public", timeout=5).json()
        login = requests.post(
            jf.url + "/Users/AuthenticateByName", json={"Username": "admin", "Pw": "demo-password"}, timeout=5
        )
        assert public["Id"] == jf.machine_id == login.json()["ServerId"]


def test_jellyfin_faults_keep_the_date_header_and_malformed_json() -> None:
    with start_demo_server(
        DemoConfig(kind="jellyfin", tracks=50, faults="tracks:500@1; tracks:malformed@2")
    ) as jf:
        url = jf.url + "/Items?IncludeItemTypes=Audio&Recursive=true&Limit=10&StartIndex={}"
        head = {"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'}
        ok, failed, bad = (requests.get(url.format(s), headers=head, timeout=5) for s in (0, 10, 20))
        assert (ok.status_code, failed.status_code, bad.status_code) == (200, 500, 200)
        assert all("Date" in r.headers for r in (ok, failed, bad))
        with pytest.raises(ValueError):
            json.loads(bad.content)
        with pytest.raises(requests.JSONDecodeError):
            bad.json()  # what jellyfin-apiclient-python calls


def test_bad_runtime_spec_is_refused_and_keeps_the_old_rules(plex: DemoServer) -> None:
    plex.set_faults("tracks:500")
    with pytest.raises(DemoConfigError):
        plex.set_faults("tracks:teapot")
    assert _page(plex, 0).status_code == 500
    served = plex.requests_served
    plex.set_faults("")
    _page(plex, 0)
    assert plex.requests_served == served + 1
