"""Track query value objects, validated against a column whitelist before any SQL sees them.

Semantics (the storage layer and the brute-force reference in the tests both follow these exactly):

* ``server``: the track's server name equals it.
* ``genre``: it equals (exactly) one of the track's genres (the UI offers the cached genre names).
* ``decade``: a year ending in 0; the track's year is in ``[decade, decade + 9]``. Tracks without year never match.
* ``min_rating``: the track's rating (0-10) is ``>= min_rating``. Unrated tracks never match.
* ``exclude_live``: drop tracks with ``is_live``.
* ``search``: every word of the text is a prefix of some word of the title, artist or album (FTS5 prefix
  query, diacritics kept: "cafe" does not find "café"). A word is a run of letters, digits, combining marks and
  private-use characters, exactly as SQLite's FTS5 ``unicode61`` tokenizer splits text; anything else (spaces,
  punctuation, symbols) separates words. Case is folded as that tokenizer folds it: one character to one
  character ("É" = "é", "Σ" = "ς" = "σ"), so "ß" does not match "ss" and there is no full Unicode case folding.
  Its Unicode tables are older than Python's; characters added to Unicode since may split or fold differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.errors import ValidationError


class SortColumn(StrEnum):
    """The only columns a track query may sort by; each maps to an indexed column in storage."""

    TITLE = "title"
    ARTIST = "artist"
    ALBUM = "album"
    GENRE = "genre"
    YEAR = "year"
    RATING = "rating"
    DURATION = "duration"
    SERVER = "server"
    ADDED = "added"


@dataclass(frozen=True, slots=True)
class TrackSort:
    column: SortColumn = SortColumn.TITLE
    descending: bool = False

    @classmethod
    def parse(cls, text: str) -> TrackSort:
        """``"title"``, ``"-year"`` (descending) ... Raises ValidationError naming the allowed columns."""
        desc = text.startswith("-")
        name = text[1:] if desc else text
        try:
            return cls(SortColumn(name.strip().lower()), desc)
        except ValueError:
            allowed = ", ".join(c.value for c in SortColumn)
            raise ValidationError(
                f"Cannot sort by {name!r}.", remedy=f"Use one of: {allowed} (prefix '-' for descending)."
            ) from None


@dataclass(frozen=True, slots=True)
class TrackFilter:
    server: str | None = None
    genre: str | None = None
    decade: int | None = None
    min_rating: float | None = None
    exclude_live: bool = False
    search: str | None = None

    def __post_init__(self) -> None:
        if self.decade is not None and (self.decade % 10 != 0 or not 1000 <= self.decade <= 2990):
            raise ValidationError(
                f"{self.decade} is not a decade.", remedy="Give the first year of a decade, like 1990."
            )
        if self.min_rating is not None and not 0 <= self.min_rating <= 10:
            raise ValidationError(
                f"Minimum rating {self.min_rating} is out of range.", remedy="Use a number from 0 to 10."
            )

    @property
    def search_words(self) -> list[str]:
        """The search text split into FTS-safe words (letters and digits only), lower-cased."""
        if not self.search:
            return []
        cleaned = "".join(ch if ch.isalnum() else " " for ch in self.search)
        return [w.casefold() for w in cleaned.split()]
