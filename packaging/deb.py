"""Builds the Linux ``.deb`` from the one-folder bundle (build time only; Debian/Ubuntu build machine).

Layout: the bundle in ``/opt/zondarr``, ``/usr/bin/zondarr`` a symlink to it, the ``.desktop`` entry, hicolor icons
(SVG + PNGs) and AppStream metainfo. No maintainer scripts: dpkg triggers of ``hicolor-icon-theme`` and
``desktop-file-utils`` refresh the icon cache and the desktop database when those packages are installed.

Before packing, every shared library the bundle's ELF files need and do not ship is mapped to its Debian
package (``dpkg -S``) and checked against ``DEPENDS``: a library the package forgets to declare fails the build.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINUX = HERE / "linux"

# System libraries the bundle links against (the desktop stack is not bundled: see zondarr.spec). The list
# follows PLATFORM-NOTES.md and is checked against the bundle by check_depends() on every build.
DEPENDS = [
    "libc6 (>= 2.34)",
    "libgcc-s1",
    "libstdc++6",
    "libglib2.0-0",
    "libdbus-1-3",
    "libgssapi-krb5-2",
    "libzstd1",
    "libbrotli1",
    "libfontconfig1",
    "libfreetype6",
    "libgl1",
    "libegl1",
    "libx11-6",
    "libx11-xcb1",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-glx0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-util1",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libwayland-client0",
    "libwayland-cursor0",
    "libwayland-egl1",
    "fonts-dejavu-core | fonts-noto-core | fonts-liberation2",  # Qt draws no text without a font
]
# Fonts with the glyphs DejaVu lacks: Korean, Chinese and Japanese titles and emoji (else they draw as boxes).
RECOMMENDS = ["fonts-noto-cjk", "fonts-noto-color-emoji"]
# Libraries that may not be installed on the build machine, so dpkg -S cannot name their package there.
KNOWN_SONAMES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libwayland-client.so.0": "libwayland-client0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
}
MAINTAINER = "Zondarr developers <zondarr@users.noreply.github.com>"
DESCRIPTION = """\
Desktop admin app for Plex and Jellyfin servers
 Zondarr keeps a local cache of every Plex and Jellyfin server's music
 library and users, opens instantly on it and refreshes it in the
 background. Browse, filter, search and export every track of every
 server in one table; see every account on every server.
 .
 Zondarr only makes outbound connections: it opens no port."""


def control_text(version: str, arch: str, installed_kib: int) -> str:
    """The package's DEBIAN/control file."""
    control = {
        "Package": "zondarr",
        "Version": version,
        "Architecture": arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(DEPENDS),
        "Recommends": ", ".join(RECOMMENDS),
        "Section": "net",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }
    return "".join(f"{k}: {v}\n" for k, v in control.items())


def package_names(depends: list[str]) -> set[str]:
    """Every package name in a Depends list, alternatives included, versions dropped."""
    return {alt.split("(")[0].strip() for dep in depends for alt in dep.split("|")}


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_sonames(bundle: Path) -> set[str]:
    """DT_NEEDED entries of every ELF file in the bundle that the bundle does not ship itself."""
    shipped = {p.name for p in bundle.rglob("*") if p.is_file() or p.is_symlink()}
    needed: set[str] = set()
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink() and is_elf(path):
            out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
            needed.update(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    return needed - shipped


def soname_packages(sonames: set[str]) -> tuple[dict[str, str], set[str]]:
    """Maps sonames to the installed packages owning them (``dpkg -S``); returns (found, not_found)."""
    if not sonames:
        return {}, set()
    out = subprocess.run(
        ["dpkg-query", "-S", *(f"*/{s}" for s in sorted(sonames))], capture_output=True, text=True
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        name = os.path.basename(path.strip())
        if name in sonames:
            found[name] = pkgs.split(",")[0].split(":")[0].strip()
    return found, sonames - set(found)


def check_depends(bundle: Path, depends: list[str] = DEPENDS) -> list[str]:
    """Problems (empty when fine): libraries the bundle needs whose package ``depends`` does not declare."""
    declared = package_names(depends)
    found, missing = soname_packages(needed_sonames(bundle))
    problems = [
        f"{so} comes from {pkg}, which Depends lacks" for so, pkg in found.items() if pkg not in declared
    ]
    for so in sorted(missing):
        pkg = KNOWN_SONAMES.get(so)
        if pkg is None or pkg not in declared:
            problems.append(f"{so} is needed, not installed here, and not mapped to a declared package")
    return problems


def _normalise_modes(root: Path) -> None:
    """0755 for directories and executables, 0644 for the rest (dpkg-deb rejects odd DEBIAN modes)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or bool(mode & stat.S_IXUSR)
        path.chmod(0o755 if executable else 0o644)


def _installed_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir() and "DEBIAN" not in p.parts)
    return (total + 1023) // 1024


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def build_deb(bundle: Path, icons: Path, svg: Path, out_dir: Path, version: str, work: Path) -> Path:
    """Stages the package tree in ``work`` and packs ``out_dir/zondarr_<version>_<arch>.deb``. Returns its path.

    Raises SystemExit when the Depends check fails or dpkg-deb refuses the tree."""
    problems = check_depends(bundle)
    if problems:
        raise SystemExit("Depends check failed:\n  " + "\n  ".join(problems))
    arch = architecture()
    root = work / f"zondarr_{version}_{arch}"
    if root.exists():
        shutil.rmtree(root)
    opt = root / "opt" / "zondarr"
    shutil.copytree(bundle, opt, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "zondarr").symlink_to("/opt/zondarr/zondarr")
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(LINUX / "zondarr.desktop", share / "applications" / "zondarr.desktop")
    hicolor = share / "icons" / "hicolor"
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(svg, hicolor / "scalable" / "apps" / "zondarr.svg")
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = icons / f"zondarr-{size}.png"
        if png.exists():
            (hicolor / f"{size}x{size}" / "apps").mkdir(parents=True)
            shutil.copy2(png, hicolor / f"{size}x{size}" / "apps" / "zondarr.png")
    (share / "metainfo").mkdir(parents=True)
    metainfo = (LINUX / "io.zondarr.Zondarr.metainfo.xml").read_text(encoding="utf-8")
    today = _dt.date.today().isoformat()
    metainfo = metainfo.replace("@VERSION@", version).replace("@DATE@", today)
    (share / "metainfo" / "io.zondarr.Zondarr.metainfo.xml").write_text(metainfo, encoding="utf-8")

    debian = root / "DEBIAN"
    debian.mkdir()
    _normalise_modes(root)
    (debian / "control").write_text(control_text(version, arch, _installed_size_kib(root)), encoding="utf-8")
    (debian / "control").chmod(0o644)

    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"zondarr_{version}_{arch}.deb"
    # gzip -6: within 0.5 % of the default -9 for this tree, and 4x faster to pack.
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(root), str(deb)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return deb
