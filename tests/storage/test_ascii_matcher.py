"""``tracks_search.ascii_matcher`` answers as FTS5 does: for random ASCII texts and words (and texts with other
characters, where it must say "don't know"), compared with an FTS5 table tokenized as ``tracks_fts`` is."""

from __future__ import annotations

import sqlite3
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from app.storage.tracks_query import fts_query, search_words
from app.storage.tracks_search import ascii_matcher

TEXT = st.none() | st.text(alphabet=string.printable + "éÉßK\u212a\u0130ı音", max_size=30)  # K: Kelvin sign
QUERY = st.text(
    alphabet=string.ascii_letters + string.digits + " -'\"*.:()" + "ÉK\u212a", min_size=1, max_size=12
)


def _fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, artist, album, tokenize='unicode61 remove_diacritics 0', "
        "prefix='1 2 3')"
    )
    return conn


@settings(max_examples=300)
@given(rows=st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=8), query=QUERY)
def test_it_agrees_with_fts5_or_says_it_does_not_know(
    rows: list[tuple[str | None, str | None, str | None]], query: str
) -> None:
    words = search_words(query)
    matcher = ascii_matcher(words)
    if not words or not all(w.isascii() for w in words):
        assert matcher is None
        return
    assert matcher is not None
    conn = _fts()
    conn.executemany(
        "INSERT INTO t(rowid, title, artist, album) VALUES (?, ?, ?, ?)",
        [(i, *r) for i, r in enumerate(rows, 1)],
    )
    fts = {r for (r,) in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts_query(words),))}
    for rowid, (title, artist, album) in enumerate(rows, 1):
        answer = matcher(title, artist, album)
        text = f"{title or ''}{artist or ''}{album or ''}"
        if not text.isascii():
            assert answer is None
        else:
            assert answer is (rowid in fts), (words, title, artist, album)


def test_examples() -> None:
    matcher = ascii_matcher(["ka", "Mi"])
    assert matcher is not None
    assert matcher("Kalo", "the mix", None) is True
    assert matcher("bakalo", "mix", None) is False  # "ka" inside a token is no prefix of it
    assert matcher("x-Ka", None, "2mi") is False  # "2mi" is one token
    assert matcher("x-Ka", None, "2 mi") is True
    assert matcher("Kalo", "Mì", None) is None  # not ASCII: FTS5 answers
    assert ascii_matcher(["é"]) is None and ascii_matcher([]) is None
