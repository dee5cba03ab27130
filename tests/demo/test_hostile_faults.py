"""The hostile-server faults as a client sees them over real HTTP: what each one sends, and that huge bodies
are made while they are sent."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator

import pytest
import requests

from app.demo import (
    DEFAULT_JELLYFIN_API_KEY,
    DEFAULT_PLEX_TOKEN,
    DemoConfig,
    DemoServer,
    parse_faults,
    start_demo_server,
)
from app.demo.errors import DemoConfigError

TOKEN = {"X-Plex-Token": DEFAULT_PLEX_TOKEN}
JF_AUTH = {"Authorization": f'MediaBrowser Client="t", Token="{DEFAULT_JELLYFIN_API_KEY}"'}
MB = 1024 * 1024


@pytest.fixture(scope="module")
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=100, libraries=1)) as server:
        yield server


@pytest.fixture(scope="module")
def jellyfin() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=100, libraries=1)) as server:
        yield server


def _plex_page(server: DemoServer, page: int, size: int = 20, **kw: object) -> requests.Response:
    headers = TOKEN | {"X-Plex-Container-Start": str(page * size), "X-Plex-Container-Size": str(size)}
    return requests.get(server.url + "/library/sections/2/all?type=10", headers=headers, timeout=10, **kw)  # type: ignore[arg-type]


def _jf_page(server: DemoServer, page: int, size: int = 20) -> dict:  # type: ignore[type-arg]
    lib = server.library.music_libraries()[0][0]
    params = {
        "ParentId": lib,
        "IncludeItemTypes": "Audio",
        "Recursive": "true",
        "StartIndex": page * size,
        "Limit": size,
    }
    r = requests.get(server.url + "/Items", params=params, headers=JF_AUTH, timeout=10)
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_hostile_fault_rules_parse_with_and_without_amounts() -> None:
    rules = parse_faults("tracks:huge=300;tracks:gzip-bomb;tracks:repeat-page=1000000x2;login:redirect-post")
    assert [(r.endpoint, r.fault, r.amount, r.count) for r in rules] == [
        ("tracks", "huge", 300, None),
        ("tracks", "gzip-bomb", None, None),
        ("tracks", "repeat-page", 1_000_000, 2),
        ("login", "redirect-post", None, None),
    ]
    for bad in ("tracks:huge=0", "tracks:huge=x", "tracks:gzip-bomb=999999999", "tracks:growing-total=3"):
        with pytest.raises(DemoConfigError):
            parse_faults(bad)


def test_growing_total_claims_more_on_every_page(plex: DemoServer, jellyfin: DemoServer) -> None:
    plex.set_faults("tracks:growing-total")
    jellyfin.set_faults("tracks:growing-total")
    try:
        plex_totals = [ET.fromstring(_plex_page(plex, p).content).get("totalSize") for p in range(3)]
        jf_totals = [_jf_page(jellyfin, p)["TotalRecordCount"] for p in range(3)]
    finally:
        plex.set_faults("")
        jellyfin.set_faults("")
    assert plex_totals == ["1100", "2100", "3100"] and jf_totals == [1100, 2100, 3100]


def test_repeat_page_sends_page_zero_with_the_claimed_total(plex: DemoServer, jellyfin: DemoServer) -> None:
    plex.set_faults("tracks:repeat-page=1000000")
    jellyfin.set_faults("tracks:repeat-page=1000000")
    try:
        first, third = (ET.fromstring(_plex_page(plex, p).content) for p in (0, 2))
        jf_first, jf_third = (_jf_page(jellyfin, p) for p in (0, 2))
    finally:
        plex.set_faults("")
        jellyfin.set_faults("")
    assert [t.get("ratingKey") for t in first] == [t.get("ratingKey") for t in third]
    assert first.get("totalSize") == "1000000" and len(first) == 20
    assert [i["Id"] for i in jf_first["Items"]] == [i["Id"] for i in jf_third["Items"]]
    assert jf_third["TotalRecordCount"] == 1_000_000


def test_huge_numbers(plex: DemoServer, jellyfin: DemoServer) -> None:
    plex.set_faults("tracks:huge-year@0;tracks:huge-total@1")
    jellyfin.set_faults("tracks:huge-year")
    try:
        page0, page1 = (ET.fromstring(_plex_page(plex, p).content) for p in (0, 1))
        items = _jf_page(jellyfin, 0)["Items"]
    finally:
        plex.set_faults("")
        jellyfin.set_faults("")
    assert page0[0].get("year") == str(10**20) and page0[1].get("year") is None
    assert page1.get("totalSize") == str(10**23)
    assert [i.get("ProductionYear") == 10**20 for i in items].count(True) == 1


def test_huge_body_is_streamed_without_a_length_and_made_lazily(plex: DemoServer) -> None:
    plex.set_faults("tracks:huge=200")
    try:
        r = _plex_page(plex, 0, stream=True)
        assert "Content-Length" not in r.headers and r.headers["Transfer-Encoding"] == "chunked"
        got = 0
        for chunk in r.iter_content(MB):
            got += len(chunk)
            if got >= 20 * MB:
                break
        r.close()  # the server stops making the rest
    finally:
        plex.set_faults("")
    assert got >= 20 * MB
    small = start_demo_server(DemoConfig(kind="plex", tracks=30, libraries=1, faults="tracks:huge=3"))
    try:
        whole = _plex_page(small, 0)  # read to the end, the padded answer is still a valid page
    finally:
        small.stop()
    assert len(whole.content) >= 3 * MB - 1 and len(ET.fromstring(whole.content)) == 20


def test_gzip_bomb_expands_a_thousandfold(jellyfin: DemoServer) -> None:
    jellyfin.set_faults("tracks:gzip-bomb=64")
    lib = jellyfin.library.music_libraries()[0][0]
    try:
        r = requests.get(
            jellyfin.url + "/Items", params={"ParentId": lib, "IncludeItemTypes": "Audio", "Recursive": "true",
                                              "StartIndex": 0, "Limit": 5},
            headers=JF_AUTH, timeout=10, stream=True,
        )  # fmt: skip
        raw = r.raw.read(decode_content=False)
    finally:
        jellyfin.set_faults("")
    assert r.headers["Content-Encoding"] == "gzip" and len(raw) < 200_000
    body = b""
    data = raw
    while data:  # concatenated gzip members
        d = zlib.decompressobj(wbits=31)
        body += d.decompress(data)
        data = d.unused_data
    assert len(body) >= 63 * MB and len(json.loads(body)["Items"]) == 5


def test_redirect_post_sends_posts_to_the_other_host_and_serves_gets(jellyfin: DemoServer) -> None:
    jellyfin.set_faults("login:redirect-post;users:redirect-post")
    try:
        r = requests.post(
            jellyfin.url + "/Users/AuthenticateByName", json={"Username": "admin", "Pw": "pw"},
            allow_redirects=False, timeout=5,
        )  # fmt: skip
        other = jellyfin.other_host
        assert other is not None and r.status_code == 307
        assert r.headers["Location"] == other.url + "/Users/AuthenticateByName"
        assert requests.get(jellyfin.url + "/Users", headers=JF_AUTH, timeout=5).status_code == 200
        followed = requests.post(r.headers["Location"], json={"Pw": "the-password"}, timeout=5)
        assert followed.json()["AccessToken"] == "other-host-token"
        assert other.got("the-password") and not other.got("never-sent")
    finally:
        jellyfin.set_faults("")
