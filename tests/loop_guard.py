"""A check that services keep blocking calls off the event-loop thread (DESIGN §2): every public method of the
stores, secret stores, locks and media-server clients (real and fake) is wrapped so that calling it on a thread
that runs an asyncio loop fails the test. Services reach them through ``Runner.net/db/read`` (pool threads, no
loop), so a direct call from a coroutine is caught at once, naming the method."""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

# Modules whose classes are blocking ports: every storage module, the server adapters, and the test fakes.
_MODULES = ("app.storage", "app.servers")
_FAKE_MODULES = ("tests.services.fakes", "tests.services.people_fakes")
_NOT_PORTS = {"Harness", "FakeMediaServer", "AccountServer", "Database", "Cache", "SearchTuning", "PagePlan"}


class LoopThreadCall(AssertionError):
    """A blocking port method ran on the event-loop thread."""


def _guard(owner: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def off_loop(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return fn(*args, **kwargs)
        raise LoopThreadCall(
            f"{owner}.{name} was called on the event-loop thread; route it through the runner"
        )

    return off_loop


def _classes(module_names: Iterable[str]) -> Iterator[type]:
    for top in module_names:
        module = importlib.import_module(top)
        names = [top]
        if hasattr(module, "__path__"):
            names += [f"{top}.{m.name}" for m in pkgutil.iter_modules(module.__path__)]
        for name in names:
            mod = importlib.import_module(name)
            for cls in vars(mod).values():
                if inspect.isclass(cls) and cls.__module__ == name and cls.__name__ not in _NOT_PORTS:
                    if not issubclass(cls, (BaseException, tuple)) and not inspect.isabstract(cls):
                        yield cls


def guarded_methods() -> Iterator[tuple[type, str, Callable[..., Any]]]:
    """(class, name, function) of every public plain method of the port implementations and fakes."""
    for cls in _classes((*_MODULES, *_FAKE_MODULES)):
        for name, value in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            yield cls, name, value


@pytest.fixture(autouse=True)
def blocking_calls_off_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Autouse in the service tests: a port method called on the loop thread fails the test."""
    for cls, name, fn in guarded_methods():
        monkeypatch.setattr(cls, name, _guard(cls.__name__, name, fn))
