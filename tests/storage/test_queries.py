"""Track queries against the brute-force reference (tests/storage/reference.py), plus focused cases."""

from __future__ import annotations

import time
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import TrackRecord
from app.storage import Cache
from app.storage import tracks_search as ts
from app.storage.tracks import SqliteTrackStore
from tests.storage import reference
from tests.storage.conftest import add_server, sync, track

# Letters where SQLite's unicode61 folding equals the reference's, plus separators and digits.
ALPHABET = "aAbBeEéÉoOsSßẞüÜσΣ音楽 0129-'.()\"*"
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


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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


# Tunings that push small tables through every search plan: tiny thresholds and budgets (walks that give up and
# fall back to the sort plan), and each plan forced.
TUNINGS = {
    "adaptive-tiny": ts.SearchTuning(sort_cap=1, min_budget=1, budget_factor=0.5, sample_windows=3),
    "adaptive-walks": ts.SearchTuning(sort_cap=2, min_budget=4, probe_cost=0.1),
    "sort": ts.SearchTuning(force=ts.Plan.SORT),
    "walk-set": ts.SearchTuning(force=ts.Plan.WALK_SET),
    "walk-probe": ts.SearchTuning(force=ts.Plan.WALK_PROBE),  # folded filters: every row asks FTS5
    # row filters: ASCII rows tested in Python (ascii_matcher), the others by an FTS5 probe
    "walk-probe-rows": ts.SearchTuning(force=ts.Plan.WALK_PROBE, fold_filters=False),
    # filters as row conditions (the default folds them into FTS tag tokens where it can)
    "unfolded-tiny": ts.SearchTuning(
        sort_cap=1, min_budget=1, budget_factor=0.5, sample_windows=3, fold_filters=False
    ),
}
searched = st.builds(
    TrackFilter,
    server=st.none() | st.sampled_from([*SERVERS, "missing"]),
    genre=st.none() | st.sampled_from([*GENRES, "Nope"]),
    decade=st.none() | st.sampled_from([1970, 1990, 2010]),
    min_rating=st.none() | st.sampled_from([0.0, 6.0]),
    exclude_live=st.booleans(),
    search=st.text(alphabet=ALPHABET, min_size=1, max_size=6),
)


@pytest.mark.parametrize("name", list(TUNINGS))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=libraries(), checks=st.lists(st.tuples(searched, sorts), min_size=1, max_size=6))
def test_search_plans_match_the_reference(
    cache: Cache,
    name: str,
    data: list[tuple[str, list[TrackRecord]]],
    checks: list[tuple[TrackFilter, TrackSort]],
) -> None:
    for server in cache.servers.list():
        cache.servers.remove(server.id)
    for server_name, recs in data:
        sync(cache, add_server(cache, server_name).id, {"lib": recs})
    store = SqliteTrackStore(cache._db, time.time, TUNINGS[name])
    records = _records(cache)
    for flt, sort in checks:
        expected = [r["_id"] for r in reference.filter_and_sort(records, flt, sort)]
        assert store.count(flt) == len(expected), flt
        for limit, offset in ((1, 0), (3, 0), (2, 3), (50, 0)):
            page = [t.id for t in store.query(flt, sort, limit, offset)]
            assert page == expected[offset : offset + limit], (flt, sort, limit, offset)


def test_broad_prefixes_on_a_larger_table_take_every_plan(cache: Cache) -> None:
    """1-3 letter prefixes and several words over 3000 tracks, with thresholds scaled down so broad searches
    walk the sort index: every plan, and a walk that gives up (matches clustered at the end of the order)."""
    s = add_server(cache)
    words = ["ka", "kalo", "mi", "mine", "zed", "lo"]
    recs = [
        track(
            str(i), f"{words[i % 6]} {words[(i // 6) % 6]}{i % 7}", artist=f"Zz {words[i % 5]}" if i % 11 else "Aa",
            genres=("Rock",) if i % 3 else (), year=1960 + i % 50, rating=float(i % 11), is_live=i % 9 == 0,
        )
        for i in range(3000)
    ]  # fmt: skip
    sync(cache, s.id, {"1": recs})
    records = _records(cache)
    tunings = [
        ts.SearchTuning(sort_cap=50, min_budget=20),
        ts.SearchTuning(sort_cap=50, min_budget=1, budget_factor=0.01),  # walks give up at once
        ts.SearchTuning(sort_cap=50, probe_cost=0.01, test_cost=0.01),  # probe walks preferred
    ]
    chosen: set[ts.Plan] = set()
    for tuning in tunings:
        store = SqliteTrackStore(cache._db, time.time, tuning)
        for text in ("k", "ka", "kal", "kalo", "ka mi", "k m z", "aa", "zz ka"):
            for flt in (TrackFilter(search=text), TrackFilter(search=text, genre="Rock", exclude_live=True)):
                with cache._db.read("test") as conn:
                    chosen.add(ts.choose(conn, flt, None, 200, tuning).plan)
                assert store.count(flt) == len(reference.filter_and_sort(records, flt, TrackSort())), flt
                for col in (SortColumn.TITLE, SortColumn.ARTIST, SortColumn.YEAR):
                    for desc in (False, True):
                        sort = TrackSort(col, desc)
                        expected = [r["_id"] for r in reference.filter_and_sort(records, flt, sort)]
                        assert [t.id for t in store.query(flt, sort, 200)] == expected[:200], (flt, sort)
    assert chosen == set(ts.Plan)


def test_a_walk_gives_up_after_its_budget(cache: Cache) -> None:
    s = add_server(cache)
    # Matches sort last by title: a walk from the start meets 400 non-matching rows first.
    sync(cache, s.id, {"1": [track(str(i), f"A{i:04d}") for i in range(400)] + [track("z", "Zulu")]})
    flt, sort = TrackFilter(search="zu"), TrackSort(SortColumn.TITLE)
    with cache._db.read("test") as conn:
        for plan in (ts.Plan.WALK_SET, ts.Plan.WALK_PROBE):
            assert ts.walk(conn, flt, sort, None, 1, ts.PagePlan(plan, budget=100)) is None
            assert ts.walk(conn, flt, sort, None, 5, ts.PagePlan(plan, budget=1000)) == [401]
    store = SqliteTrackStore(cache._db, time.time, ts.SearchTuning(sort_cap=1, min_budget=10))
    assert [t.title for t in store.query(flt, sort, 200)] == ["Zulu"]


def test_fts_query_quotes_every_word() -> None:
    from app.storage.tracks_query import fts_query

    assert fts_query(["del", "OR", 'a"b']) == '"del"* AND "OR"* AND "a""b"*'


def test_an_unfiltered_page_reads_no_count(cache: Cache) -> None:
    # Every row matches an unfiltered view, so the sort index gives its pages directly. Counting first read a
    # whole index twice per page (~10 ms and ~10 MB of page cache at 1M tracks) to learn nothing.
    s = add_server(cache)
    sync(cache, s.id, {"1": [track(str(i), f"T{i:03d}") for i in range(300)]})
    conn = cache.tracks._db._reader()  # type: ignore[attr-defined]  # this thread's reader, as query uses
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        for sort in (TrackSort(), TrackSort(SortColumn.YEAR, True)):
            page = cache.tracks.query(TrackFilter(), sort, 50, 100)
            assert [t.id for t in page] == list(cache.tracks.ids(TrackFilter(), sort))[100:150]
        assert cache.tracks.query(TrackFilter(), TrackSort(), 50, 300) == []
    finally:
        conn.set_trace_callback(None)
    queries = [x for x in statements if "tracks" in x and not x.lstrip().upper().startswith("PRAGMA")]
    assert queries and not [x for x in queries if "count(" in x.lower()]


def test_matches_clustered_in_one_id_window_are_counted_not_extrapolated(cache: Cache) -> None:
    """Tracks synced together have neighbouring ids: 40 matches that fill one sample window would extrapolate
    to hundreds, and a page would walk for them instead of sorting them."""
    s = add_server(cache)
    cluster = range(369, 409)  # ids 370..409: around the second window (ids 376..386 of 1..3000)
    sync(cache, s.id, {"1": [track(str(i), "zed" if i in cluster else f"T{i}") for i in range(3000)]})
    tuning = ts.SearchTuning(sort_cap=50)
    with cache._db.read("test") as conn:
        assert conn.execute("SELECT min(id), max(id) FROM tracks").fetchone() == (1, 3000)
        sampled, windows_hit = ts._sampled_matches(conn, ["zed"], tuning, ts.q.NO_TAGS)
        assert sampled >= 2 * tuning.sort_cap and windows_hit == 1  # what the windows alone would say
        assert ts.estimate_matches(conn, ["zed"], tuning) == 40
        assert ts.estimate_matches(conn, ["t"], tuning) > 2 * tuning.sort_cap  # broad: from the windows
