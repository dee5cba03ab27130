"""Argument types for the command line: the rules of ``core.validate`` as argparse types, so a value out of
bounds is a usage error (exit 2) that names the bound, before anything is opened or stored."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.core import validate
from app.core.errors import ValidationError, register_secret
from app.services.context import AppContext


def _as_type(check: Callable[[str], object], label: str) -> Callable[[str], object]:
    def convert(text: str) -> object:
        try:
            return check(text)
        except ValidationError as err:
            raise argparse.ArgumentTypeError(err.user_message) from None

    convert.__name__ = label  # argparse names the type in "invalid <name> value"
    return convert


def int_in(lo: int, hi: int, what: str = "The value") -> Callable[[str], object]:
    """A whole number within ``lo..hi``."""
    return _as_type(lambda t: validate.whole_number(t, what, lo, hi), "number")


def days_up_to(hi: float = validate.MAX_DAYS, what: str = "The number of days") -> Callable[[str], object]:
    """A finite number of days, more than 0 and at most ``hi``."""
    return _as_type(lambda t: validate.days(t, what, 0.0, hi), "days")


def number_in(lo: float, hi: float, what: str = "The value") -> Callable[[str], object]:
    """A finite number within ``lo..hi``."""
    return _as_type(lambda t: validate.finite(t, what, lo, hi), "number")


def name_of(what: str) -> Callable[[str], object]:
    """A name without control or bidi-override characters."""
    return _as_type(lambda t: validate.name(t, what), "name")


def known_server(ctx: AppContext, name: str | None) -> None:
    """Refuses a ``--server`` that names no server (a usage error naming the servers that exist): a typo must
    not read as "no tracks"."""
    if name is None:
        return
    names = [s.name for s in ctx.server_store.list()]
    if name not in names:
        there = ", ".join(repr(n) for n in names) if names else "none yet"
        raise ValidationError(
            f"There is no server named {name!r}. Servers: {there}.",
            remedy="Use one of these names (zondarr server list).",
        )


LIMIT = int_in(1, validate.MAX_LIMIT, "--limit")


def read_secret(from_stdin: bool, what: str) -> str:
    """The secret piped on stdin (one line), registered so that no log or error shows it. Raises
    ValidationError when ``from_stdin`` is False (the flag was not given) or the line is empty."""
    if not from_stdin:
        raise ValidationError(
            f"No {what} was given.", remedy=f"Pipe the {what} on stdin with --{what}-stdin."
        )
    value = sys.stdin.readline().strip()
    if not value:
        raise ValidationError(f"The {what} on stdin was empty.", remedy=f"Pipe the {what} on stdin.")
    register_secret(value)
    return value
