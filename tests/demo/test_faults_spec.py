"""parse_faults and the rule matcher: grammar, errors, page and COUNT semantics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.demo import parse_faults
from app.demo.errors import DemoConfigError
from app.demo.faults import FaultState


def test_parses_every_example_of_the_brief() -> None:
    rules = parse_faults(
        "tracks:500@7; tracks:drop@2;tracks:malformed@1; tracks:401@3+; tracks:empty; any:latency=0.05;"
        " identity:identity-change; tracks:502@0x2"
    )
    got = [(r.endpoint, r.fault, r.page, r.and_later, r.count) for r in rules]
    assert got == [
        ("tracks", "500", 7, False, None),
        ("tracks", "drop", 2, False, None),
        ("tracks", "malformed", 1, False, None),
        ("tracks", "401", 3, True, None),
        ("tracks", "empty", None, False, None),
        ("any", "latency", None, False, None),
        ("identity", "identity-change", None, False, None),
        ("tracks", "502", 0, False, 2),
    ]
    assert rules[5].latency_s == pytest.approx(0.05)
    assert parse_faults("") == [] and parse_faults(" ; ;") == []


@pytest.mark.parametrize(
    "spec, bad",
    [
        ("songs:500", "songs:500"),
        ("tracks:418", "tracks:418"),
        ("tracks:500@x", "tracks:500@x"),
        ("tracks:latency=abc", "tracks:latency=abc"),
        ("tracks:latency=nan", "tracks:latency=nan"),
        ("tracks:latency=-1", "tracks:latency=-1"),
        ("tracks:500x0", "tracks:500x0"),
        ("tracks:500; albums", "albums"),
        ("tracks500", "tracks500"),
    ],
)
def test_bad_specs_name_the_bad_rule(spec: str, bad: str) -> None:
    with pytest.raises(DemoConfigError) as info:
        parse_faults(spec)
    assert repr(bad) in info.value.user_message


@given(st.text())
def test_arbitrary_text_parses_or_raises_demo_config_error_only(text: str) -> None:
    try:
        rules = parse_faults(text)
    except DemoConfigError:
        return
    assert all(r.endpoint and r.fault for r in rules)


@given(st.text(alphabet="tracks:50@+x;=.latency-0123456789 anyidentitydrop", max_size=40))
def test_near_miss_specs_parse_or_raise_demo_config_error_only(text: str) -> None:
    try:
        parse_faults(text)
    except DemoConfigError:
        pass


def _fires(state: FaultState, endpoint: str, page: int | None) -> str | None:
    d = state.decide(endpoint, page, carries_identity=False)
    return d.fault.fault if d.fault else None


def test_page_rules_match_exact_or_later_pages_and_never_counts() -> None:
    state = FaultState()
    state.replace(parse_faults("tracks:500@7; tracks:401@9+"))
    assert [_fires(state, "tracks", p) for p in (-1, None, 0, 6, 7, 8, 9, 12)] == [
        None,
        None,
        None,
        None,
        "500",
        None,
        "401",
        "401",
    ]
    assert _fires(state, "albums", 7) is None


def test_count_budget_stops_after_count_and_restarts_on_replace() -> None:
    state = FaultState()
    state.replace(parse_faults("tracks:502@0x2; any:latency=0.01x1"))
    first = state.decide("tracks", 0, carries_identity=False)
    assert first.fault is not None and first.latency_s == pytest.approx(0.01)
    assert _fires(state, "tracks", 0) == "502"
    assert _fires(state, "tracks", 0) is None
    state.replace(parse_faults("tracks:502@0x2"))
    assert _fires(state, "tracks", 0) == "502"


def test_identity_change_fires_only_on_identity_bearing_requests() -> None:
    state = FaultState()
    state.replace(parse_faults("any:identity-change x1"))
    assert state.identity_change_active()
    assert not state.decide("tracks", 0, carries_identity=False).identity_change
    assert state.decide("identity", None, carries_identity=True).identity_change
    assert not state.identity_change_active()
