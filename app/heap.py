"""Keeps the garbage collector's full collections short while a sync runs, in the window (DESIGN §8: no GUI stall
> 50 ms) and on the command line (sync throughput).

A full (generation 2) collection walks every tracked object and holds the GIL all the while. After start-up the
process holds a few hundred thousand long-lived objects (Qt bindings, modules, the window), so each full
collection took ~30 ms, and a sync triggers one every half second: the pages it parses on the net pool survive
long enough to fill the old generation. Whichever thread ran it, the GUI thread waited for the GIL that long, and
the sync itself lost ~10 % of its time to them (bench_sync: 6.29 -> 5.66 s for a 100k Plex first sync).
``freeze_long_lived`` moves what is alive after start-up into the permanent generation (``gc.freeze``), which
collections skip: they then walk only what was created since, a few milliseconds' worth.

Call it once start-up is done: the window's ``start()``, the CLI once its context is built. Any thread. No errors.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_long_lived() -> bool:
    """Freezes the objects alive now, once per process (later calls do nothing and return False).

    The young generations are collected first so short-lived garbage of the start-up is not kept forever; what
    sits in the old generation is start-up state (modules, classes, widgets) that lives as long as the app."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.collect(1)
    gc.freeze()
    return True
