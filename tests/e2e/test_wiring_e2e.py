"""The composition root builds the whole context in one call, and nothing can be attached to it afterwards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.services.context import AppContext
from app.wiring import build_context


def test_every_part_of_the_context_is_built_in_one_call(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    try:
        missing = [f.name for f in dataclasses.fields(ctx) if getattr(ctx, f.name) is None]
        assert missing == ["deferred_cache_check"]  # only set when the window defers the cache check
        for group in (ctx.health, ctx.people):
            assert all(getattr(group, f.name) is not None for f in dataclasses.fields(group)), group
    finally:
        ctx.close()
    deferred = build_context(tmp_path, defer_cache_check=True)
    try:
        assert callable(deferred.deferred_cache_check)
    finally:
        deferred.close()


def test_the_context_and_its_groups_are_frozen(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    try:
        for name in (f.name for f in dataclasses.fields(AppContext)):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(ctx, name, None)
        for group, name in ((ctx.health, "monitor"), (ctx.people, "tasks"), (ctx, "extra")):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(group, name, None)
    finally:
        ctx.close()
    ctx.close()  # closing twice is harmless
