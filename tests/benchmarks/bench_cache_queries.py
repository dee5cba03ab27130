"""Builds a 1,000,000-track cache in a temp dir and prints query timings (medians of 5) as a table.

Run: ``.venv/bin/python tests/benchmarks/bench_cache_queries.py [--tracks N] [--keep DIR]``
The budget (DESIGN §8) is 50 ms per filter/sort/search query.
"""

from __future__ import annotations

import argparse
import random
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the cache in this folder")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    data_dir = args.keep or Path(tmp.name)
    if (data_dir / "cache.sqlite3").exists():
        cache = open_cache(data_dir)
    else:
        cache = build(data_dir, args.tracks)
    ts = cache.tracks
    four = TrackFilter(genre="Rock", decade=1990, min_rating=5, exclude_live=True)
    title = TrackSort(SortColumn.TITLE)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("count, no filter", lambda: ts.count(TrackFilter())),
        ("count, 4 filters (genre+decade+rating+live)", lambda: ts.count(four)),
        (
            "count, 3 filters (decade+rating+live)",
            lambda: ts.count(TrackFilter(decade=1990, min_rating=5, exclude_live=True)),
        ),
        ("first page 200 by title, genre filter", lambda: ts.query(TrackFilter(genre="Rock"), title, 200)),
        ("first page 200 by title, 4 filters", lambda: ts.query(four, title, 200)),
        (
            "first page 200 by title, decade+live",
            lambda: ts.query(TrackFilter(decade=1980, exclude_live=True), title, 200),
        ),
        (
            "first page 200 by -year, rating>=8",
            lambda: ts.query(TrackFilter(min_rating=8), TrackSort(SortColumn.YEAR, True), 200),
        ),
        (
            "first page 200 by server, no filter",
            lambda: ts.query(TrackFilter(), TrackSort(SortColumn.SERVER), 200),
        ),
        ("FTS prefix 'kalo' first page by title", lambda: ts.query(TrackFilter(search="kalo"), title, 200)),
        (
            "FTS 2 words 'kalo mi' first page by title",
            lambda: ts.query(TrackFilter(search="kalo mi"), title, 200),
        ),
        ("FTS broad prefix 'ka' first page by title", lambda: ts.query(TrackFilter(search="ka"), title, 200)),
        ("count, FTS prefix 'kalo'", lambda: ts.count(TrackFilter(search="kalo"))),
        (
            "page 200 at offset 100,000 by artist",
            lambda: ts.query(TrackFilter(), TrackSort(SortColumn.ARTIST), 200, 100_000),
        ),
        ("ids() of everything, by title", lambda: ts.ids(TrackFilter(), title)),
        ("get_many(200 ids)", lambda: ts.get_many(list(range(1000, 1200)))),
    ]
    print(f"\n{ts.count(TrackFilter()):,} tracks cached\n")
    print(f"| {'query':<46} | {'median ms':>9} | {'rows':>9} |")
    print(f"|{'-' * 48}|{'-' * 11}|{'-' * 11}|")
    for name, fn in cases:
        ms, result = median_ms(fn)
        rows = result if isinstance(result, int) else len(result)  # type: ignore[arg-type]
        print(f"| {name:<46} | {ms:9.1f} | {rows:>9,} |")
    cache.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
