"""This process's own state, for the entry points: its age, its resident memory, the freeze of the start-up
heap, and which thread collects cyclic garbage while a window lives.

Called by the entry modules only (``app/main.py`` and the GUI session, the CLI, the demo runner): the heap
freeze and the collector are process-wide, so a page or a service that changed them would decide for every other
part of the process. Standard library only. Any thread unless a docstring says otherwise; no errors.
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


class GuiThreadCollector:
    """Runs Python's cyclic garbage collection on the GUI thread only, while the window lives.

    Why: with automatic collection on, a collection runs on whichever thread allocates past the threshold, most
    often a ``net`` or ``db-writer`` thread during a sync. Qt objects that ended in a reference cycle (a closed
    dialog whose slots refer back to it, a widget holding a parentless timer) are then destroyed on that thread,
    while Qt objects must be destroyed on the thread they live in ("QObject::killTimer: Timers cannot be stopped
    from another thread", at worst a crash). So ``start`` turns automatic collection off and the GUI thread
    calls ``collect_due`` from a timer: it runs the generation CPython's thresholds would have run by now.

    GUI thread only (``start``, ``collect_due``, ``stop``); no errors."""

    def __init__(self) -> None:
        self._was_enabled: bool | None = None

    def start(self) -> None:
        """Turns automatic collection off (idempotent)."""
        if self._was_enabled is None:
            self._was_enabled = gc.isenabled()
        gc.disable()

    def collect_due(self) -> int | None:
        """Collects the oldest generation whose count passed its threshold, as CPython does after an allocation
        past the young threshold; returns that generation, or None when nothing was due. (CPython also defers
        a full collection until a quarter of the old objects are new; the frozen start-up heap keeps a full
        collection short, so that refinement is left out.)"""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if thresholds[0] == 0 or counts[0] <= thresholds[0]:
            return None
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return generation
        return None  # unreachable: generation 0 passed its threshold above

    def stop(self) -> None:
        """Collects everything (on this thread, so the window's last garbage goes here too), then restores
        automatic collection as it was before ``start``."""
        if self._was_enabled is None:
            return
        gc.collect()
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None
