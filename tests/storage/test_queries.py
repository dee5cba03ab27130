"""Track queries against the brute-force reference (tests/storage/reference.py), plus focused cases."""

from __future__ import annotations

from array import array

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import TrackRecord
from app.storage import Cache
from tests.storage import reference
from tests.storage.conftest import add_server, sync, track

# Letters where SQLite's unicode61 folding equals the reference's, plus separators and digits.
ALPHABET = "aAbBeEéÉoOsSßẞüÜσΣ音楽 0129-'.()"
WORD = st.text(alphabet=ALPHABET, min_size=0, max_size=12)
GENRES = ["Rock", "rock", "Jazz", "Hip-Hop", "Électro"]
SERVERS = ["alpha", "Beta", "beta2"]


@st.composite
def track_records(draw: st.DrawFn, rid: int) -> TrackRecord:
    return TrackRecord(
        remote_id=str(rid),
        title=draw(WORD),
        artist=draw(st.none() | WORD),
        album=draw(st.none() | WORD),
        genres=tuple(draw(st.lists(st.sampled_from(GENRES), max_size=3, unique=True))),
        year=draw(st.none() | st.integers(1975, 2012)),
        rating=draw(st.none() | st.sampled_from([0.0, 2.5, 5.0, 7.5, 10.0])),
        duration_ms=draw(st.none() | st.integers(0, 5)),
        added_at=draw(st.none() | st.sampled_from([1.0, 2.0, 3.5])),
        is_live=draw(st.booleans()),
    )


@st.composite
def libraries(draw: st.DrawFn) -> list[tuple[str, list[TrackRecord]]]:
    n = draw(st.integers(0, 25))
    recs = [draw(track_records(i)) for i in range(n)]
    owners = [draw(st.sampled_from(SERVERS)) for _ in recs]
    return [(s, [r for r, o in zip(recs, owners, strict=True) if o == s]) for s in SERVERS]


filters = st.builds(
    TrackFilter,
    server=st.none() | st.sampled_from([*SERVERS, "missing"]),
    genre=st.none() | st.sampled_from([*GENRES, "Nope"]),
    decade=st.none() | st.sampled_from([1970, 1980, 1990, 2000, 2010]),
    min_rating=st.none() | st.sampled_from([0.0, 2.5, 6.0, 10.0]),
    exclude_live=st.booleans(),
    search=st.none() | st.text(alphabet=ALPHABET, max_size=6),
)
sorts = st.builds(TrackSort, st.sampled_from(list(SortColumn)), st.booleans())


def _records(cache: Cache) -> list[dict[str, object]]:
    everything = cache.tracks.query(TrackFilter(), TrackSort())
    return [{**t.to_json(), "_id": t.id} for t in everything]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=libraries(), checks=st.lists(st.tuples(filters, sorts), min_size=1, max_size=8))
def test_queries_match_the_reference(
    cache: Cache, data: list[tuple[str, list[TrackRecord]]], checks: list[tuple[TrackFilter, TrackSort]]
) -> None:
    for server in cache.servers.list():
        cache.servers.remove(server.id)
    for name, recs in data:
        sync(cache, add_server(cache, name).id, {"lib": recs})
    records = _records(cache)
    assert len(records) == sum(len(r) for _, r in data)
    for flt, sort in checks:
        expected = [r["_id"] for r in reference.filter_and_sort(records, flt, sort)]
        assert cache.tracks.count(flt) == len(expected), flt
        assert list(cache.tracks.ids(flt, sort)) == expected, (flt, sort)
        assert [t.id for t in cache.tracks.query(flt, sort)] == expected, (flt, sort)
        for limit, offset in ((2, 0), (3, 1), (5, 4)):
            page = [t.id for t in cache.tracks.query(flt, sort, limit, offset)]
            assert page == expected[offset : offset + limit], (flt, sort, limit, offset)


def test_page_strategies_agree_on_a_larger_library(cache: Cache) -> None:
    """Dense and sparse filters take different plans (index walk vs sort): both must give the reference."""
    s = add_server(cache)
    recs = [
        track(str(i), f"T{i % 37:02d}", genres=("Rock",) if i % 3 else ("Jazz", "Rock"), year=1960 + i % 50,
              rating=None if i % 4 == 0 else float(i % 11), is_live=i % 9 == 0)
        for i in range(1500)
    ]  # fmt: skip
    sync(cache, s.id, {"1": recs})
    records = _records(cache)
    for flt in (
        TrackFilter(genre="Rock"),
        TrackFilter(genre="Jazz", decade=1990, min_rating=3, exclude_live=True),
        TrackFilter(decade=1970),
        TrackFilter(exclude_live=True),
        TrackFilter(decade=2000, min_rating=10),
    ):
        for col in (SortColumn.TITLE, SortColumn.YEAR, SortColumn.RATING):
            for desc in (False, True):
                sort = TrackSort(col, desc)
                expected = [r["_id"] for r in reference.filter_and_sort(records, flt, sort)]
                for offset in (0, 190, 1000):
                    page = [t.id for t in cache.tracks.query(flt, sort, 200, offset)]
                    assert page == expected[offset : offset + 200], (flt, sort, offset)


def test_search_is_prefix_case_insensitive_and_keeps_diacritics(cache: Cache) -> None:
    s = add_server(cache)
    sync(
        cache,
        s.id,
        {
            "1": [
                track("1", "Café del Mar", artist="Straße"),
                track("2", "Cafe Racer"),
                track("3", "Ωmega", album="X"),
            ]
        },
    )

    def found(text: str) -> list[str]:
        return sorted(t.remote_id for t in cache.tracks.query(TrackFilter(search=text), TrackSort()))

    assert found("caf") == ["1", "2"]
    assert found("CAFÉ") == ["1"]
    assert found("cafe") == ["2"]
    assert found("STRASSE") == []  # no full case folding: ß is not ss
    assert found("straß") == ["1"]
    assert found("ωm") == ["3"]
    assert found("del caf") == ["1"]
    assert found('"del" *:') == ["1"]  # FTS syntax in the text is just separators
    assert found("del OR") == []  # and keywords are plain words
    assert found("mar x") == []


def test_ids_is_a_compact_array(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track(str(i)) for i in range(10)]})
    ids = cache.tracks.ids(TrackFilter(), TrackSort())
    assert isinstance(ids, array) and ids.typecode == "q" and len(ids) == 10


def test_get_many_keeps_order_skips_missing_and_chunks(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track(str(i), f"T{i}") for i in range(1200)]})
    ids = list(cache.tracks.ids(TrackFilter(), TrackSort(SortColumn.TITLE, True)))
    wanted = [*ids[::-1], 10**12, *ids[:3]]
    got = cache.tracks.get_many(wanted)
    assert [t.id for t in got] == [*ids[::-1], *ids[:3]]
    assert got[0].server == "Home" and got[0].library == "Library 1"


def test_unknown_server_or_genre_matches_nothing(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("1", genres=("Rock",))]})
    assert cache.tracks.count(TrackFilter(server="Nope")) == 0
    assert cache.tracks.query(TrackFilter(genre="rock"), TrackSort(), 10) == []
    assert cache.tracks.count(TrackFilter(server="Home", genre="Rock")) == 1


def test_libraries_and_genres(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("1", genres=("b", "A"))], "2": [track("2", genres=("a",)), track("3")]})
    assert cache.tracks.genres() == ["A", "a", "b"]
    libs = cache.tracks.libraries()
    assert [(lib.key, lib.track_count) for lib in libs] == [("1", 1), ("2", 2)]
    assert cache.tracks.library_track_counts(s.id) == {"1": 1, "2": 2}
