"""The synthetic library: deterministic, the documented layout, and the real-world mess."""

from __future__ import annotations

import time
import unicodedata

import pytest

from app.core.live import is_live
from app.demo import DemoLibrary
from app.demo.errors import DemoConfigError


def test_same_seed_same_library_other_seed_differs() -> None:
    a, b, c = DemoLibrary("plex", 3, 3000), DemoLibrary("plex", 3, 3000), DemoLibrary("plex", 4, 3000)
    sample = range(0, 3000, 7)
    assert [a.track(i) for i in sample] == [b.track(i) for i in sample]
    assert [a.track(i).title for i in sample] != [c.track(i).title for i in sample]


def test_tracks_split_over_libraries_first_gets_remainder() -> None:
    lib = DemoLibrary("jellyfin", 1, 1003, libraries=3)
    counts = [n for _, _, n in lib.music_libraries()]
    assert counts == [335, 334, 334] and sum(counts) == 1003
    keys = [k for k, _, _ in lib.music_libraries()]
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys) and len(set(keys)) == 3
    assert [k for k, _, _ in DemoLibrary("plex", 1, 10, libraries=3).music_libraries()] == ["2", "3", "4"]


def test_album_and_artist_sizes() -> None:
    lib = DemoLibrary("plex", 5, 5000, libraries=2)
    for n in range(2):
        lo, hi = lib.album_range(n)
        sizes = [lib.album(j).track_count for j in range(lo, hi)]
        assert sum(sizes) == 2500
        assert all(8 <= s <= 14 for s in sizes[:-1]) and 1 <= sizes[-1] <= 14  # the last one may be cut short
    artists = [len(lib.artist_albums(k)) for k in range(lib.artist_count)]
    assert all(1 <= n <= 5 for n in artists) and sum(artists) == lib.album_count
    for i in range(0, 5000, 97):
        t = lib.track(i)
        album = lib.album(t.album_index)
        assert album.first_track <= i < album.first_track + album.track_count
        assert (t.album, t.album_artist, t.genres, t.year) == (
            album.title,
            album.album_artist,
            album.genres,
            album.year,
        )


def test_the_mess_is_there() -> None:
    lib = DemoLibrary("plex", 1, 4000)
    tracks = [lib.track(i) for i in range(4000)]
    albums = [lib.album(j) for j in range(lib.album_count)]
    text = " ".join(t.title + " " + (t.artist or "") for t in tracks)
    for needle in ("&", "<", '"', "東京", "שלום", "سلام", "🔥", "\u0301", "é"):
        assert needle in text, needle
    assert any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)
    assert any(t.album_artist is None for t in tracks)
    assert any(t.track_no is None for t in tracks) and any(t.duration_ms is None for t in tracks)
    assert any(a.year is None for a in albums) and any(not a.genres for a in albums)
    assert all(1950 <= a.year <= 2029 for a in albums if a.year is not None)
    assert len({g for a in albums for g in a.genres}) == 15 and all(len(a.genres) <= 3 for a in albums)
    rated = [t.rating for t in tracks if t.rating is not None]
    assert 0.25 < len(rated) / len(tracks) < 0.42
    assert all(0 <= r <= 10 and r * 2 == int(r * 2) for r in rated)
    assert any(t.rating_is_community for t in tracks if t.rating is not None)
    assert any(not t.rating_is_community for t in tracks if t.rating is not None)
    assert any(t.artist and t.artist != t.album_artist for t in tracks)
    live = [t for t in tracks if t.is_live]
    assert live and any("Unplugged" in t.album or "Live " in t.album for t in live)
    assert all(t.is_live == is_live(t.title, t.album) for t in tracks)
    assert any(t.title in ("Live Forever", "Alive") and not t.is_live for t in tracks)


def test_ids_are_unique_and_kind_shaped() -> None:
    lib = DemoLibrary("jellyfin", 2, 6000)
    tracks = [lib.track(i) for i in range(6000)]
    jf = {t.jellyfin_id for t in tracks} | {lib.album(j).jellyfin_id for j in range(lib.album_count)}
    assert len(jf) == 6000 + lib.album_count and all(len(x) == 32 and int(x, 16) >= 0 for x in jf)
    plex = {t.plex_id for t in tracks} | {lib.album(j).plex_id for j in range(lib.album_count)}
    plex |= {lib.artist(k).plex_id for k in range(lib.artist_count)}
    assert len(plex) == 6000 + lib.album_count + lib.artist_count and all(p.isdigit() for p in plex)
    assert lib.remote_id(tracks[0]) == tracks[0].jellyfin_id


def test_users_owner_first_with_mixed_emails_and_disabled() -> None:
    users = DemoLibrary("jellyfin", 1, 10, users=8).users
    assert users[0].username == "admin" and users[0].is_admin and len(users) == 9
    assert any(u.email is None for u in users) and any(u.email for u in users[1:])
    assert any(u.is_disabled for u in users) and any(u.library_keys for u in users)
    assert len({u.username for u in users}) == 9


@pytest.mark.parametrize("kw", [{"tracks": -1}, {"tracks": 1_000_001}, {"libraries": 0}, {"users": -2}])
def test_bad_sizes_are_refused(kw: dict[str, int]) -> None:
    args = {"tracks": 10, "libraries": 1, "users": 0} | kw
    with pytest.raises(DemoConfigError):
        DemoLibrary("plex", 1, **args)


def test_a_million_tracks_build_fast_and_derive_on_demand() -> None:
    t0 = time.perf_counter()
    lib = DemoLibrary("plex", 1, 1_000_000)
    assert time.perf_counter() - t0 < 5
    assert lib.track(999_999).index == 999_999 and sum(n for _, _, n in lib.music_libraries()) == 1_000_000
    with pytest.raises(IndexError):
        lib.track(1_000_000)
