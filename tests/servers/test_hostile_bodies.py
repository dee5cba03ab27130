"""Bodies a hostile server may send: parsing is linear in the body size and inside the request's deadline;
numbers out of range make that item a counted failed item; an absurd total is a bad answer, not a crash."""

from __future__ import annotations

import time

import pytest

from app.core.models import TrackRecord
from app.servers import jellyfin_parse, plex_parse
from app.servers.item_bounds import BadItem, checked_track
from app.servers.translate import BadBody
from app.servers.transport import Budget, DeadlineExceeded

MB = 1024 * 1024


def _plex(*tracks: str, total: str = "3") -> bytes:
    return f'<MediaContainer size="{len(tracks)}" totalSize="{total}">{"".join(tracks)}</MediaContainer>'.encode()


@pytest.mark.parametrize(
    "shape",
    [
        b'<Track ratingKey="1" title="' + b"A" * 16 * MB + b'"/>',  # one long attribute (was quadratic: 16 s)
        b'<Track ratingKey="1" title="x">' + b"A" * 16 * MB + b"</Track>",  # one long text
        b"<!--" + b"<x " * (16 * MB // 3) + b'--><Track ratingKey="1"/>',  # a comment full of '<'
        b'<Track ratingKey="1" title="' + b"&amp;" * (16 * MB // 5) + b'"/>',  # entities
    ],
    ids=["attribute", "text", "comment", "entities"],
)
def test_a_16_mb_hostile_page_parses_no_slower_than_an_ordinary_one(shape: bytes) -> None:
    # Relative to an ordinary page of the same size parsed in the same run, so a busy machine cannot fail it
    # (the absolute time is printed by tests/benchmarks/bench_hostile.py): quadratic parsing was 20x slower.
    body = b'<MediaContainer size="1" totalSize="1">' + shape + b"</MediaContainer>"
    track = b'<Track ratingKey="1" title="Some title" grandparentTitle="Artist" parentTitle="Album"/>'
    ordinary = (
        b'<MediaContainer size="1" totalSize="1">' + track * (len(body) // len(track)) + b"</MediaContainer>"
    )
    baseline = min(_timed(lambda: plex_parse.parse_xml_chunked(ordinary)) for _ in range(2))
    best = min(_timed(lambda: plex_parse.tracks_page_from_bytes(body)) for _ in range(2))
    assert best < 2 * baseline + 0.05, f"hostile {best:.2f} s, ordinary {baseline:.2f} s"


def test_parse_time_is_linear_in_body_size() -> None:
    def body(mb: int) -> bytes:
        return b'<MediaContainer><Track ratingKey="1" title="' + b"A" * mb * MB + b'"/></MediaContainer>'

    two, sixteen = body(2), body(16)
    small = min(_timed(lambda: plex_parse.parse_xml_chunked(two)) for _ in range(3))
    large = min(_timed(lambda: plex_parse.parse_xml_chunked(sixteen)) for _ in range(3))
    assert large < 24 * small + 0.05, (small, large)  # 8x the size: ~8x the time (quadratic: 64x)


def test_parsing_stops_at_the_requests_deadline() -> None:
    body = _plex(*(f'<Track ratingKey="{i}" title="t"/>' for i in range(50_000)), total="50000")
    with pytest.raises(DeadlineExceeded):
        plex_parse.tracks_page_from_bytes(body, Budget(time.monotonic() - 1, 5.0))
    assert len(plex_parse.tracks_page_from_bytes(body, Budget.start(60)).items) == 50_000


@pytest.mark.parametrize(
    "attrs",
    [
        'year="100000000000000000000"',
        'duration="100000000000000000000"',
        'index="-100000000000000000000"',
        'parentIndex="9223372036854775808"',
        'addedAt="1e20"',
        'year="10000"',
        'ratingKey="' + "9" * 300 + '"',
        'originalTitle="' + "x" * 5000 + '"',
    ],
)
def test_plex_numbers_out_of_range_make_a_failed_item(attrs: str) -> None:
    bad = f'<Track ratingKey="2" title="b" {attrs}/>'.replace(
        'ratingKey="2" title="b" ratingKey', "ratingKey"
    )
    page = plex_parse.tracks_page_from_bytes(
        _plex('<Track ratingKey="1" title="a"/>', bad, '<Track ratingKey="3"/>')
    )
    assert [t.remote_id for t in page.items] == ["1", "3"] and page.failed == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"ProductionYear": 10**20},
        {"RunTimeTicks": 1e300},
        {"IndexNumber": -(10**30)},
        {"ParentIndexNumber": 2**63},
        {"DateCreated": "9999-12-31T23:59:59.9999999Z", "ProductionYear": -1},
        {"Name": "x" * 5000},
        {"Genres": ["g"] * 1000},
    ],
)
def test_jellyfin_numbers_out_of_range_make_a_failed_item(fields: dict[str, object]) -> None:
    items = [{"Id": "1", "Name": "a"}, {"Id": "2", "Name": "b", **fields}, {"Id": "3"}]
    page = jellyfin_parse.tracks_page({"Items": items, "TotalRecordCount": 3})
    assert [t.remote_id for t in page.items] == ["1", "3"] and page.failed == 1
    assert page.failed_ids == ("2",)


def test_values_at_the_edges_are_kept() -> None:
    track = TrackRecord(
        remote_id="x" * 255, title="t" * 4096, year=9999, duration_ms=2**63 - 1, track_no=-(2**63),
        added_at=-62_135_596_800.0,
    )  # fmt: skip
    assert checked_track(track) is track
    with pytest.raises(BadItem):
        checked_track(TrackRecord(remote_id="1", title="t", duration_ms=2**63))


@pytest.mark.parametrize("total", ["100000000000000000000000", "-1", "1e3", "1000000001"])
def test_an_absurd_plex_total_is_a_bad_body(total: str) -> None:
    with pytest.raises(BadBody):
        plex_parse.tracks_page_from_bytes(_plex('<Track ratingKey="1"/>', total=total))


@pytest.mark.parametrize("total", [10**23, -1, 1_000_000_001, True, 3.0])
def test_an_absurd_jellyfin_total_is_a_bad_body(total: object) -> None:
    with pytest.raises(BadBody):
        jellyfin_parse.tracks_page({"Items": [], "TotalRecordCount": total})


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_a_megabyte_of_server_text_is_not_copied_into_the_error() -> None:
    from app.servers.translate import translate

    body = _plex('<Track ratingKey="1"/>', total="x" * MB)
    with pytest.raises(BadBody) as info:
        plex_parse.tracks_page_from_bytes(body)
    err = translate(info.value, "Den", "listing tracks")
    assert len(err.detail) < 2100 and len(err.display()) < 1000
    huge = translate(ValueError("y" * MB), "Den", "listing tracks")
    assert len(huge.detail) <= 2001
