# Sourced by scripts/serve and scripts/test: a virtual environment with the pinned
# requirements, reinstalled only when the requirement files change.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then
  # The interpreter: $PYTHON if set; else Debian's own python3.11 where it can make a virtual
  # environment (libpython linked into the interpreter, where pyenv's default build loads it as
  # a shared library: migrating from zero took 44 s of CPU against 48 s, three test files 42 s
  # against 47 s, on the same 2-core machine, 2026-11-29); else python3.
  base_python="${PYTHON:-}"
  if [ -z "$base_python" ]; then
    base_python=python3
    if /usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1; then
      base_python=/usr/bin/python3.11
    fi
  fi
  echo "Creating the virtual environment in .venv ($("$base_python" --version)) ..."
  "$base_python" -m venv .venv
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
# Compiled modules are kept in __pycache__/ (ignored by git) even where the environment says
# PYTHONDONTWRITEBYTECODE: the suite starts Django in some sixty subprocesses (manage.py, Celery
# workers), each compiling the portal's modules again without them (1-4 s of CPU less for the
# backup, embedded-default, prepare-database and deployment tests together).
unset PYTHONDONTWRITEBYTECODE
