# Sourced by scripts/serve and scripts/test: a virtual environment with the pinned
# requirements, reinstalled only when the requirement files change.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv ..."
  "$PYTHON" -m venv .venv
fi
STAMP=".venv/.requirements.sha256"
WANT="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "Installing the pinned requirements (first run only) ..."
  # pip's notes about unused local package mirrors are noise; its errors are not.
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
      >.venv/pip-install.log 2>&1; then
    grep -v "^WARNING: Location .* is ignored" .venv/pip-install.log >&2
    echo "Installing the requirements failed (log above)." >&2
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
