#!/usr/bin/env bash
# Installs the system packages the build and the tests need, when missing (Debian, apt):
# - a C toolchain for crates that build C (QuickJS, ring, libgit2) and python3 + make + g++
#   for node-gyp (pouchdb-server's sqlite3 compiles from source);
# - webkit2gtk, gtk3, libsoup3 & co for the desktop app (Tauri, src-tauri/);
# - Xvfb, WebKitWebDriver and ImageMagick for the desktop window's smoke test;
# - Debian's Chromium for the studio's end-to-end tests (playwright-core drives it; no browser
#   download).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
need=()
command -v cc >/dev/null && command -v c++ >/dev/null && command -v make >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v python3 >/dev/null || need+=(python3)
pkg-config --exists webkit2gtk-4.1 2>/dev/null || need+=(libwebkit2gtk-4.1-dev)
pkg-config --exists gtk+-3.0 2>/dev/null || need+=(libgtk-3-dev)
pkg-config --exists libsoup-3.0 2>/dev/null || need+=(libsoup-3.0-dev)
pkg-config --exists ayatana-appindicator3-0.1 2>/dev/null || need+=(libayatana-appindicator3-dev)
pkg-config --exists librsvg-2.0 2>/dev/null || need+=(librsvg2-dev)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
[ -e /usr/include/xdo.h ] || need+=(libxdo-dev)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v WebKitWebDriver >/dev/null || need+=(webkit2gtk-driver)
command -v import >/dev/null && command -v identify >/dev/null || need+=(imagemagick)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
