#!/usr/bin/env bash
# macOS recipe: builds Zondarr.app with the same PyInstaller spec (its BUNDLE step) and packs it into
# dist/Zondarr-<version>.dmg with hdiutil (a compressed UDZO image holding the app and an /Applications link).
#
# Usage (on macOS, from anywhere): bash packaging/macos/build_dmg.sh [--skip-bundle]
#   PYTHON=path/to/venv/python (default .venv/bin/python); --skip-bundle reuses dist/Zondarr.app
#   (python packaging/build.py dmg builds the bundle first and passes it).
# Signing/notarisation: set ZONDARR_CODESIGN_IDENTITY for PyInstaller to sign the app; notarise the .dmg with
# `xcrun notarytool submit dist/Zondarr-<version>.dmg --wait` (needs an Apple developer account). Unsigned,
# Gatekeeper asks the admin to right-click > Open the first time.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = "Darwin" ] || { echo "build_dmg.sh runs on macOS (hdiutil)" >&2; exit 1; }
PYTHON=${PYTHON:-.venv/bin/python}

if [ "${1:-}" != "--skip-bundle" ]; then
  "$PYTHON" packaging/build.py bundle
fi
app=dist/Zondarr.app
[ -d "$app" ] || { echo "$app is missing: run python packaging/build.py bundle" >&2; exit 1; }

# The version the spec wrote into Info.plist (from app/__init__.py).
version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")
dmg="dist/Zondarr-${version}.dmg"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "Zondarr ${version}" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
hdiutil verify "$dmg"

# Smoke check of the packed app: the version from the same single source.
out=$("$app/Contents/MacOS/zondarr" --version)
[ "$out" = "zondarr ${version}" ] || { echo "unexpected --version output: $out" >&2; exit 1; }
echo "dmg: $dmg ($(du -h "$dmg" | cut -f1)); app: $(du -sh "$app" | cut -f1)"
