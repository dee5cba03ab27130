"""Fault injection rules for the demo servers: parsing the spec and deciding which rules fire.

Spec grammar (spaces ignored, case-insensitive)::

    SPEC  := RULE (';' RULE)*
    RULE  := ENDPOINT ':' FAULT ['@' PAGE ['+']] ['x' COUNT]

``PAGE`` is the page index ``start // size`` of a paged request (count requests with size 0 are page -1 and
never match ``@PAGE``; requests that are not paged never match it either). ``COUNT`` makes a rule transient: it
fires for its first COUNT matching requests only.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field

from app.demo.errors import DemoConfigError

ENDPOINTS = frozenset({"identity", "libraries", "albums", "tracks", "users", "login", "any"})
STATUS_FAULTS = frozenset({"500", "502", "401", "403", "404"})
SIMPLE_FAULTS = frozenset({"timeout", "drip", "truncate", "malformed", "drop", "empty", "identity-change"})
# Hostile answers (app.demo.hostile); the AMOUNT ones take an optional ``=N``.
HOSTILE_FAULTS = frozenset({"redirect-post", "growing-total", "huge-year", "huge-total"})
AMOUNT_FAULTS = {"huge": (1, 100_000), "gzip-bomb": (1, 100_000), "repeat-page": (0, 10**12)}
MAX_LATENCY_S = 300.0
_FORMAT = "Use ENDPOINT:FAULT[@PAGE[+]][xCOUNT], for example tracks:500@7 or any:latency=0.05."
_RULE = re.compile(
    r"^(?P<endpoint>[a-z]+):(?P<fault>[a-z0-9=.\-]+?)(?:@(?P<page>\d{1,9})(?P<plus>\+)?)?(?:x(?P<count>\d{1,9}))?$",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One parsed rule. ``fault`` is a status code string, a simple or hostile fault name or ``"latency"``;
    ``amount`` is the ``=N`` of an AMOUNT fault (None: its default)."""

    endpoint: str
    fault: str
    latency_s: float = 0.0
    page: int | None = None
    and_later: bool = False
    count: int | None = None
    text: str = ""
    amount: int | None = None

    def matches(self, endpoint: str | None, page: int | None) -> bool:
        """Whether this rule applies to a request of ``endpoint`` (None = no named endpoint) at ``page``."""
        if self.endpoint != "any" and self.endpoint != endpoint:
            return False
        if self.page is None:
            return True
        if page is None or page < 0:
            return False
        return page >= self.page if self.and_later else page == self.page


def _bad(part: str, why: str) -> DemoConfigError:
    shown = part if len(part) <= 80 else part[:77] + "..."
    return DemoConfigError(f"The fault rule {shown!r} is not valid: {why}.", remedy=_FORMAT)


def _parse_rule(part: str) -> FaultRule:
    m = _RULE.match(part)
    if m is None:
        raise _bad(part, "it does not have the form ENDPOINT:FAULT[@PAGE[+]][xCOUNT]")
    endpoint, fault = m["endpoint"], m["fault"]
    if endpoint not in ENDPOINTS:
        raise _bad(part, f"the endpoint must be one of {', '.join(sorted(ENDPOINTS))}")
    latency = 0.0
    if fault.startswith("latency="):
        try:
            latency = float(fault.removeprefix("latency="))
        except ValueError:
            raise _bad(part, "latency needs a number of seconds") from None
        if not math.isfinite(latency) or not 0 <= latency <= MAX_LATENCY_S:
            raise _bad(part, f"latency must be between 0 and {MAX_LATENCY_S:g} seconds")
        fault = "latency"
    amount = None
    name, _, raw_amount = fault.partition("=")
    if name in AMOUNT_FAULTS:
        lo, hi = AMOUNT_FAULTS[name]
        if raw_amount:
            if not raw_amount.isdigit() or not lo <= int(raw_amount) <= hi:
                raise _bad(part, f"{name} takes a whole number from {lo} to {hi}")
            amount = int(raw_amount)
        fault = name
    elif fault != "latency" and fault not in STATUS_FAULTS | SIMPLE_FAULTS | HOSTILE_FAULTS:
        amounts = {f"{n}[=N]" for n in AMOUNT_FAULTS}
        known = sorted(STATUS_FAULTS | SIMPLE_FAULTS | HOSTILE_FAULTS | amounts | {"latency=SECONDS"})
        raise _bad(part, f"the fault must be one of {', '.join(known)}")
    count = None if m["count"] is None else int(m["count"])
    if count == 0:
        raise _bad(part, "the count after x must be at least 1")
    page = None if m["page"] is None else int(m["page"])
    return FaultRule(endpoint, fault, latency, page, m["plus"] is not None, count, part, amount)


def parse_faults(spec: str) -> list[FaultRule]:
    """Parses a fault spec (see module docstring). Empty rules (``;;``, trailing ``;``) are ignored.

    Pure function, any thread. Raises ``DemoConfigError`` naming the first bad rule; nothing else.
    """
    if not isinstance(spec, str):
        raise DemoConfigError("The fault spec must be text.", remedy=_FORMAT)
    cleaned = "".join(spec.split()).lower()
    return [_parse_rule(part) for part in cleaned.split(";") if part]


@dataclass(slots=True)
class Decision:
    """What the active rules say about one request: total latency first, then at most one fault."""

    latency_s: float = 0.0
    fault: FaultRule | None = None
    identity_change: bool = False


@dataclass
class FaultState:
    """The active rules and their COUNT budgets. Thread-safe: handler threads call ``decide`` concurrently
    while ``replace`` may be called from any thread."""

    rules: list[FaultRule] = field(default_factory=list)
    _used: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self.rules = list(rules)
            self._used = [0] * len(rules)

    def identity_change_active(self) -> bool:
        """True when an identity-change rule could still fire (used for ``DemoServer.machine_id``)."""
        with self._lock:
            return any(
                r.fault == "identity-change" and (r.count is None or used < r.count)
                for r, used in zip(self.rules, self._used, strict=True)
            )

    def decide(self, endpoint: str | None, page: int | None, *, carries_identity: bool) -> Decision:
        """Consumes the COUNT budget of every rule that fires for this request and returns the decision.

        Latency rules all add up; the first firing non-latency rule is the fault. Identity-change rules fire
        only on requests that carry the server identity (``carries_identity``).
        """
        decision = Decision()
        if not self.rules:
            return decision
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.matches(endpoint, page):
                    continue
                if rule.count is not None and self._used[i] >= rule.count:
                    continue
                if rule.fault == "identity-change":
                    if not carries_identity:
                        continue
                    decision.identity_change = True
                elif rule.fault == "latency":
                    decision.latency_s += rule.latency_s
                elif decision.fault is None:
                    decision.fault = rule
                else:
                    continue
                self._used[i] += 1
        return decision
