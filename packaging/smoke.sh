#!/usr/bin/env bash
# Build the one-folder app, then start the built program headless with --self-test.
# Slow (a TensorFlow build takes minutes) and not part of the test suite.
#   bash packaging/smoke.sh            build, then test
#   SKIP_BUILD=1 bash packaging/smoke.sh   test the existing dist/ only
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
if [[ -z "${SKIP_BUILD:-}" ]]; then
    bash packaging/build.sh
fi
APP="$REPO/dist/transfer-studio/transfer-studio"
[[ -x "$APP" ]] || { echo "No built program at $APP" >&2; exit 1; }
du -sh "$REPO/dist/transfer-studio"

DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT
# A private data folder (the demo dataset is drawn there) and no display needed.
# --self-test keeps its settings in a temporary folder itself; XDG_CONFIG_HOME is a second
# guard, so a smoke test on someone's machine never touches their configuration.
# Run from another folder, so nothing can be found relative to the checkout by accident.
# The self-test starts the engine process and a training process (one short epoch): both are
# the built program started again by multiprocessing (spawn), which freeze_support in
# desktop_app/__main__.py turns into the child; it fails unless both answer.
cd "$DATA"
QT_QPA_PLATFORM=offscreen TRANSFER_STUDIO_DATA_DIR="$DATA/user-data" XDG_CONFIG_HOME="$DATA/config" \
    timeout 600 "$APP" --self-test | tee "$DATA/self-test.txt"
grep -q "^Training process [0-9]*: " "$DATA/self-test.txt" || { echo "No training process ran" >&2; exit 1; }
"$APP" --version
echo "smoke test passed"
