"""The demo keeps its own copy of what it shares with the app (it imports nothing from ``app``): the copies must
agree with the app's, or the demo would test the app against a different rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import live as app_live
from app.demo import live as demo_live
from app.demo import words

# Text near the rule's edges: the marker words, brackets, dashes and the letters that change case oddly.
_EDGY = st.text(alphabet="liveLIVE ıİ()[]-atinfromonunpluggedUNPLUGGED Tokyo", max_size=30)


def _samples() -> list[str | None]:
    titles = [*words.DECOY_TITLES, *words.LIVE_ALBUMS]
    titles += [f"Song{suffix}" for suffix in words.LIVE_TRACK_SUFFIXES]
    return [None, "", *titles, *words.TITLE_WORDS, *words.ALBUM_SUFFIXES, *words.LIBRARY_TITLES]


def test_the_demo_marks_the_known_titles_as_the_app_does() -> None:
    samples = _samples()
    assert len(samples) > 10
    for title in samples:
        for album in (None, "Live in Tokyo", "Greatest Hits"):
            assert demo_live.is_live(title, album) == app_live.is_live(title, album), (title, album)


@settings(max_examples=300)
@given(st.one_of(st.none(), st.text(max_size=40), _EDGY), st.one_of(st.none(), st.text(max_size=40), _EDGY))
def test_the_demos_live_rule_agrees_with_the_apps(title: str | None, album: str | None) -> None:
    assert demo_live.is_live(title, album) == app_live.is_live(title, album)


def test_the_demo_and_the_app_use_the_same_pattern() -> None:
    assert demo_live.LIVE_PATTERN.pattern == app_live._LIVE.pattern
    assert demo_live.LIVE_PATTERN.flags == app_live._LIVE.flags
