#!/usr/bin/env bash
# Install Google Research Football (gfootball) for the `football/*` tasks.
#
# gfootball ships as a source distribution whose C++ engine takes ~11 minutes to
# compile, so the built wheel is cached and reused: a second run (or CI with the
# cache directory restored) only installs the wheel. Steps:
#   1. Debian libraries the engine links against (apt-get, needs root; skipped when present).
#   2. Python deps: gym==0.25.2 and six (gfootball still uses the old gym API), psutil
#      (its build script reads the machine's memory), setuptools/wheel.
#   3. gfootball itself: nothing to do if it already imports, else the cached wheel,
#      else build the wheel from the PyPI sdist into the cache and install it.
#
# Environment:
#   MARLSUITE_WHEEL_CACHE  wheel cache directory (default ~/.cache/marlsuite/wheels)
#   GFOOTBALL_VERSION      sdist version to build (default 2.10.2)
#   FOOTBALL_FORCE_BUILD=1 rebuild even if a wheel is cached or gfootball imports
#   PYTHON                 the interpreter to install into (default: python)
#
# The cached wheel links the distribution's SDL2/Boost libraries: reuse the cache only
# on the same distribution and Python minor version (the file name carries the latter).
set -euo pipefail

PYTHON="${PYTHON:-python}"
CACHE="${MARLSUITE_WHEEL_CACHE:-$HOME/.cache/marlsuite/wheels}"
VERSION="${GFOOTBALL_VERSION:-2.10.2}"
FORCE="${FOOTBALL_FORCE_BUILD:-0}"

APT_PACKAGES=(
  build-essential cmake libgl1-mesa-dev libsdl2-dev libsdl2-image-dev libsdl2-ttf-dev
  libsdl2-gfx-dev libboost-thread-dev libboost-system-dev libboost-filesystem-dev
  libboost-python-dev libdirectfb-dev mesa-utils xvfb
)

log() { echo "[install_football] $*"; }

engine_imports() {
  # The engine is a compiled module: importing gfootball alone does not prove it was built.
  "$PYTHON" -c "import gfootball.env, gfootball_engine; gfootball_engine.GameEnv" >/dev/null 2>&1
}

install_apt_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "Debian packages already installed"
    return
  fi
  if ! command -v apt-get >/dev/null; then
    log "error: missing ${missing[*]} and no apt-get; install the equivalents for your system" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -yq --no-install-recommends "${missing[@]}"
}

python_tag() {
  "$PYTHON" -c "import sys; print(f'cp{sys.version_info.major}{sys.version_info.minor}')"
}

check_boost_python() {
  # The engine links Boost.Python built for one Python minor version (Debian 12: 3.11).
  local tag lib
  tag="$("$PYTHON" -c 'import sys; print(f"{sys.version_info.major}{sys.version_info.minor}")')"
  lib="$(ldconfig -p 2>/dev/null | grep -o "libboost_python${tag}\.so[^ ]*" | head -n 1 || true)"
  if [ -z "$lib" ]; then
    log "error: no Boost.Python for Python ${tag:0:1}.${tag:1} (libboost_python${tag}.so); use the Python" \
      "version of your distribution's libboost-python-dev (Debian 12: 3.11)" >&2
    exit 1
  fi
}

cached_wheel() {
  local tag
  tag="$(python_tag)"
  compgen -G "$CACHE/gfootball-$VERSION-$tag-*.whl" | head -n 1 || true
}

main() {
  if [ "$FORCE" != "1" ] && engine_imports; then
    log "gfootball is already installed: $("$PYTHON" -c 'import importlib.metadata as m; print(m.version("gfootball"))')"
    return
  fi
  install_apt_packages
  check_boost_python
  "$PYTHON" -m pip install "gym==0.25.2" six psutil setuptools wheel

  local wheel
  wheel="$(cached_wheel)"
  if [ "$FORCE" = "1" ] || [ -z "$wheel" ]; then
    mkdir -p "$CACHE"
    log "building gfootball $VERSION from source into $CACHE (about 11 minutes)"
    local start=$SECONDS
    # No build isolation, and this interpreter first on PATH: the engine's build script
    # runs `python3 -c 'import psutil'`.
    PATH="$(dirname "$(command -v "$PYTHON")"):$PATH" \
      "$PYTHON" -m pip wheel --no-deps --no-build-isolation --no-binary gfootball \
      -w "$CACHE" "gfootball==$VERSION"
    log "built in $((SECONDS - start)) s"
    wheel="$(cached_wheel)"
  else
    log "reusing cached wheel $wheel"
  fi
  "$PYTHON" -m pip install --force-reinstall --no-deps "$wheel"
  # The remaining runtime deps (pygame, opencv, absl-py, ...) without touching installed ones.
  "$PYTHON" -m pip install "$wheel"
  engine_imports || { log "error: gfootball installed but its engine does not import" >&2; exit 1; }
  log "gfootball $VERSION ready"
}

main "$@"
