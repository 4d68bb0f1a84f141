# Shared by scripts/run, scripts/test and scripts/bench: make .venv and install what is missing.
# Installs from the hashed lock files (scripts/lock) and re-installs only when a lock or
# pyproject.toml changed since the last install (a stamp file records their digest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "yibao needs Python 3.11 or newer" >&2; exit 1; }

lock_digest() {  # what of pyproject.toml the lock files are made from: its dependency lists
  "$PYTHON" - <<'PY'
import hashlib, json, tomllib
with open("pyproject.toml", "rb") as f:
    data = tomllib.load(f)
project = data["project"]
made_from = [
    data["build-system"]["requires"],
    project.get("dependencies", []),
    project.get("optional-dependencies", {}),
]
print(hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:16])
PY
}

ensure_venv() {  # $1: "" (the product: requirements.lock) or an extra with its own lock ("test")
  local extras="${1:-}" lock="requirements${1:+-$1}.lock" stamp=".venv/.installed${1:+-$1}"
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
  fi
  local want
  want="$(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing yibao${extras:+ with $extras extras} into .venv from $lock"
    # Every release pinned and checked against its hashes; the build backend comes from the
    # lock too (--no-build-isolation), so nothing is installed that the lock did not name.
    .venv/bin/python -m pip install --quiet --require-hashes -r "$lock"
    if ! grep -qx "# pyproject.toml: $(lock_digest)" "$lock"; then
      # pyproject.toml's dependencies changed since scripts/lock last ran (a merge, a new
      # dependency): under CI that is a failure; here, what is missing is installed unlocked.
      if [ "${CI:-}" = "true" ]; then
        echo "error: $lock is older than pyproject.toml's dependencies: run scripts/lock and commit" >&2
        exit 1
      fi
      echo "warning: $lock is older than pyproject.toml's dependencies: run scripts/lock" >&2
      .venv/bin/python -m pip install --quiet --no-build-isolation -e ".${extras:+[$extras]}"
    else
      .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
    fi
    echo "$want" >"$stamp"
  fi
}

apt_install() {  # install Debian packages that are missing, when we may
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "missing Debian packages: ${missing[*]} (install them as root)" >&2; return 1; }
    sudo="sudo"
  fi
  echo "==> apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
