"""Strict JSON for everything Zondarr writes for people and scripts (``--json``, bundles): no ``NaN`` or
``Infinity`` (not JSON; many parsers refuse them). A non-finite number becomes ``null``. Stdlib only."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_only(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, in nested lists, tuples and dicts too."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_only(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` of ``finite_only(value)`` with ``allow_nan=False`` and ``ensure_ascii=False``."""
    return json.dumps(finite_only(value), ensure_ascii=False, allow_nan=False, **options)
