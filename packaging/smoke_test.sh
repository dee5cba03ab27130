#!/usr/bin/env bash
# Installer smoke test (issue 6): builds the Linux bundle and .deb, installs the .deb, runs the INSTALLED
# `zondarr --version`, a headless demo sync into a scratch cache and `zondarr --self-test` offscreen on it,
# then uninstalls and checks nothing is left. Prints the bundle size, the .deb size and the build time.
#
# Usage: bash packaging/smoke_test.sh      (PYTHON=path/to/venv/python to use another interpreter)
# As root it installs into the machine with dpkg -i (apt-get installs the package's Depends first when missing);
# otherwise it unpacks with dpkg -x into a scratch root (the Depends must then be installed already).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || { echo "smoke: $PYTHON not found (create the venv first: bash .ci/run does)" >&2; exit 1; }

scratch=$(mktemp -d)
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then dpkg -r zondarr >/dev/null 2>&1 || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

# --- build tools and the package's own Depends ---------------------------------------------------------
depends=$("$PYTHON" -c 'import sys; sys.path.insert(0, "packaging"); import deb
print(" ".join(d.split("|")[0].split("(")[0].strip() for d in deb.DEPENDS))')
missing=()
for pkg in binutils $depends; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$is_root" -eq 1 ] || fail "missing system packages (install them as root): ${missing[*]}"
  echo "== smoke: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build ---------------------------------------------------------------------------------------------
echo "== smoke: build bundle + .deb"
build_start=$(date +%s)
"$PYTHON" packaging/build.py deb
build_s=$(( $(date +%s) - build_start ))
version=$("$PYTHON" -c 'import sys; sys.path.insert(0, "packaging"); import build; print(build.read_version())')
deb_file="dist/zondarr_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb_file" ] || fail "$deb_file was not built"

# --- install -------------------------------------------------------------------------------------------
if [ "$is_root" -eq 1 ]; then
  if dpkg-query -W -f='${Status}' zondarr 2>/dev/null | grep -q "install ok installed"; then
    echo "== smoke: removing a previously installed zondarr"
    dpkg -r zondarr >/dev/null
  fi
  echo "== smoke: dpkg -i $deb_file"
  dpkg -i "$deb_file" >/dev/null
  installed=1
  zondarr=/usr/bin/zondarr
  [ -L /usr/bin/zondarr ] || fail "/usr/bin/zondarr is not installed"
  prefix=""
else
  echo "== smoke: not root: dpkg -x into a scratch root"
  dpkg -x "$deb_file" "$scratch/root"
  zondarr="$scratch/root/opt/zondarr/zondarr"
  prefix="$scratch/root"
fi
for f in /opt/zondarr/zondarr /opt/zondarr/_internal/resources/icons/zondarr.svg \
         /usr/share/applications/zondarr.desktop /usr/share/icons/hicolor/scalable/apps/zondarr.svg \
         /usr/share/icons/hicolor/256x256/apps/zondarr.png /usr/share/metainfo/io.zondarr.Zondarr.metainfo.xml; do
  [ -e "$prefix$f" ] || fail "$f is missing from the installed package"
done
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net "$prefix/usr/share/metainfo/io.zondarr.Zondarr.metainfo.xml" >/dev/null \
    || fail "appstreamcli validate"
  echo "== smoke: metainfo valid (appstreamcli)"
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$prefix/usr/share/applications/zondarr.desktop" || fail "desktop-file-validate"
  echo "== smoke: .desktop valid (desktop-file-validate)"
fi

# --- run the installed copy ----------------------------------------------------------------------------
# Its window settings, keychain fallback and logs go to the scratch folder, never the profile of whoever runs this.
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/share" XDG_CACHE_HOME="$scratch/cache"
export XDG_STATE_HOME="$scratch/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
out=$("$zondarr" --version) || fail "zondarr --version exited $?"
[ "$out" = "zondarr $version" ] || fail "zondarr --version printed '$out', expected 'zondarr $version'"
echo "== smoke: $out"

data="$scratch/data"
"$zondarr" --data-dir "$data" demo --tracks 500 >"$scratch/demo.log" 2>&1 \
  || { cat "$scratch/demo.log" >&2; fail "zondarr demo --tracks 500 exited non-zero"; }
echo "== smoke: demo cache synced"

set +e
QT_QPA_PLATFORM=offscreen timeout 120 "$zondarr" --data-dir "$data" --self-test >"$scratch/self-test.out" \
  2>"$scratch/self-test.err"
status=$?
set -e
[ "$status" -eq 0 ] || { cat "$scratch/self-test.err" >&2; fail "zondarr --self-test exited $status"; }
line=$(grep '^{' "$scratch/self-test.out" | tail -n 1)
"$PYTHON" - "$line" <<'EOF' || fail "self-test JSON line: '$line'"
import json, sys
d = json.loads(sys.argv[1])
assert {"startup_ms", "tracks", "rss_mb"} <= d.keys(), d
assert d["tracks"] >= 500, f"expected the demo's tracks, got {d['tracks']}"
print(f"== smoke: self-test {d}")
EOF

# --- uninstall -----------------------------------------------------------------------------------------
if [ "$is_root" -eq 1 ]; then
  dpkg -r zondarr >/dev/null
  installed=0
  [ ! -e /opt/zondarr ] || fail "/opt/zondarr is left after dpkg -r"
  [ ! -e /usr/bin/zondarr ] && [ ! -L /usr/bin/zondarr ] || fail "/usr/bin/zondarr is left after dpkg -r"
  [ ! -e /usr/share/applications/zondarr.desktop ] || fail "the .desktop file is left after dpkg -r"
  echo "== smoke: dpkg -r left nothing behind"
fi

echo "== smoke: sizes and times"
echo "bundle (dist/zondarr, du -sh): $(du -sh dist/zondarr | cut -f1)"
echo ".deb ($deb_file): $(du -h --apparent-size "$deb_file" | cut -f1)"
echo "build time (bundle + .deb): ${build_s} s; smoke test total: $(( $(date +%s) - started )) s"
echo "smoke: OK"
