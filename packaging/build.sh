#!/usr/bin/env bash
# Build the one-folder app into dist/transfer-studio/ (run from anywhere).
# Uses the project's virtual environment when there is one, else the python on PATH.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "Installing PyInstaller into $("$PYTHON" -c 'import sys; print(sys.prefix)')…"
    "$PYTHON" -m pip install --quiet "pyinstaller>=6.10"
fi
# Analysis imports packages to inspect them; any that starts Qt must not look for a display.
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
"$PYTHON" -m PyInstaller packaging/transfer-studio.spec --noconfirm --clean \
    --distpath dist --workpath build/pyinstaller --log-level "${PYI_LOG_LEVEL:-WARN}"
echo "Built: $REPO/dist/transfer-studio/transfer-studio"
