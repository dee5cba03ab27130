"""Strict JSON: NaN and ±Infinity never reach a --json output or a bundle."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from app.core.jsontext import dumps

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def _refuse(name: str) -> object:
    raise ValueError(name)


@given(values)
def test_any_value_dumps_to_strict_json_keeping_every_finite_number(value: object) -> None:
    text = dumps(value)
    back = json.loads(text, parse_constant=_refuse)

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and not math.isfinite(a):
            return b is None
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
        return a == b

    assert same(value, back)


def test_infinity_and_nan_become_null() -> None:
    assert dumps({"a": math.inf, "b": [math.nan, -math.inf, 1.5]}) == '{"a": null, "b": [null, null, 1.5]}'
