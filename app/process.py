"""This process's own state, for the entry points: its age, its resident memory, and the freeze of the
start-up heap.

Called by the entry modules only (``app/main.py`` and the GUI session, the CLI, the demo runner): the heap
freeze is process-wide, so a page or a service that froze it would decide for every other part of the process.
Standard library only. Any thread; no errors.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

_IMPORTED_AT = time.perf_counter()  # early in start-up: the entries import this module first

_frozen = False


def process_age_ms() -> float:
    """Milliseconds since this process started (Linux: /proc/self/stat; elsewhere: since this module loaded)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time in ticks after boot
        return (time.clock_gettime(time.CLOCK_BOOTTIME) - started) * 1000
    except (OSError, ValueError, IndexError, AttributeError):
        return (time.perf_counter() - _IMPORTED_AT) * 1000


def rss_mb() -> float:
    """Resident set size in MB (Linux /proc; 0.0 when unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def freeze_long_lived() -> bool:
    """Freezes the objects alive now, once per process (later calls do nothing and return False). Call it once
    start-up is done: before the window's ``start()``, and by the CLI once its context is built.

    Why: a full (generation 2) collection walks every tracked object and holds the GIL all the while. After
    start-up the process holds a few hundred thousand long-lived objects (Qt bindings, modules, the window), so
    each full collection took ~30 ms, and a sync triggers one every half second: the pages it parses on the net
    pool survive long enough to fill the old generation. Whichever thread ran it, the GUI thread waited for the
    GIL that long (DESIGN §8: no GUI stall > 50 ms), and the sync itself lost ~10 % of its time to them
    (bench_sync: 6.29 -> 5.66 s for a 100k Plex first sync). ``gc.freeze`` moves what is alive into the
    permanent generation, which collections skip: they then walk only what was created since.

    The young generations are collected first so short-lived garbage of the start-up is not kept forever; what
    sits in the old generation is start-up state (modules, classes, widgets) that lives as long as the app."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.collect(1)
    gc.freeze()
    return True
