"""The layering rules of DESIGN §2, checked by walking every import of every module in app/ with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# package -> top-level modules/packages it must never import (prefix match on the dotted name)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": (
        "app.storage",
        "app.servers",
        "app.services",
        "app.ui",
        "app.demo",
        "app.cli",
        "app.main",
        "app.entry",
        "app.gui_session",
        "sqlite3",
        "plexapi",
        "jellyfin_apiclient_python",
        "requests",
        "PySide6",
        "qasync",
        "keyring",
        "platformdirs",
    ),
    "storage": (
        "app.servers",
        "app.services",
        "app.ui",
        "app.demo",
        "app.cli",
        "app.main",
        "app.entry",
        "app.gui_session",
        "plexapi",
        "jellyfin_apiclient_python",
        "requests",
        "PySide6",
        "qasync",
    ),
    "servers": (
        "app.storage",
        "app.services",
        "app.ui",
        "app.demo",
        "app.cli",
        "app.main",
        "app.entry",
        "app.gui_session",
        "sqlite3",
        "PySide6",
        "qasync",
    ),
    "services": (
        "app.storage",
        "app.servers",
        "app.ui",
        "app.demo",
        "app.cli",
        "app.main",
        "app.entry",
        "app.gui_session",
        "sqlite3",
        "plexapi",
        "jellyfin_apiclient_python",
        "requests",
        "PySide6",
        "qasync",
    ),
    "ui": (
        "app.storage",
        "app.servers",
        "app.demo",
        "app.cli",
        "app.main",
        "app.entry",
        "app.gui_session",
        "sqlite3",
        "plexapi",
        "jellyfin_apiclient_python",
        "requests",
    ),
}
# app/demo is stdlib-only: it may import nothing outside the standard library except app.demo and app.core.
DEMO_ALLOWED_APP = ("app.demo", "app.core")
# Only these packages may import these third-party modules at all.
OWNERS: dict[str, tuple[str, ...]] = {
    "sqlite3": ("app.storage",),
    "plexapi": ("app.servers",),
    "jellyfin_apiclient_python": ("app.servers",),
    "requests": ("app.servers",),
    "PySide6.QtWidgets": ("app.ui", "app.main"),
}


def _modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path) -> str:
    rel = path.relative_to(APP.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{alias.name}" for alias in node.names)
    return out


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_app_package_has_modules() -> None:
    assert len(_modules()) > 10


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(APP)))
def test_module_respects_layers(path: Path) -> None:
    dotted = _dotted(path)
    layer = dotted.split(".")[1] if dotted.count(".") >= 1 else ""
    imports = _imports(path)
    problems = []
    for forbidden in FORBIDDEN.get(layer, ()):
        problems += [
            f"{dotted} imports {name} (forbidden for app.{layer})"
            for name in imports
            if _matches(name, forbidden)
        ]
    for module, owners in OWNERS.items():
        if not any(_matches(dotted, owner) for owner in owners):
            problems += [
                f"{dotted} imports {name} (only {owners} may)" for name in imports if _matches(name, module)
            ]
    if layer == "demo":
        import sys

        for name in imports:
            top = name.split(".")[0]
            if top == "app":
                if not any(_matches(name, ok) for ok in DEMO_ALLOWED_APP):
                    problems.append(f"{dotted} imports {name} (app.demo may use only app.demo and app.core)")
            elif top not in sys.stdlib_module_names and top != "__future__":
                problems.append(f"{dotted} imports {name} (app.demo is stdlib-only)")
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The walker itself must catch a forbidden import, or every test above passes vacuously."""
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlite3\nfrom app.storage import db\n", encoding="utf-8")
    names = _imports(bad)
    assert any(_matches(n, "sqlite3") for n in names)
    assert any(_matches(n, "app.storage") for n in names)
    assert not any(_matches(n, "app.stor") for n in names)
