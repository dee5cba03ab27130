"""Renders resources/icons/zondarr.svg into the icon files the installers need (build time only).

``python packaging/icons.py OUT_DIR`` writes ``zondarr-<N>.png`` (N = 16 … 1024), ``zondarr.ico`` (Windows) and
``zondarr.icns`` (macOS). Rendering uses QtSvg from the build venv on the offscreen platform, so it works on a
headless machine. ICO and ICNS both allow embedded PNG images, so they are written with the stdlib alone.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "zondarr.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (Apple's "ic07".."ic10" family).
ICNS_TYPES = {128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10", 32: b"ic11", 64: b"ic12"}


def render_pngs(svg: Path, sizes: tuple[int, ...]) -> dict[int, bytes]:
    """PNG bytes of ``svg`` at each square size. Needs PySide6 (QtSvg); runs on the offscreen platform."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot render {svg}")
    out: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buf, "PNG")  # type: ignore[call-overload]  # the stub says bytes; the binding wants str
        buf.close()
        out[size] = bytes(data.data())
    return out


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose images are the given PNGs (Windows Vista and later read PNG entries)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file with PNG elements (macOS 10.7+)."""
    body = b""
    for size, kind in sorted(ICNS_TYPES.items()):
        if size in pngs:
            body += kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_icons(out_dir: Path, svg: Path = SVG) -> list[Path]:
    """Writes every icon file into ``out_dir`` and returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = render_pngs(svg, PNG_SIZES)
    written = []
    for size, data in pngs.items():
        path = out_dir / f"zondarr-{size}.png"
        path.write_bytes(data)
        written.append(path)
    for name, data in (
        ("zondarr.ico", ico_bytes({s: pngs[s] for s in ICO_SIZES})),
        ("zondarr.icns", icns_bytes(pngs)),
    ):
        (out_dir / name).write_bytes(data)
        written.append(out_dir / name)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons"
    for p in write_icons(target):
        print(p)
