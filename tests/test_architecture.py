"""The layering rules of DESIGN §2, checked by walking every import of every module in app/ with ast.

Every module under ``app/`` belongs to exactly one layer (``LAYERS``), and each layer lists what it MAY import
(``ALLOWED``): other layers, named modules of a layer, third-party packages, and the few standard-library
modules that belong to one layer only (``OWNED_STDLIB``). A module that is in no layer fails, so a new module is
covered the day it appears. Beside the allow-list: nothing imports the composition root (``app.wiring``) except
the entry modules, and there is no import cycle among the modules of ``app/`` (late imports included: a cycle
hidden in a function still makes two modules hold each other up; imports under ``if TYPE_CHECKING:`` never run,
so they count for the layers but not for cycles).
"""

from __future__ import annotations

import ast
import functools
import graphlib
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# layer -> the dotted names of its modules (a name and everything under it; "app" alone is the package only).
LAYERS: dict[str, tuple[str, ...]] = {
    "package": ("app",),  # app/__init__.py: the version
    "core": ("app.core",),
    "storage": ("app.storage",),
    "servers": ("app.servers",),
    "services": ("app.services",),
    "ui": ("app.ui",),
    "demo": ("app.demo",),
    "cli": ("app.cli",),
    "wiring": ("app.wiring",),
    "process": ("app.process", "app.crashlog"),  # what the entries call about this process
    "logging": ("app.logsetup",),
    "entry": ("app.entry", "app.__main__", "app.main", "app.gui_session"),
}

# layer -> what its modules may import: layer names, dotted app modules (that module and below), third-party
# packages and owned standard-library modules (prefix match on the dotted name). Any other standard-library
# module is always allowed; a module's imports of its own layer are always allowed.
ALLOWED: dict[str, tuple[str, ...]] = {
    "package": (),
    "core": (),
    "storage": ("core", "sqlite3", "keyring", "platformdirs"),
    "servers": ("core", "package", "plexapi", "jellyfin_apiclient_python", "requests", "urllib3"),
    "services": ("core", "package", "segno"),  # segno: a pure QR-code encoder (the invitation card)
    # PySide6 as a whole: the UI is the one package that builds widgets.
    "ui": ("core", "services", "package", "PySide6", "shiboken6"),
    "demo": (),  # a stand-in that shared the app's code would share its mistakes
    # app.storage.paths: the default data folder, needed to parse --data-dir before anything is opened.
    # app.storage.backups: `backup list|restore` must not open the cache (a damaged cache is when they are
    # needed, and a restore must be the only holder of the file), so they run without a context.
    # The invitation card's painter (QtGui only, no widget) draws `invite card --out FILE.png` as in the dialog.
    "cli": (
        "core",
        "services",
        "demo",
        "wiring",
        "process",
        "package",
        "app.storage.paths",
        "app.storage.backups",
        "app.ui.widgets.invite_card_image",
        "PySide6.QtGui",
    ),
    # The one module that sees every layer's concrete classes and builds the AppContext from them.
    "wiring": ("core", "storage", "servers", "services", "logging"),
    "process": ("gc",),
    "logging": ("core",),
    # The entries: app.storage.head reads the cache's first rows for the window's first paint before anything
    # is wired (read-only sqlite3; main.py hands the rows to the window, the UI never imports storage);
    # PySide6.QtWidgets for the QApplication the window needs.
    "entry": (
        "core",
        "services",
        "ui",
        "cli",
        "demo",
        "wiring",
        "process",
        "app.storage.paths",
        "app.storage.head",
        "PySide6.QtCore",
        "PySide6.QtWidgets",
        "qasync",
    ),
}

# Standard-library modules that only the layers allowing them by name may import.
OWNED_STDLIB = ("sqlite3", "gc")
# The composition root is imported by the entry modules only: the window's session, the CLI's entry and the
# demo runner.
WIRING_IMPORTERS = ("app.gui_session", "app.cli.main", "app.cli.demo")


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.lru_cache(maxsize=4096)
def _parse(path: str, mtime_ns: int, size: int) -> ast.Module:
    """The parsed module, kept while the file is unchanged (the self-tests walk a copy of app/ many times)."""
    return ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under ``if TYPE_CHECKING:`` (they never run)."""
    out: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(n for stmt in node.body for n in ast.walk(stmt))
    return out


def _imports(path: Path, root: Path, known: set[str], *, runtime_only: bool = False) -> set[str]:
    """Every dotted name ``path`` imports anywhere in its body: ``from a import b`` gives ``a.b`` when that is one
    of the ``known`` modules, else ``a`` (a name defined in ``a``). ``runtime_only`` leaves out the imports under
    ``if TYPE_CHECKING:``."""
    stat = path.stat()
    tree = _parse(str(path), stat.st_mtime_ns, stat.st_size)
    skipped = _type_only(tree) if runtime_only else set()
    out: set[str] = set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                dotted = _dotted(path, root)
                package = dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                out.add(sub if sub in known else mod)
    return out


def layer_of(dotted: str) -> str | None:
    """The layer holding the app module ``dotted`` (its most specific pattern), or None."""
    best: tuple[int, str] | None = None
    for layer, patterns in LAYERS.items():
        for pattern in patterns:
            hit = dotted == pattern if pattern == "app" else _matches(dotted, pattern)
            if hit and (best is None or len(pattern) > best[0]):
                best = (len(pattern), layer)
    return None if best is None else best[1]


def _app_target(name: str, known: set[str]) -> str | None:
    """The app module an imported name stands for, or None when there is no such module."""
    return name if name in known else None


def _allows(layer: str, name: str, target: str | None) -> bool:
    for entry in ALLOWED[layer]:
        if entry in LAYERS:
            if target is not None and layer_of(target) == entry:
                return True
        elif _matches(name, entry):
            return True
    return False


def layer_problems(root: Path) -> list[str]:
    """Every import under ``root`` (an ``app`` folder) that its layer does not allow, and every module in no
    layer."""
    paths = {_dotted(p, root): p for p in _modules(root)}
    known = set(paths)
    problems: list[str] = []
    for dotted, path in paths.items():
        layer = layer_of(dotted)
        if layer is None:
            problems.append(f"{dotted} is in no layer: add it to LAYERS in tests/test_architecture.py")
            continue
        for name in sorted(_imports(path, root, known)):
            top = name.split(".")[0]
            if top == "__future__":
                continue
            if top == "app":
                target = _app_target(name, known)
                if target is None:
                    problems.append(f"{dotted} imports {name}, which is no module under app/")
                elif target in ("app.wiring",) and not any(dotted == m for m in WIRING_IMPORTERS):
                    problems.append(f"{dotted} imports {name}: only {WIRING_IMPORTERS} may import the wiring")
                elif layer_of(target) != layer and not _allows(layer, name, target):
                    problems.append(f"{dotted} ({layer}) imports {name} ({layer_of(target)}), not allowed")
            elif top in sys.stdlib_module_names and top not in OWNED_STDLIB:
                continue
            elif not _allows(layer, name, None):
                problems.append(f"{dotted} ({layer}) imports {name}, not allowed")
    return problems


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the app modules it imports (a package's ``__init__`` is imported only when named)."""
    paths = {_dotted(p, root): p for p in _modules(root)}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for dotted, path in paths.items():
        targets = {
            _app_target(name, known)
            for name in _imports(path, root, known, runtime_only=True)
            if name.split(".")[0] == "app"
        }
        graph[dotted] = {t for t in targets if t is not None and t != dotted}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return None


# ---- the rules on the real app/ -------------------------------------------------------------------------------


def test_the_app_package_has_modules() -> None:
    assert len(_modules(APP)) > 10


def test_every_module_is_in_a_layer_and_imports_only_what_its_layer_allows() -> None:
    problems = layer_problems(APP)
    assert not problems, "\n".join(problems)


def test_no_import_cycle_in_app() -> None:
    cycle = find_cycle(import_graph(APP))
    assert cycle is None, " -> ".join(cycle or [])


def test_the_allow_list_names_only_real_layers_and_modules() -> None:
    """An allow-list entry with a typo would allow nothing and hide a rule."""
    known = {_dotted(p, APP) for p in _modules(APP)}
    for layer, entries in ALLOWED.items():
        for entry in entries:
            if entry.startswith("app."):
                assert _app_target(entry, known) == entry, f"{layer}: {entry} is no module"
            elif entry not in LAYERS:
                assert "." in entry or entry not in sys.stdlib_module_names or entry in OWNED_STDLIB, entry


# ---- the checkers catch what they are for (or every test above passes vacuously) ----------------------------


@pytest.fixture(scope="module")
def app_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("copy") / "app"
    shutil.copytree(APP, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert layer_problems(root) == []
    assert find_cycle(import_graph(root)) is None
    return root


@pytest.fixture
def planted(app_copy: Path) -> Iterator[Path]:
    """A copy of app/ to plant violations in (files named planted*); it passes both checks before anything is
    planted, and its planted files are removed after each test."""
    yield app_copy
    for path in app_copy.rglob("planted*.py"):
        path.unlink()


def test_the_walker_sees_imports(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "ui").mkdir(parents=True)
    bad = root / "ui" / "bad.py"
    bad.write_text("import sqlite3\nfrom app.storage import db\nfrom . import theme\n", encoding="utf-8")
    (root / "storage").mkdir()
    (root / "storage" / "db.py").write_text("", encoding="utf-8")
    (root / "ui" / "theme.py").write_text("", encoding="utf-8")
    (root / "ui" / "bad2.py").write_text("from app.storage import open_cache\n", encoding="utf-8")
    known = {_dotted(p, root) for p in _modules(root)}
    assert _imports(bad, root, known) == {"sqlite3", "app.storage.db", "app.ui.theme"}
    assert _imports(root / "ui" / "bad2.py", root, known) == {"app.storage"}


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("ui/planted.py", "import sqlite3\n", "app.ui.planted (ui) imports sqlite3"),
        ("ui/planted.py", "from app.storage.head import read_head\n", "imports app.storage.head"),
        ("ui/planted.py", "def f():\n    from app.servers import plex\n", "imports app.servers.plex"),
        ("ui/planted.py", "import gc\n", "app.ui.planted (ui) imports gc"),
        ("services/planted.py", "from PySide6.QtCore import QObject\n", "imports PySide6.QtCore"),
        ("services/planted.py", "from app.storage import cache\n", "imports app.storage.cache"),
        ("core/planted.py", "import requests\n", "app.core.planted (core) imports requests"),
        ("servers/planted.py", "import sqlite3\n", "app.servers.planted (servers) imports sqlite3"),
        ("storage/planted.py", "import plexapi\n", "imports plexapi"),
        ("demo/planted.py", "from app.core.errors import ValidationError\n", "imports app.core.errors"),
        ("demo/planted.py", "import requests\n", "app.demo.planted (demo) imports requests"),
        ("services/planted.py", "from app.wiring import build_context\n", "only"),
        ("ui/planted.py", "from app import wiring\n", "only"),
        ("planted.py", "import os\n", "app.planted is in no layer"),
        ("ui/planted.py", "from app.nowhere import thing\n", "no module under app/"),
    ],
)
def test_a_planted_violation_is_caught(planted: Path, where: str, source: str, expected: str) -> None:
    (planted / where).write_text(source, encoding="utf-8")
    problems = layer_problems(planted)
    assert any(expected in p for p in problems), problems


def test_a_planted_cycle_is_caught(planted: Path) -> None:
    (planted / "services" / "planted_a.py").write_text(
        "from app.services import planted_b\n", encoding="utf-8"
    )
    (planted / "services" / "planted_b.py").write_text(
        "def late():\n    from app.services.planted_a import x\n", encoding="utf-8"
    )
    cycle = find_cycle(import_graph(planted))
    assert cycle is not None and set(cycle) == {"app.services.planted_a", "app.services.planted_b"}


def test_a_type_only_import_back_is_no_cycle(planted: Path) -> None:
    """A page typed against the window that builds it: ``if TYPE_CHECKING:`` imports never run."""
    (planted / "ui" / "planted_window.py").write_text("from app.ui import planted_part\n", encoding="utf-8")
    (planted / "ui" / "planted_part.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.ui.planted_window import W\n",
        encoding="utf-8",
    )
    assert find_cycle(import_graph(planted)) is None
    (planted / "ui" / "planted_part.py").write_text(
        "def late():\n    from app.ui.planted_window import W\n", encoding="utf-8"
    )
    assert find_cycle(import_graph(planted)) is not None


def test_a_cycle_through_the_layers_is_caught(planted: Path) -> None:
    """The wiring a newcomer met: an entry importing the CLI which imports the entry back."""
    (planted / "planted_entry.py").write_text("from app import planted_cli\n", encoding="utf-8")
    (planted / "planted_cli.py").write_text("import app.planted_entry\n", encoding="utf-8")
    cycle = find_cycle(import_graph(planted))
    assert cycle is not None and set(cycle) == {"app.planted_entry", "app.planted_cli"}


def test_no_comment_names_an_issue_instead_of_a_reason() -> None:
    """A comment says why (STYLE.md); "issue 5" says only who asked, and means nothing once the tracker moves."""
    pattern = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
    found = [
        f"{path.relative_to(APP.parent)}:{number}: {line.strip()}"
        for folder in (APP, APP.parent / "tests")
        for path in sorted(folder.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and path.name != "test_architecture.py"
    ]
    assert not found, "\n".join(found)
