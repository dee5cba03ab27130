"""The one build entry point for Zondarr's bundle and installers.

    python packaging/build.py bundle   one-folder bundle in dist/zondarr (dist/Zondarr.app too on macOS)
    python packaging/build.py deb      bundle + dist/zondarr_<version>_<arch>.deb          (Linux)
    python packaging/build.py exe      bundle + dist/Zondarr-<version>-setup.exe           (Windows, Inno Setup 6)
    python packaging/build.py dmg      bundle + dist/Zondarr-<version>.dmg                 (macOS)
    python packaging/build.py all      bundle + this platform's installer

Run it with the project's venv Python (the one that has the app's dependencies). It installs PyInstaller into
that venv when missing (pinned range below) and writes only into build/ and dist/. The version is read from
app/__init__.py, the single version source. Exit code 0 on success; a failed step exits non-zero.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = ROOT / "build"
DIST = ROOT / "dist"
ICONS = BUILD / "icons"
SPEC = HERE / "zondarr.spec"
PYINSTALLER_REQ = "pyinstaller>=6.22,<6.23"  # the series PLATFORM-NOTES measured

sys.path.insert(0, str(HERE))


def read_version() -> str:
    """``__version__`` from app/__init__.py, parsed (importing the app would import its dependencies)."""
    tree = ast.parse((ROOT / "app" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise SystemExit("app/__init__.py has no __version__")


def ensure_pyinstaller() -> None:
    try:
        version = importlib.metadata.version("pyinstaller")
    except importlib.metadata.PackageNotFoundError:
        version = ""
    if version.startswith("6.22."):
        return
    if sys.prefix == sys.base_prefix and not os.environ.get("ZONDARR_ALLOW_SYSTEM_PIP"):
        print(
            "warning: not in a virtual environment; installing PyInstaller into this Python", file=sys.stderr
        )
    print(f"== installing {PYINSTALLER_REQ} (found {version or 'none'})")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PYINSTALLER_REQ], check=True)


def disk_usage(path: Path) -> int:
    """Bytes on disk of a file or tree (what ``du`` reports, without following symlinks)."""
    if path.is_file():
        return path.stat().st_blocks * 512
    return sum(p.lstat().st_blocks * 512 for p in path.rglob("*")) + path.stat().st_blocks * 512


def mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB"


def build_icons() -> None:
    from icons import write_icons

    write_icons(ICONS)


def build_bundle() -> Path:
    """Renders the icons, runs PyInstaller on the spec; returns dist/zondarr (or dist/Zondarr.app on macOS)."""
    ensure_pyinstaller()
    started = time.perf_counter()
    build_icons()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(BUILD / "pyinstaller"),
            str(SPEC),
        ],
        cwd=ROOT,
        check=True,
    )
    bundle = DIST / ("Zondarr.app" if sys.platform == "darwin" else "zondarr")
    print(
        f"bundle: {bundle} {mb(disk_usage(bundle))} unpacked, built in {time.perf_counter() - started:.1f} s"
    )
    return bundle


def build_deb(version: str) -> Path:
    if not sys.platform.startswith("linux") or not shutil.which("dpkg-deb"):
        raise SystemExit("the .deb is built on Debian/Ubuntu (needs dpkg-deb)")
    import deb

    started = time.perf_counter()
    path = deb.build_deb(
        bundle=DIST / "zondarr",
        icons=ICONS,
        svg=ROOT / "resources" / "icons" / "zondarr.svg",
        out_dir=DIST,
        version=version,
        work=BUILD / "deb",
    )
    print(f"deb: {path} {mb(path.stat().st_size)}, packed in {time.perf_counter() - started:.1f} s")
    return path


def find_iscc() -> str:
    for candidate in (
        os.environ.get("ISCC", ""),
        shutil.which("iscc") or "",
        r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe",
        r"C:\Program Files\Inno Setup 6\ISCC.exe",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("Inno Setup 6 not found: install it (choco install innosetup) or set ISCC")


def build_exe(version: str) -> Path:
    if sys.platform != "win32":
        raise SystemExit("the Windows installer is built on Windows (Inno Setup)")
    subprocess.run(
        [
            find_iscc(),
            f"/DAppVersion={version}",
            f"/DSourceDir={DIST / 'zondarr'}",
            f"/DIconFile={ICONS / 'zondarr.ico'}",
            f"/O{DIST}",
            str(HERE / "windows" / "zondarr.iss"),
        ],
        check=True,
    )
    path = DIST / f"Zondarr-{version}-setup.exe"
    print(f"installer: {path} {mb(path.stat().st_size)}")
    return path


def build_dmg(version: str) -> Path:
    if sys.platform != "darwin":
        raise SystemExit("the .dmg is built on macOS (hdiutil)")
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(HERE / "macos" / "build_dmg.sh"), "--skip-bundle"], check=True, env=env)
    path = DIST / f"Zondarr-{version}.dmg"
    print(f"dmg: {path} {mb(path.stat().st_size)}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build Zondarr's bundle and installers into build/ and dist/."
    )
    parser.add_argument("target", nargs="?", default="bundle", choices=["bundle", "deb", "exe", "dmg", "all"])
    target = parser.parse_args(argv).target
    version = read_version()
    print(f"== zondarr {version}: {target}")
    started = time.perf_counter()
    build_bundle()
    if target == "all":
        target = "deb" if sys.platform.startswith("linux") else "exe" if sys.platform == "win32" else "dmg"
    if target == "deb":
        build_deb(version)
    elif target == "exe":
        build_exe(version)
    elif target == "dmg":
        build_dmg(version)
    print(f"build time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
