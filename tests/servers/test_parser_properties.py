"""Properties: on any body (random bytes, truncated XML, JSON with wrong types) the parsers and the clients
raise nothing but their documented errors, and every item is either parsed or counted as failed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import BadServerResponse, ExternalServiceError
from app.servers import JellyfinClient, PlexClient, jellyfin_parse, plex_parse
from app.servers.translate import BadBody
from tests.servers.fakes import (
    JF_KEY,
    JSON,
    PLEX_TOKEN,
    XML,
    FakeJellyfin,
    FakePlex,
    FakeServer,
    Reply,
    fast_settings,
)

PLEX_ATTRS = [
    "ratingKey", "title", "originalTitle", "grandparentTitle", "parentTitle", "parentRatingKey", "userRating",
    "duration", "index", "parentIndex", "addedAt", "year", "parentYear",
]  # fmt: skip
JF_KEYS = [
    "Id", "Name", "Genres", "ProductionYear", "Album", "AlbumId", "AlbumArtist", "Artists", "RunTimeTicks",
    "IndexNumber", "ParentIndexNumber", "DateCreated", "UserData", "CommunityRating",
]  # fmt: skip

attr_values = st.one_of(
    st.text(max_size=8),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "inf", "1e400", "０", "٣", "2024-01-01T00:00:00Z"]),
)
# XML 1.0 cannot carry most control characters; the property is about values, not about invalid XML
xml_safe = attr_values.map(
    lambda s: "".join(c for c in s if c >= " " and c not in "\ud800\udfff\ufffe\uffff")
)
track_elements = st.lists(st.dictionaries(st.sampled_from(PLEX_ATTRS), xml_safe), max_size=8)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
jf_items = st.lists(
    st.one_of(st.dictionaries(st.sampled_from(JF_KEYS), json_values), json_values), max_size=8
)


def _xml(elements: list[dict[str, str]], tag: str = "Track") -> bytes:
    children = "".join(
        f"<{tag} " + " ".join(f"{k}={quoteattr(v)}" for k, v in el.items()) + "/>" for el in elements
    )
    return f'<MediaContainer size="{len(elements)}">{children}</MediaContainer>'.encode()


@given(track_elements)
def test_plex_every_track_element_is_parsed_or_counted(elements: list[dict[str, str]]) -> None:
    page = plex_parse.tracks_page(plex_parse.parse_xml(_xml(elements)))
    assert len(page.items) + page.failed == len(elements)
    assert all(t.remote_id for t in page.items)
    assert all(t.rating is None or 0 <= t.rating <= 10 for t in page.items)


@given(track_elements)
def test_plex_every_album_element_is_parsed_or_counted(elements: list[dict[str, str]]) -> None:
    page = plex_parse.albums_page(plex_parse.parse_xml(_xml(elements, "Directory")))
    assert len(page.items) + page.failed == len(elements)


@given(
    st.one_of(
        st.binary(max_size=300),
        track_elements.map(_xml).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),
    )
)
def test_plex_parsers_raise_only_badbody(body: bytes) -> None:
    for parse in (plex_parse.tracks_page, plex_parse.albums_page, plex_parse.music_sections):
        try:
            parse(plex_parse.parse_xml(body))
        except BadBody:
            pass


@given(st.one_of(json_values, st.fixed_dictionaries({"Items": jf_items, "TotalRecordCount": json_values})))
def test_jellyfin_parsers_raise_only_badbody(data: object) -> None:
    for parse in (
        jellyfin_parse.tracks_page, jellyfin_parse.albums_page, jellyfin_parse.music_folders,
        jellyfin_parse.users, jellyfin_parse.identity, jellyfin_parse.total_of,
    ):  # fmt: skip
        try:
            parse(data)
        except BadBody:
            pass


@given(jf_items, st.integers(0, 10**6))
def test_jellyfin_every_item_is_parsed_or_counted(items: list[object], total: int) -> None:
    page = jellyfin_parse.tracks_page({"Items": items, "TotalRecordCount": total})
    assert len(page.items) + page.failed == len(items) and page.total == total


# -- the same through the clients, over real HTTP ------------------------------------------------------------


@pytest.fixture(scope="module")
def plex_fake() -> Iterator[tuple[FakePlex, FakeServer]]:
    fake = FakePlex()
    server = FakeServer(fake)
    yield fake, server
    server.stop()


@pytest.fixture(scope="module")
def jellyfin_fake() -> Iterator[tuple[FakeJellyfin, FakeServer]]:
    fake = FakeJellyfin()
    server = FakeServer(fake)
    yield fake, server
    server.stop()


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), track_elements.map(_xml)))
def test_plex_client_raises_only_core_errors(plex_fake: tuple[FakePlex, FakeServer], body: bytes) -> None:
    fake, server = plex_fake
    fake.overrides.pop("/library/sections/3/all", None)
    client = PlexClient.connect("Den", server.url, PLEX_TOKEN, fast_settings())
    fake.overrides["/library/sections/3/all"] = Reply(200, body, XML)
    try:
        client.fetch_tracks("3", 0, 10)
    except BadServerResponse as err:
        assert err.service_name == "Den" and PLEX_TOKEN not in str(err) + err.detail
    finally:
        client.close()


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(json_values, st.fixed_dictionaries({"Items": jf_items, "TotalRecordCount": json_values}))
)
def test_jellyfin_client_raises_only_core_errors(
    jellyfin_fake: tuple[FakeJellyfin, FakeServer], data: object
) -> None:
    fake, server = jellyfin_fake
    client = JellyfinClient.connect("Attic", server.url, JF_KEY, None, fast_settings())
    fake.overrides["/items"] = Reply(200, json.dumps(data).encode(), JSON)
    try:
        for call in (
            lambda: client.fetch_tracks("lib-music", 0, 10),
            lambda: client.count_tracks("lib-music"),
        ):
            try:
                call()
            except ExternalServiceError as err:
                assert isinstance(err, BadServerResponse) and JF_KEY not in str(err) + err.detail
    finally:
        client.close()


genre_lists = st.lists(st.lists(xml_safe, max_size=3), max_size=8)


def _xml_with_children(elements: list[dict[str, str]], genres: list[list[str]], tag: str) -> bytes:
    """Items with nested ``Media``/``Part`` and ``Genre`` children, and a non-item child of the container."""
    parts = ['<Hub title="not an item"><Track ratingKey="nested"/></Hub>']
    for i, el in enumerate(elements):
        attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in el.items())
        tags = "".join(f"<Genre tag={quoteattr(g)}/>" for g in (genres[i] if i < len(genres) else []))
        parts.append(f'<{tag} {attrs}><Media id="1"><Part id="2"/></Media>{tags}</{tag}>')
    return f'<MediaContainer totalSize="{len(elements) + 3}">{"".join(parts)}</MediaContainer>'.encode()


@given(track_elements, genre_lists)
def test_plex_streamed_pages_equal_element_pages(
    elements: list[dict[str, str]], genres: list[list[str]]
) -> None:
    """The streaming parser (sync path) reads exactly what the element parser reads, genres included."""
    for tag, by_tree, by_stream in (
        ("Track", plex_parse.tracks_page, plex_parse.tracks_page_from_bytes),
        ("Directory", plex_parse.albums_page, plex_parse.albums_page_from_bytes),
    ):
        body = _xml_with_children(elements, genres, tag)
        expected = by_tree(plex_parse.parse_xml(body))
        assert by_stream(body) == expected  # type: ignore[operator]
        # chunk boundaries anywhere: a tiny feed size gives the same page
        assert by_stream(body.replace(b"><", b">\n<")) == by_tree(
            plex_parse.parse_xml(body.replace(b"><", b">\n<"))
        )


def test_plex_streamed_page_of_a_large_body_is_fed_in_chunks() -> None:
    elements = [{"ratingKey": str(i), "title": "é" * 40, "parentTitle": "Album"} for i in range(2000)]
    body = _xml_with_children(elements, [["Rock", "Pop"]] * 2000, "Track")
    assert len(body) > 8 * plex_parse._FEED  # several chunks, split inside multi-byte characters too
    page = plex_parse.tracks_page_from_bytes(body)
    assert len(page.items) == 2000 and page.total == 2003
    assert page.items[1999].genres == ("Rock", "Pop") and page.items[0].title == "é" * 40


def test_plex_streamed_page_cleans_characters_xml_forbids() -> None:
    body = b'<MediaContainer size="1"><Track ratingKey="1" title="a\x01b"/></MediaContainer>'
    [t] = plex_parse.tracks_page_from_bytes(body).items
    assert t.title == "ab"


@given(
    st.one_of(
        st.binary(max_size=300),
        track_elements.map(_xml).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),
    )
)
def test_plex_streamed_parsers_raise_only_badbody(body: bytes) -> None:
    for parse in (plex_parse.tracks_page_from_bytes, plex_parse.albums_page_from_bytes):
        try:
            parse(body)
        except BadBody:
            pass
