"""Builds a 1,000,000-track cache in a temp dir and prints query timings (medians of 5) as a table.

Run: ``.venv/bin/python tests/benchmarks/bench_cache_queries.py [--tracks N] [--keep DIR] [--compare]``
The budget (DESIGN §8) is 50 ms per filter/sort/search query (count, and the first page of 200).

``--compare`` also times the search cases the way the store ran them before schema v4 (an FTS table without
prefix indexes, every search page sorted, counts through ``tracks``): the old plan lives only here.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import (
    AuthMethod,
    ConnectResult,
    NewServer,
    RemoteLibrary,
    ServerIdentity,
    ServerKind,
    TrackRecord,
)
from app.storage import Cache, open_cache
from app.storage import tracks_query as q

GENRES = [f"Genre {i:02d}" for i in range(40)] + ["Rock", "Jazz", "Pop", "Electronic", "Classical"]
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ra", "to", "vi", "be", "do", "fa", "gu", "hi", "jo", "ze", "qu"]


def _words(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def synthetic_tracks(n: int, seed: int = 1) -> list[TrackRecord]:
    rng = random.Random(seed)
    vocab = _words(rng, 3000)
    artists = [" ".join(rng.sample(vocab, 2)).title() for _ in range(5000)]
    albums = [" ".join(rng.sample(vocab, rng.randint(1, 3))).title() for _ in range(50000)]
    out = []
    for i in range(n):
        live = rng.random() < 0.05
        title = " ".join(rng.sample(vocab, rng.randint(1, 4))).title() + (" (Live)" if live else "")
        k = rng.choices([0, 1, 2, 3], weights=[10, 50, 30, 10])[0]
        out.append(
            TrackRecord(
                remote_id=str(i),
                title=title,
                artist=rng.choice(artists),
                album=rng.choice(albums),
                genres=tuple(rng.sample(GENRES, k)),
                year=None if rng.random() < 0.05 else rng.randint(1950, 2024),
                rating=None if rng.random() < 0.5 else rng.randint(0, 20) / 2,
                duration_ms=rng.randint(60_000, 600_000),
                track_no=rng.randint(1, 20),
                added_at=1.6e9 + rng.random() * 1e8,
                is_live=live,
            )
        )
    return out


def build(data_dir: Path, n: int) -> Cache:
    cache = open_cache(data_dir)
    tracks = synthetic_tracks(n)
    half = n // 2
    for s, part in enumerate((tracks[:half], tracks[half:])):
        ident = ServerIdentity(f"m{s}", f"srv{s}", "1", ServerKind.JELLYFIN)
        server = cache.servers.add(
            NewServer(f"Server {s}", ServerKind.JELLYFIN, "http://127.0.0.1", AuthMethod.API_KEY),
            ConnectResult(ident, "t"),
        )
        cache.tracks.begin_staging(server.id)
        for i in range(0, len(part), 5000):
            cache.tracks.stage_tracks(server.id, "lib", part[i : i + 5000])
        t0 = time.perf_counter()
        cache.tracks.commit_staging(server.id, [RemoteLibrary("lib", "Music")], ["lib"], ["lib"])
        print(f"merge of {len(part):,} new tracks: {time.perf_counter() - t0:.1f} s")
    return cache


def median_ms(fn: Callable[[], object], runs: int = 5) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


OLD_FTS = "bench_fts_v3"


def add_old_fts(path: Path) -> None:
    """The pre-v4 FTS table (no prefix indexes) next to the real one, for ``--compare``."""
    conn = sqlite3.connect(path, isolation_level=None)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (OLD_FTS,)).fetchone():
        t0 = time.perf_counter()
        conn.execute(
            f"CREATE VIRTUAL TABLE {OLD_FTS} USING fts5(title, artist, album, content='tracks', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
        )
        conn.execute(f"INSERT INTO {OLD_FTS}({OLD_FTS}) VALUES ('rebuild')")  # noqa: S608 - constant name
        print(f"old FTS table built: {time.perf_counter() - t0:.1f} s")
    conn.close()


class OldPlan:
    """The pre-v4 search SQL (sort every match; count through ``tracks``) over the old FTS table."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self.conn.execute("PRAGMA cache_size=-32768")
        self.conn.execute("PRAGMA temp_store=MEMORY")

    def _sid(self, flt: TrackFilter) -> int | None:
        if flt.server is None:
            return None
        row = self.conn.execute("SELECT id FROM servers WHERE name = ?", (flt.server,)).fetchone()
        return -1 if row is None else int(row[0])

    def count(self, flt: TrackFilter) -> int:
        sid = self._sid(flt)
        if flt.genre is not None:
            terms, params = q._genre_terms(flt, sid)
            terms.append(f"track_id IN (SELECT rowid FROM {OLD_FTS} WHERE {OLD_FTS} MATCH ?)")  # noqa: S608
            params.append(q.fts_query(q.search_words(flt.search)))
            sql = "SELECT count(*) FROM track_genres" + q.where(terms)  # noqa: S608 - fixed terms
        else:
            terms, params = q.conditions(flt, sid)
            sql = ("SELECT count(*) FROM tracks" + q.where(terms)).replace("tracks_fts", OLD_FTS)  # noqa: S608
        return int(self.conn.execute(sql, params).fetchone()[0])

    def page(self, flt: TrackFilter, sort: TrackSort, limit: int = 200) -> list[object]:
        sql, params = q.page_sql(flt, sort, self._sid(flt), q.COLUMNS)
        sql = sql.replace("tracks_fts", OLD_FTS) + " LIMIT ?"
        return self.conn.execute(sql, [*params, limit]).fetchall()


Case = tuple[str, Callable[[], object], Callable[[], object] | None]


def search_cases(cache: Cache, old: OldPlan | None) -> list[Case]:
    """Counts and first pages of searches: 1-4 letter prefixes, 2 and 3 words, with each filter, every sort."""
    ts = cache.tracks
    title = TrackSort(SortColumn.TITLE)
    cases: list[Case] = []

    def add(name: str, flt: TrackFilter, sort: TrackSort | None) -> None:
        if sort is None:
            cases.append((f"count, {name}", lambda: ts.count(flt), old and (lambda: old.count(flt))))
        else:
            label = f"page by {'-' if sort.descending else ''}{sort.column.value}, {name}"
            oldf = old and sort.column is not SortColumn.SERVER and (lambda: old.page(flt, sort))
            cases.append((label, lambda: ts.query(flt, sort, 200), oldf or None))

    for text in ("k", "ka", "kal", "kalo", "kalo mi", "kalo mi ne", "ka mi", "ka mi lo", "zequ"):
        add(f"'{text}'", TrackFilter(search=text), None)
        add(f"'{text}'", TrackFilter(search=text), title)
    for label, extra in (
        ("genre Rock", {"genre": "Rock"}),
        ("1990s", {"decade": 1990}),
        ("rating>=8", {"min_rating": 8}),
        ("no live", {"exclude_live": True}),
        ("Server 1", {"server": "Server 1"}),
        ("4 filters", {"genre": "Rock", "decade": 1990, "min_rating": 5, "exclude_live": True}),
    ):
        for text in ("ka", "kalo"):
            flt = TrackFilter(search=text, **extra)  # type: ignore[arg-type]
            add(f"'{text}' + {label}", flt, None)
            add(f"'{text}' + {label}", flt, title)
    for col in SortColumn:
        for desc in (False, True):
            for text in ("ka", "kalo"):
                add(f"'{text}'", TrackFilter(search=text), TrackSort(col, desc))
    return cases


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the cache in this folder")
    ap.add_argument("--compare", action="store_true", help="also time the pre-v4 search plan")
    ap.add_argument("--only-search", action="store_true", help="skip the non-search cases")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    data_dir = args.keep or Path(tmp.name)
    if (data_dir / "cache.sqlite3").exists():
        t0 = time.perf_counter()
        cache = open_cache(data_dir)
        print(f"opened (and migrated if needed) in {time.perf_counter() - t0:.1f} s")
    else:
        cache = build(data_dir, args.tracks)
    old: OldPlan | None = None
    if args.compare:
        add_old_fts(cache.path)
        old = OldPlan(cache.path)
    ts = cache.tracks
    four = TrackFilter(genre="Rock", decade=1990, min_rating=5, exclude_live=True)
    title = TrackSort(SortColumn.TITLE)
    cases: list[Case] = [
        ("count, no filter", lambda: ts.count(TrackFilter()), None),
        ("count, 4 filters (genre+decade+rating+live)", lambda: ts.count(four), None),
        (
            "count, 3 filters (decade+rating+live)",
            lambda: ts.count(TrackFilter(decade=1990, min_rating=5, exclude_live=True)),
            None,
        ),
        (
            "first page 200 by title, genre filter",
            lambda: ts.query(TrackFilter(genre="Rock"), title, 200),
            None,
        ),
        ("first page 200 by title, 4 filters", lambda: ts.query(four, title, 200), None),
        (
            "first page 200 by title, decade+live",
            lambda: ts.query(TrackFilter(decade=1980, exclude_live=True), title, 200),
            None,
        ),
        (
            "first page 200 by -year, rating>=8",
            lambda: ts.query(TrackFilter(min_rating=8), TrackSort(SortColumn.YEAR, True), 200),
            None,
        ),
        (
            "first page 200 by server, no filter",
            lambda: ts.query(TrackFilter(), TrackSort(SortColumn.SERVER), 200),
            None,
        ),
        (
            "page 200 at offset 100,000 by artist",
            lambda: ts.query(TrackFilter(), TrackSort(SortColumn.ARTIST), 200, 100_000),
            None,
        ),
        ("ids() of everything, by title", lambda: ts.ids(TrackFilter(), title), None),
        ("get_many(200 ids)", lambda: ts.get_many(list(range(1000, 1200))), None),
    ]
    if args.only_search:
        cases = []
    cases += search_cases(cache, old)
    print(f"\n{ts.count(TrackFilter()):,} tracks cached\n")
    print(f"| {'query':<40} | {'old ms':>7} | {'new ms':>7} | {'rows':>9} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 9}|{'-' * 11}|")
    over = 0
    for name, fn, oldfn in cases:
        ms, result = median_ms(fn)
        rows = result if isinstance(result, int) else len(result)  # type: ignore[arg-type]
        old_ms = "-"
        if oldfn is not None:
            oms, oresult = median_ms(oldfn)
            orows = oresult if isinstance(oresult, int) else len(oresult)  # type: ignore[arg-type]
            assert orows == rows, (name, orows, rows)
            old_ms = f"{oms:.1f}"
        over += ms > 50 and not name.startswith("ids()")
        print(f"| {name:<40} | {old_ms:>7} | {ms:7.1f} | {rows:>9,} |", flush=True)
    print(f"\n{over} case(s) over 50 ms")
    if old is not None:
        old.conn.close()
    cache.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
