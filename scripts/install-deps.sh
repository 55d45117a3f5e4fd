#!/usr/bin/env bash
# Installs every Debian package Verity needs (build, tests, trainer, Python module, benchmarks).
# Skips apt entirely when all of them are already installed.
set -euo pipefail
packages=(
  build-essential cmake pkg-config ccache ninja-build
  libtorch-dev libopenblas0-pthread libgloo-dev
  libz3-dev libboost-graph-dev libsqlite3-dev sqlite3
  libprotobuf-dev protobuf-compiler libtbb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev pybind11-dev libcpp-httplib-dev
  python3 python3-dev python3-pytest python3-venv python3-pip python3-setuptools python3-wheel
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
