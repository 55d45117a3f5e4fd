#!/usr/bin/env bash
# The test command: set up on a fresh Debian 12 machine, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build && ctest --output-on-failure --parallel "$(nproc)"
