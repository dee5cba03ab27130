"""Rules for input from the admin (DESIGN §6): numbers within stated bounds, finite only; names without control
or bidi-override characters; and the escaping of text from servers before it is printed to a terminal.

Front ends (CLI argument types, dialogs) and services use the same rules, so a value refused on the command line
is refused everywhere, and nothing out of range reaches the cache. Stdlib only.
"""

from __future__ import annotations

import math
import re

from app.core.errors import ValidationError

MAX_USES = 1_000_000
MAX_DAYS = 36_500  # durations and expiries: 100 years
MAX_LIMIT = 1_000_000_000  # --limit and similar counts
MAX_NAME = 200

# C0 and C1 controls, DEL, and the Unicode bidi controls that reorder what a terminal shows (U+202E "RLO" makes
# "exe.txt" read "txt.exe"), plus the invisible direction marks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def whole_number(value: object, what: str, lo: int, hi: int) -> int:
    """``value`` (an int or its text) as an int within ``lo..hi``. Raises ValidationError naming the bound."""
    try:
        number = int(str(value).strip().replace("_", "")) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(
            f"{what} must be a whole number from {lo:,} to {hi:,}; {str(value)[:40]!r} is not one.",
            remedy=f"Give a whole number from {lo:,} to {hi:,}.",
        ) from None
    if not lo <= number <= hi:
        raise ValidationError(
            f"{what} must be from {lo:,} to {hi:,}; {_short(number)} is out of range.",
            remedy=f"Give a whole number from {lo:,} to {hi:,}.",
        )
    return number


def days(value: object, what: str, lo_exclusive: float = 0.0, hi: float = MAX_DAYS) -> float:
    """``value`` as a finite number of days, more than ``lo_exclusive`` and at most ``hi`` (``inf``, ``nan``,
    ``1e400`` refused). Raises ValidationError naming the bound."""
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not lo_exclusive < number <= hi:
        raise ValidationError(
            f"{what} must be a number of days more than {lo_exclusive:g} and at most {hi:,.0f}; "
            f"{str(value)[:40]!r} is not.",
            remedy=f"Give a number of days up to {hi:,.0f} (100 years).",
        )
    return number


def finite(value: object, what: str, lo: float, hi: float) -> float:
    """``value`` as a finite number within ``lo..hi``. Raises ValidationError naming the bound."""
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not lo <= number <= hi:
        raise ValidationError(
            f"{what} must be a number from {lo:g} to {hi:g}; {str(value)[:40]!r} is not.",
            remedy=f"Give a number from {lo:g} to {hi:g}.",
        )
    return number


def name(value: str, what: str, max_len: int = MAX_NAME) -> str:
    """``value`` stripped, not empty, at most ``max_len`` characters and free of control and bidi-override
    characters (a name is shown in tables and terminals: ESC or a newline would spoof rows). Raises
    ValidationError."""
    text = value.strip()
    bad = _UNSAFE.search(text)
    if bad is not None:
        raise ValidationError(
            f"{what} contains a control or text-direction character ({escape(bad.group())}); it is refused.",
            remedy="Type the name again with letters, digits, spaces and punctuation only.",
        )
    if not text:
        raise ValidationError(f"{what} is empty.", remedy="Give a name.")
    if len(text) > max_len:
        raise ValidationError(f"{what} is longer than {max_len} characters.", remedy="Give a shorter name.")
    return text


def escape(text: str) -> str:
    """``text`` with every control and bidi-override character written as an escape (``\\x1b``, ``\\n``,
    ``\\u202e``): safe to print to a terminal, one line, shown as it really is."""
    return _UNSAFE.sub(_escape_one, text)


def _escape_one(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    )


def _short(number: int) -> str:
    text = f"{number:,}"
    return text if len(text) <= 30 else f"{text[:12]}…({len(str(abs(number)))} digits)"
