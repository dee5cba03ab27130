from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.core.errors import ValidationError
from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.live import _LIVE, is_live


def test_sort_parse() -> None:
    assert TrackSort.parse("-year") == TrackSort(SortColumn.YEAR, True)
    assert TrackSort.parse("title") == TrackSort(SortColumn.TITLE, False)
    with pytest.raises(ValidationError) as info:
        TrackSort.parse("title; DROP TABLE tracks")
    assert "Use one of" in info.value.remedy


@pytest.mark.parametrize("decade", [1995, 3000, 10])
def test_bad_decade(decade: int) -> None:
    with pytest.raises(ValidationError):
        TrackFilter(decade=decade)


def test_bad_rating() -> None:
    with pytest.raises(ValidationError):
        TrackFilter(min_rating=11)


def test_search_words_are_fts_safe() -> None:
    assert TrackFilter(search='Beat "it" OR* -x').search_words == ["beat", "it", "or", "x"]


@pytest.mark.parametrize(
    ("title", "album", "live"),
    [
        ("Song (Live)", None, True),
        ("Song [Live at Wembley]", None, True),
        ("Song - Live", None, True),
        ("Song", "Live in Tokyo", True),
        ("Song", "MTV Unplugged", True),
        ("Live Forever", None, False),
        ("Alive", "Deliverance", False),
        ("", None, False),
    ],
)
def test_live_rule(title: str, album: str | None, live: bool) -> None:
    assert is_live(title, album) is live


# Pieces that make up live markers, in letter cases where IGNORECASE and casefold differ (dotless ı, Kelvin sign).
_PIECES = [
    "live",
    "LIVE",
    "Lıve",
    "lİve",
    "\u212aive",
    "unplugged",
    "UNPLUGGED",
    "at",
    "in",
    "on",
    " ",
    "(",
    "[",
    "-",
    "x",
    "ſ",
]
_LIVE_TEXT = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join) | st.text(max_size=24)


@example("Song [Lıve]", None)
@given(_LIVE_TEXT, st.none() | _LIVE_TEXT)
def test_live_rule_is_exactly_the_pattern_whatever_the_letter_case(title: str, album: str | None) -> None:
    # The word pre-check in is_live must never rule out a text the pattern matches ("Lıve", a dotless ı, does).
    expected = bool(_LIVE.search(title)) or bool(album and _LIVE.search(album))
    assert is_live(title, album) is expected
