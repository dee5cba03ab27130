"""Invitation service: the validation reason as a pure function, codes, all-or-nothing redemption with rollback,
and concurrent redemptions never exceeding max uses (real SQLite cache, fake servers)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.models import RefusalReason
from app.services.invitations import CODE_ALPHABET, new_code, normalize_code, refusal_reason
from tests.services.people_fakes import AccountServer, Harness

times = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@given(
    enabled=st.booleans(),
    expires_at=st.none() | times,
    max_uses=st.none() | st.integers(min_value=1, max_value=50),
    use_count=st.integers(min_value=0, max_value=60),
    now=times,
)
def test_refusal_reason_for_any_combination(
    enabled: bool, expires_at: float | None, max_uses: int | None, use_count: int, now: float
) -> None:
    reason = refusal_reason(enabled, expires_at, max_uses, use_count, now)
    expired = expires_at is not None and now >= expires_at
    used_up = max_uses is not None and use_count >= max_uses
    if not enabled:
        assert reason is RefusalReason.DISABLED
    elif expired:
        assert reason is RefusalReason.EXPIRED
    elif used_up:
        assert reason is RefusalReason.USED_UP
    else:
        assert reason is None
    # monotone in time: once expired, later is expired too
    if reason is RefusalReason.EXPIRED:
        assert refusal_reason(enabled, expires_at, max_uses, use_count, now + 1) is RefusalReason.EXPIRED


def test_codes_use_only_unambiguous_characters() -> None:
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set(CODE_ALPHABET) & set("0O1IL")
    assert normalize_code(" abcd-efgh ") == "ABCDEFGH"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path / "data", {"A": AccountServer(), "B": AccountServer(libraries=("7", "8"))})
    yield harness
    harness.close()


def test_redeem_is_all_or_nothing_and_rolls_back(h: Harness) -> None:
    inv = asyncio.run(h.people.invitations.create(["A", "B"], {"A": ["Lib 2"], "B": ["8"]}, max_uses=2))
    h.servers["B"].fail_create = True
    result = asyncio.run(h.people.invitations.redeem(inv.code, "zoe", None, "pw"))
    assert not result.ok and result.reason == "server unavailable"
    assert not h.servers["A"].users and not h.servers["B"].users  # A's account was removed again
    assert h.cache.invitations.get(inv.id).use_count == 0  # type: ignore[union-attr]
    statuses = sorted(r.status for r in h.cache.invitations.redemptions(inv.id))
    assert statuses == ["failed", "rolled_back"]

    h.servers["B"].fail_create = False
    result = asyncio.run(h.people.invitations.redeem(inv.code, "zoe", "zoe@x.org", "pw"))
    assert result.ok, result
    [a] = h.servers["A"].users.values()
    [b] = h.servers["B"].users.values()
    assert a.library_keys == ("2",) and b.library_keys == ("8",)
    assert h.cache.invitations.get(inv.id).use_count == 1  # type: ignore[union-attr]


def test_preflight_refuses_before_creating_anything(h: Harness) -> None:
    inv = asyncio.run(h.people.invitations.create(["A", "B"], {"A": ["1", "3"]}))
    h.servers["B"].add("taken")
    result = asyncio.run(h.people.invitations.redeem(inv.code, "Taken", None, "pw"))
    assert result.reason == "username taken" and not h.servers["A"].users
    h.servers["A"].libraries = ("1",)  # library 3 was removed on the server
    checks = asyncio.run(h.people.invitations.preflight(inv.code, "fresh", None, "pw"))
    assert {c.server: c.reason for c in checks} == {"A": "library missing", "B": None}
    h.servers["B"].down = True
    result = asyncio.run(h.people.invitations.redeem(inv.code, "fresh", None, "pw"))
    assert not result.ok and not h.servers["A"].users


@pytest.mark.parametrize("max_uses", [1, 3])
def test_concurrent_redemptions_never_exceed_max_uses(h: Harness, max_uses: int) -> None:
    inv = asyncio.run(h.people.invitations.create(["A"], max_uses=max_uses))
    h.servers["A"].create_delay_s = 0.01

    async def race() -> list[bool]:
        results = await asyncio.gather(
            *(h.people.invitations.redeem(inv.code, f"user{i}", None, "pw") for i in range(8))
        )
        return [r.ok for r in results]

    oks = asyncio.run(race())
    assert sum(oks) == max_uses
    assert len(h.servers["A"].users) == max_uses
    assert h.cache.invitations.get(inv.id).use_count == max_uses  # type: ignore[union-attr]


def test_create_validates_input(h: Harness) -> None:
    from app.core.errors import NotFoundError, ValidationError

    svc = h.people.invitations
    with pytest.raises(ValidationError):
        asyncio.run(svc.create([]))
    with pytest.raises(NotFoundError):
        asyncio.run(svc.create(["Nope"]))
    with pytest.raises(ValidationError, match="no library"):
        asyncio.run(svc.create(["A"], {"A": ["Jazz"]}))
    with pytest.raises(ValidationError, match="past"):
        asyncio.run(svc.create(["A"], expires_at=h.now - 1))
