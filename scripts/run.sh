#!/usr/bin/env bash
# The quick start: installs what is missing, builds enrolld, creates a demo CA and database in
# ./var on the first run, and starts enrolld in the foreground (Ctrl-C stops it).
# Usage: scripts/run.sh [enrolld serve options, e.g. --listen-est 127.0.0.1:8443]
# ENROLLD_DIR picks another data folder than ./var.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --runtime
cmake -S . -B build-run -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENROLL_BUILD_TESTS=OFF \
  -DENROLL_BUILD_DEVICE_CLIENT=OFF > /dev/null
cmake --build build-run --target enrolld enrollctl -j"$(nproc)"
dir=${ENROLLD_DIR:-var}
if [ ! -f "$dir/enrolld.json" ]; then
  build-run/server/app/enrolld init "$dir" --demo
fi
echo "Operators (admin API, from this host): build-run/server/enrollctl/enrollctl --dir $dir whoami"
echo "  e.g. ... --dir $dir registry list, tokens create --count 10, revoke --batch B --dry-run"
exec build-run/server/app/enrolld serve "$dir" "$@"
