"""Packaging recipes: icon containers, the Depends check, the version's single source and the Linux
desktop metadata. Fast checks only; the full build + install + --self-test is packaging/smoke_test.sh."""

from __future__ import annotations

import configparser
import importlib.util
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

import app
from app.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def _load(name: str) -> ModuleType:
    """Imports packaging/<name>.py under a private name (``build`` is also a PyPI package's name)."""
    spec = importlib.util.spec_from_file_location(f"zondarr_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build, deb, icons = _load("build"), _load("deb"), _load("icons")

blobs = st.dictionaries(
    st.sampled_from([16, 32, 48, 64, 128, 256]), st.binary(min_size=1, max_size=64), min_size=1
)


@given(blobs)
def test_ico_directory_points_at_each_image(pngs: dict[int, bytes]) -> None:
    data = icons.ico_bytes(pngs)
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(pngs))
    seen = {}
    for i in range(count):
        w, h, _, _, planes, bpp, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert w == h and planes == 1 and bpp == 32
        seen[w or 256] = data[offset : offset + size]
    assert seen == pngs


@given(blobs)
def test_icns_elements_hold_the_images_of_known_sizes(pngs: dict[int, bytes]) -> None:
    data = icons.icns_bytes(pngs)
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    by_type = {v: k for k, v in icons.ICNS_TYPES.items()}
    found, pos = {}, 8
    while pos < len(data):
        kind, length = data[pos : pos + 4], struct.unpack_from(">I", data, pos + 4)[0]
        found[by_type[kind]] = data[pos + 8 : pos + length]
        pos += length
    assert found == {s: b for s, b in pngs.items() if s in icons.ICNS_TYPES}


def test_icons_render_from_the_svg(tmp_path: Path) -> None:
    # A subprocess: the renderer makes a QGuiApplication, which must not become this test session's app.
    subprocess.run([sys.executable, str(PACKAGING / "icons.py"), str(tmp_path)], check=True, timeout=60)
    png = (tmp_path / "zondarr-256.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (256, 256)  # IHDR width, height
    assert (tmp_path / "zondarr.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (tmp_path / "zondarr.icns").read_bytes()[:4] == b"icns"


def test_the_deb_recommends_fonts_with_hangul_cjk_and_emoji_glyphs() -> None:
    fields = dict(
        line.split(": ", 1) for line in deb.control_text("1.0", "amd64", 1).splitlines() if ": " in line
    )
    assert {"fonts-noto-cjk", "fonts-noto-color-emoji"} <= deb.package_names(fields["Recommends"].split(", "))
    assert "fonts-dejavu-core" in fields["Depends"]  # text still draws without them


def test_package_names_drop_versions_and_split_alternatives() -> None:
    assert deb.package_names(["libc6 (>= 2.34)", "a | b (<< 2)", "c"]) == {"libc6", "a", "b", "c"}


@pytest.mark.skipif(not (shutil.which("readelf") and shutil.which("dpkg-query")), reason="Debian tools")
def test_depends_check_names_a_library_the_package_forgets(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy2(Path(shutil.which("true") or "/bin/true").resolve(), bundle / "prog")  # needs libc.so.6
    assert deb.check_depends(bundle, ["libc6 (>= 2.34)"]) == []
    problems = deb.check_depends(bundle, ["libfoo"])
    assert any("libc.so.6" in p and "libc6" in p for p in problems)
    shutil.copy2(bundle / "prog", bundle / "libc.so.6")  # a library the bundle ships needs no Depends
    assert deb.check_depends(bundle, []) == []


def test_version_has_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.read_version() == app.__version__
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])
    assert capsys.readouterr().out.strip() == f"zondarr {app.__version__}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    if "version" in project:  # a static copy is allowed only while it agrees
        assert project["version"] == app.__version__
    else:
        assert "version" in project["dynamic"]
    iss = (PACKAGING / "windows" / "zondarr.iss").read_text(encoding="utf-8")
    assert "{#AppVersion}" in iss and not re.search(r"^\s*App(Version|VerName)\s*=\s*\d", iss, re.M)


def test_desktop_entry_and_metainfo_agree() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / "linux" / "zondarr.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Exec"].split()[0] == "zondarr"
    assert desktop["Icon"] == "zondarr" and desktop["StartupWMClass"] == "zondarr"
    assert desktop["Categories"].endswith(";")
    meta = ET.parse(PACKAGING / "linux" / "io.zondarr.Zondarr.metainfo.xml").getroot()
    assert meta.findtext("id") == "io.zondarr.Zondarr"
    assert meta.findtext("launchable") == "zondarr.desktop"
    release = meta.find("releases/release")
    assert release is not None and release.get("version") == "@VERSION@"  # filled from app.__version__
    assert (ROOT / "resources" / "icons" / "zondarr.svg").exists()
