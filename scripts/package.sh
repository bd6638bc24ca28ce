#!/usr/bin/env bash
# Builds FullSync Studio's Debian package (.deb): the desktop app (`fullsync-studio`, with its
# icon and desktop entry) and the `fullsync` command-line tool beside it (/usr/bin/fullsync, with
# bash, zsh and fish completions). Prints the package's path on standard output (the build's
# messages go to standard error).
#
#   ./scripts/package.sh            # release build: target/release/bundle/deb/*.deb
#   ./scripts/package.sh --debug    # reuses the debug build (what CI tests): target/debug/bundle/deb/*.deb
#
# Needs what scripts/system-deps.sh installs, Rust and Node 20. Nothing is downloaded but crates
# and npm packages: the .deb bundler is part of the Tauri CLI (ui/node_modules/.bin/tauri).
# AppImage, macOS (.app, .dmg) and Windows (NSIS, MSI) bundles are configured in
# src-tauri/tauri.conf.json but need tools the Tauri CLI downloads (or the other OS): build them
# on a machine with internet access with `ui/node_modules/.bin/tauri build --bundles ...` (README,
# "Install it like an app").
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
cargo_profile=(--release)
tauri_profile=()
case "${1:-}" in
  --debug) profile=debug; cargo_profile=(); tauri_profile=(--debug) ;;
  "" | --release) ;;
  *) echo "usage: $0 [--debug|--release]" >&2; exit 2 ;;
esac
target_dir="${CARGO_TARGET_DIR:-target}"

# The UI first: both binaries embed it at compile time.
if [ ! -x ui/node_modules/.bin/tauri ] || [ ! -f ui/dist/index.html ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build) >&2
fi
cargo build --locked "${cargo_profile[@]}" -p fullsync-cli -p fullsync-studio >&2

# What tauri.conf.json's bundle.linux.deb.files takes from target/package/.
stage=target/package
rm -rf "$stage"
mkdir -p "$stage/completions"
cp "$target_dir/$profile/fullsync" "$stage/fullsync"
"$stage/fullsync" completions bash >"$stage/completions/fullsync.bash"
"$stage/fullsync" completions zsh >"$stage/completions/_fullsync"
"$stage/fullsync" completions fish >"$stage/completions/fullsync.fish"

# Bundles the binary cargo just built (no second compilation).
rm -rf "$target_dir/$profile/bundle/deb"
ui/node_modules/.bin/tauri bundle "${tauri_profile[@]}" --bundles deb --ci >&2
deb=$(ls "$target_dir/$profile"/bundle/deb/*.deb)
echo "$PWD/$deb"
