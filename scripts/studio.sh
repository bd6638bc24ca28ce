#!/usr/bin/env bash
# Sets up and runs FullSync Studio on the sample project (projects/sample), loaded into the
# embedded engine in ./data the first time (databases, design documents, sample data).
#
# - With a display ($DISPLAY or $WAYLAND_DISPLAY): installs what Tauri needs when missing
#   (webkit2gtk & co, from apt), builds the UI and the desktop app (src-tauri/) and opens its
#   window. The CouchDB-compatible API is served on 127.0.0.1:5984 (or a free port) meanwhile.
# - Without a display (or with FULLSYNC_WEB=1): the web mode. `fullsync serve --studio` serves
#   the same UI and API; it prints the studio's URL (with its access token) to open in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT="${FULLSYNC_PROJECT:-projects/sample}"
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
if ! command -v cc >/dev/null || ! command -v pkg-config >/dev/null; then
  apt_install build-essential pkg-config
fi

# The UI first: `fullsync` and the desktop app embed it at compile time.
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
cargo build --release --locked -p fullsync-cli
BIN=./target/release/fullsync
if [ ! -d ./data ]; then
  "$BIN" project sync "$PROJECT" --data ./data --load-data
fi

if [ -z "${FULLSYNC_WEB:-}" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  if ! pkg-config --exists webkit2gtk-4.1 gtk+-3.0 libsoup-3.0 2>/dev/null; then
    echo "Installing the desktop app's system libraries (webkit2gtk, gtk3, libsoup3...)"
    apt_install libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev \
      libsoup-3.0-dev libxdo-dev libssl-dev pkg-config
  fi
  cargo build --release --locked -p fullsync-studio
  exec ./target/release/fullsync-studio --project "$PROJECT" --data ./data --port "${FULLSYNC_PORT:-5984}"
fi

echo "Web mode (no display, or FULLSYNC_WEB=1): open the Studio URL below in a browser."
exec "$BIN" serve --studio --project "$PROJECT" --data ./data --port "${FULLSYNC_PORT:-5984}"
