"""Sync throughput, measured side by side in one run against the demo servers (not part of the test suite).

    .venv/bin/python tests/benchmarks/bench_sync.py [--tracks 100000] [--rounds 3] [--page-latency 0.1]
        [--big 1000000]

Prints medians of ``--rounds`` interleaved rounds of:
  * plain download of the same pages (plain ``requests``, same page size, sequential): the floor;
  * Zondarr's sync into a fresh cache (the real SyncService, adapters, storage);
  * a refresh of the unchanged library (only what changed since the first sync is asked for: must write 0 rows);
  * a refresh after 1 edit + 1 add + 1 delete (made through the demo's control endpoint), with the items it
    fetched and the requests it sent (it must stay a delta: the deletion is found by count-only probes); in the
    first round a complete listing afterwards must find nothing to change (the cache is exact);
and once: plexapi's object path, ``section.searchTracks()`` building ``Track`` objects.
Ratios: sync / download (budget ≤ 1.0: two pages in flight beat a sequential download), refresh / first sync
(budget < 0.1) and plexapi / sync (budget ≥ 5).

``--big N`` adds a phase with N-track servers: one unthrottled first sync, then the servers are slowed to
``--page-latency`` per request (control endpoint) and the unchanged refresh and the 1 edit + 1 add + 1 delete
refresh are timed (budget < 2 s unchanged at 1,000,000); a complete listing, unthrottled, then checks the cache.

CPU accounting: for the download and the first sync, the CPU seconds of this process and of the demo server
process (``/proc/<pid>/stat``). On this machine's 2 CPUs no schedule can finish the sync faster than
(ours + server's) / 2, so the script prints that floor next to the ratio: when the floor itself is above 1.5× the
download, the budget measures the CPU cost of parsing and indexing, not the pipeline.

The demo servers run in separate processes (``python -m app demo-server``), as a real server is another machine:
in-process they would compete with the sync for the GIL. ``--in-process`` restores the old set-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keyring
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.models import AuthMethod, Credentials, NewServer, ServerKind
from app.demo import DemoConfig, start_demo_server
from tests.e2e.conftest import MemoryKeyring

PAGE = 500
REPO = Path(__file__).resolve().parents[2]
DEMO_PIDS: dict[str, int] = {}  # demo server URL -> pid (separate-process servers only)


def own_cpu() -> float:
    """CPU seconds (user + system) of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of another process; 0.0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0.0


@contextmanager
def demo_process(kind: str, tracks: int, libraries: int = 1, faults: str = "") -> Iterator[str]:
    """A demo server in its own process; yields its URL (from the one line it prints) and stops it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "demo-server", "--kind", kind, "--tracks", str(tracks),
         "--libraries", str(libraries), "--faults", faults],
        cwd=REPO, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"on (http://\S+)", line)
        if match is None:
            raise SystemExit(f"demo {kind} server did not start: {line!r}")
        DEMO_PIDS[match.group(1)] = proc.pid
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def demo_in_process(kind: str, tracks: int, libraries: int = 1, faults: str = "") -> Iterator[str]:
    server = start_demo_server(DemoConfig(kind=kind, tracks=tracks, libraries=libraries, faults=faults))
    try:
        yield server.url
    finally:
        server.stop()


def download_plex(url: str, token: str, page: int = PAGE) -> int:
    """Fetches every album and track page of every music section, as the sync does, and parses nothing."""
    s = requests.Session()
    s.headers["X-Plex-Token"] = token
    sections = s.get(f"{url}/library/sections", timeout=30).text
    import re

    keys = re.findall(r'<Directory[^>]*?key="(\d+)"[^>]*?type="artist"', sections) or re.findall(
        r'<Directory[^>]*?type="artist"[^>]*?key="(\d+)"', sections
    )
    n = 0
    for key in keys:
        for libtype in (9, 10):
            start = 0
            while True:
                r = s.get(
                    f"{url}/library/sections/{key}/all?type={libtype}",
                    headers={"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(page)},
                    timeout=30,
                )
                body = r.content
                total = int(re.search(rb'totalSize="(\d+)"', body).group(1))  # type: ignore[union-attr]
                n += len(body)
                start += page
                if start >= total:
                    break
    return n


def download_jellyfin(url: str, key: str, page: int = PAGE) -> int:
    s = requests.Session()
    s.headers["Authorization"] = f'MediaBrowser Client="bench", Token="{key}"'
    folders = s.get(f"{url}/Library/VirtualFolders", timeout=30).json()
    n = 0
    for f in folders:
        if f.get("CollectionType") != "music":
            continue
        start = 0
        while True:
            r = s.get(
                f"{url}/Items",
                params={
                    "ParentId": f["ItemId"],
                    "IncludeItemTypes": "Audio",
                    "Recursive": "true",
                    "StartIndex": start,
                    "Limit": page,
                    "EnableTotalRecordCount": "true",
                    "Fields": "Genres,DateCreated",  # what the adapter asks (lean pages)
                    "EnableImages": "false",
                    "EnableUserData": "true",
                },
                timeout=30,
            )
            body = r.json()
            n += len(r.content)
            start += page
            if start >= body["TotalRecordCount"]:
                break
    return n


def plexapi_object_path(url: str, token: str) -> int:
    from plexapi.server import PlexServer

    server = PlexServer(url, token)
    n = 0
    for section in server.library.sections():
        if section.type != "artist":
            continue
        for t in section.searchTracks(container_size=PAGE):
            _ = (t.title, t.parentTitle, t.grandparentTitle, t.duration, t.ratingKey)
            n += 1
    return n


def control(url: str, token: str, body: dict[str, object]) -> None:
    """One POST to the demo's loopback control endpoint (edits, faults)."""
    headers = {"X-Plex-Token": token, "Authorization": f'MediaBrowser Token="{token}"'}
    r = requests.post(f"{url}/zondarr-demo/edit", json=body, headers=headers, timeout=30)
    r.raise_for_status()


def edit_add_delete(url: str, kind: str, n: int) -> None:
    """1 edit + 1 add + 1 delete in the (one) library; ``n`` picks other tracks each round."""
    token = "demo-plex-token" if kind == "plex" else "demo-jellyfin-key"
    control(url, token, {"op": "edit_track", "index": 10 * n, "title": f"Edited {n}"})
    control(url, token, {"op": "add_track", "album": n, "title": f"Added {n}"})
    control(url, token, {"op": "delete_track", "index": 10 * n + 5})


def zondarr_sync(
    data_dir: Path, plex_url: str | None, jelly_url: str | None, resync: bool = False, full: bool = False
) -> dict:
    """Adds the servers to a fresh cache in ``data_dir`` (unless ``resync``) and syncs; returns timings."""
    from app.process import freeze_long_lived
    from app.wiring import build_context

    async def go() -> dict:
        ctx = build_context(
            data_dir, overrides={"plex_tv_url": plex_url or "https://plex.tv", "page_size": str(PAGE)}
        )
        freeze_long_lived()  # as `zondarr sync` and the window do once start-up is done (once per process)
        try:
            names = []
            if not resync:
                if plex_url:
                    await ctx.servers.add(
                        NewServer("Plex", ServerKind.PLEX, plex_url, AuthMethod.TOKEN),
                        Credentials(token="demo-plex-token"),
                    )
                if jelly_url:
                    await ctx.servers.add(
                        NewServer("Jelly", ServerKind.JELLYFIN, jelly_url, AuthMethod.API_KEY),
                        Credentials(token="demo-jellyfin-key"),
                    )
            names = [s.name for s in ctx.server_store.list()]
            t0 = time.perf_counter()
            result = await ctx.sync.sync(names, full=full)
            elapsed = time.perf_counter() - t0
            assert result.exit_code == 0, result.summary
            libs = [lib for s in result.servers for lib in s.libraries]
            return {
                "seconds": elapsed,
                "fetched": sum(lib.fetched for lib in libs),
                "requests": sum(lib.requests for lib in libs),
                "deleted": sum(lib.deleted for lib in libs),
                "modes": sorted({lib.mode for lib in libs}),
                "added": result.counts.added,
                "updated": result.counts.updated,
                "removed": result.counts.removed,
                "unchanged": result.counts.unchanged,
            }
        finally:
            ctx.close()

    return asyncio.run(go())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-plexapi", action="store_true")
    ap.add_argument("--in-process", action="store_true", help="demo servers in this process (old set-up)")
    ap.add_argument("--big", type=int, default=0, help="also time an unchanged refresh at this many tracks")
    ap.add_argument(
        "--page-latency",
        type=float,
        default=0.0,
        help="seconds the demo servers wait before each album/track page (a real server's query time)",
    )
    args = ap.parse_args()
    keyring.set_keyring(MemoryKeyring())
    demo = demo_in_process if args.in_process else demo_process
    lat = args.page_latency
    faults = f"tracks:latency={lat}; albums:latency={lat}" if lat > 0 else ""
    if lat > 0:
        print(f"demo servers wait {lat * 1000:.0f} ms before each album/track page")
    print(f"run as: {' '.join([Path(sys.executable).name, *sys.argv])}; nice {os.nice(0)}")
    with (
        demo("plex", args.tracks, faults=faults) as plex_url,
        demo("jellyfin", args.tracks, faults=faults) as jelly_url,
    ):
        first_syncs = run(args, plex_url, jelly_url)
    if args.big:
        run_big(args, demo, first_syncs)
    return 0


def run_big(args: argparse.Namespace, demo: object, first_syncs: dict[str, float]) -> None:
    """Unchanged refresh of ``--big`` tracks at ``--page-latency`` per request (after a fast first sync)."""
    lat = args.page_latency
    out: dict[str, tuple[float, float, float, int, int, int]] = {}
    for kind in ("plex", "jellyfin"):
        token = "demo-plex-token" if kind == "plex" else "demo-jellyfin-key"
        with demo(kind, args.big) as url, tempfile.TemporaryDirectory() as tmp:  # type: ignore[operator]
            d = Path(tmp) / "big"
            plex_url, jelly_url = (url, None) if kind == "plex" else (None, url)
            first = zondarr_sync(d, plex_url, jelly_url)
            if lat > 0:
                spec = "; ".join(
                    f"{e}:latency={lat}" for e in ("identity", "libraries", "albums", "tracks", "users")
                )
                control(url, token, {"op": "faults", "spec": spec})
            times, changed_times, changed = [], [], {}
            for r in range(args.rounds):
                again = zondarr_sync(d, plex_url, jelly_url, resync=True)
                assert again["modes"] == ["delta"] and again["added"] + again["updated"] == 0, again
                times.append(again["seconds"])
                edit_add_delete(url, kind, r + 1)
                changed = zondarr_sync(d, plex_url, jelly_url, resync=True)
                assert changed["modes"] == ["delta"] and changed["deleted"] == 1, changed
                changed_times.append(changed["seconds"])
            if lat > 0:
                control(url, token, {"op": "faults", "spec": ""})
            check = zondarr_sync(d, plex_url, jelly_url, resync=True, full=True)
            rows_changed = check["added"] + check["updated"] + check["removed"]
            out[kind] = (
                first["seconds"],
                statistics.median(times),
                statistics.median(changed_times),
                changed["fetched"],
                changed["requests"],
                rows_changed,
            )
    print(
        f"\nRefresh at {args.big:,} tracks (first sync unthrottled, then every request waits "
        f"{lat * 1000:.0f} ms; medians of {args.rounds} refreshes of each kind; the last 1 edit+add+delete "
        "refresh's items and requests; then a complete listing, unthrottled, counts the rows it still changed)\n"
    )
    print(
        f"| {'server':<10} | {'first sync s':>12} | {'unchanged refresh s':>19} | {'edit+add+delete s':>17} "
        f"| {'fetched':>7} | {'requests':>8} | {'rows a full listing changed':>27} |"
    )
    print(f"|{'-' * 12}|{'-' * 14}|{'-' * 21}|{'-' * 19}|{'-' * 9}|{'-' * 10}|{'-' * 29}|")
    for kind, (first_s, refresh_s, changed_s, fetched, requests_n, rows_changed) in out.items():
        print(
            f"| {kind:<10} | {first_s:12.1f} | {refresh_s:19.2f} | {changed_s:17.2f} | {fetched:7,} "
            f"| {requests_n:8,} | {rows_changed:27,} |"
        )
    print()
    for kind, (_, refresh_s, *_rest) in out.items():
        ratio = refresh_s / first_syncs[kind]
        print(
            f"{kind}: unchanged refresh of {args.big:,} = {refresh_s:.2f} s (budget < 2 s); / first sync of "
            f"{args.tracks:,} = {ratio:.3f} (budget < 0.1)"
        )


def run(args: argparse.Namespace, plex_url: str, jelly_url: str) -> dict[str, float]:
    """The interleaved rounds; returns the median first sync per kind."""
    rows: dict[str, list[float]] = {
        f"{kind} {what}": []
        for kind in ("plex", "jellyfin")
        for what in ("download", "sync", "refresh, unchanged", "refresh, 1 edit+add+delete")
    }
    fetched: dict[str, list[int]] = {}
    requests_n: dict[str, list[int]] = {}
    exact: dict[str, int] = {}
    rewritten = 0
    cpu: dict[str, list[tuple[float, float]]] = {}  # "<kind> download|sync" -> (ours, server's) per round
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for kind, url in (("plex", plex_url), ("jellyfin", jelly_url)):
                pid = DEMO_PIDS.get(url)
                ours, theirs = own_cpu(), process_cpu(pid)
                t0 = time.perf_counter()
                if kind == "plex":
                    download_plex(url, "demo-plex-token")
                else:
                    download_jellyfin(url, "demo-jellyfin-key")
                rows[f"{kind} download"].append(time.perf_counter() - t0)
                cpu.setdefault(f"{kind} download", []).append((own_cpu() - ours, process_cpu(pid) - theirs))
                d = Path(tmp) / f"{kind}-{r}"
                ours, theirs = own_cpu(), process_cpu(pid)
                first = zondarr_sync(d, url if kind == "plex" else None, url if kind == "jellyfin" else None)
                cpu.setdefault(f"{kind} sync", []).append((own_cpu() - ours, process_cpu(pid) - theirs))
                assert first["added"] == args.tracks, first
                rows[f"{kind} sync"].append(first["seconds"])
                again = zondarr_sync(d, url if kind == "plex" else None, None, resync=True)
                rewritten += again["added"] + again["updated"] + again["removed"]
                assert again["modes"] == ["delta"], again
                rows[f"{kind} refresh, unchanged"].append(again["seconds"])
                edit_add_delete(url, kind, r + 1)
                changed = zondarr_sync(d, url if kind == "plex" else None, None, resync=True)
                assert changed["modes"] == ["delta"] and changed["deleted"] == 1, changed
                rows[f"{kind} refresh, 1 edit+add+delete"].append(changed["seconds"])
                fetched.setdefault(kind, []).append(changed["fetched"])
                requests_n.setdefault(kind, []).append(changed["requests"])
                if r == 0:  # a complete listing right after must find nothing to change
                    check = zondarr_sync(d, url if kind == "plex" else None, None, resync=True, full=True)
                    exact[kind] = check["added"] + check["updated"] + check["removed"]
        plexapi_s = None
        if not args.skip_plexapi:
            t0 = time.perf_counter()
            n = plexapi_object_path(plex_url, "demo-plex-token")
            plexapi_s = time.perf_counter() - t0
            assert n == args.tracks, n

    med = {k: statistics.median(v) for k, v in rows.items()}
    where = "in this process" if args.in_process else "in separate processes"
    print(
        f"\nSync benchmark: {args.tracks:,} tracks per server, page size {PAGE}, medians of {args.rounds} rounds, "
        f"demo servers {where}\n"
    )
    print(f"| {'measurement':<36} | {'seconds':>8} | {'tracks/s':>10} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 12}|")
    for k, v in med.items():
        print(f"| {k:<36} | {v:8.2f} | {args.tracks / v:10,.0f} |")
    if plexapi_s is not None:
        print(
            f"| {'plex plexapi searchTracks() (1x)':<36} | {plexapi_s:8.2f} | {args.tracks / plexapi_s:10,.0f} |"
        )
    print()
    for kind in ("plex", "jellyfin"):
        ratio = med[f"{kind} sync"] / med[f"{kind} download"]
        budget = (
            "budget <= 1.0x at a real server's pace" if args.page_latency > 0 else "no budget unthrottled"
        )
        print(f"{kind}: sync / plain download = {ratio:.2f}x ({budget})")
        ratio = med[f"{kind} refresh, unchanged"] / med[f"{kind} sync"]
        print(f"{kind}: unchanged refresh / first sync = {ratio:.3f} (budget < 0.1)")
        print(
            f"{kind}: refresh after 1 edit+add+delete fetched {statistics.median(fetched[kind]):,.0f} items in "
            f"{statistics.median(requests_n[kind]):,.0f} requests (medians; a complete listing is "
            f"{-(-args.tracks // PAGE):,} pages); a complete listing after it changed {exact[kind]} rows (budget 0)"
        )
    if plexapi_s is not None:
        print(f"plex: plexapi object path / sync = {plexapi_s / med['plex sync']:.1f}x (budget >= 5x)")
    print(f"unchanged refresh rows written (added+updated+removed, all rounds): {rewritten} (budget 0)")
    if not args.in_process:
        print_cpu(cpu, med)
    return {kind: med[f"{kind} sync"] for kind in ("plex", "jellyfin")}


def print_cpu(cpu: dict[str, list[tuple[float, float]]], med: dict[str, float]) -> None:
    """The CPU-seconds table (medians) and the 2-CPU floor of each sync (see the module docstring)."""
    cores = os.cpu_count() or 1
    print(f"\nCPU seconds (medians; this process / demo server process; {cores} CPUs)\n")
    print(
        f"| {'run':<18} | {'wall':>6} | {'ours':>6} | {'server':>6} | {'floor':>6} | {'floor / download':>16} |"
    )
    print(f"|{'-' * 20}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 18}|")
    for key, values in cpu.items():
        ours = statistics.median(v[0] for v in values)
        theirs = statistics.median(v[1] for v in values)
        kind = key.split()[0]
        floor = max((ours + theirs) / cores, theirs)
        ratio = floor / med[f"{kind} download"]
        print(
            f"| {key:<18} | {med[key]:6.2f} | {ours:6.2f} | {theirs:6.2f} | {floor:6.2f} | {ratio:15.2f}x |"
        )


if __name__ == "__main__":
    sys.exit(main())
