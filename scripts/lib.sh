# Shared by scripts/run, scripts/test and .ci/run: find Python 3.12+, install what is missing, keep .venv.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
VENV_BIN="$VENV/bin"
case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) VENV_BIN="$VENV/Scripts" ;; esac  # Git Bash on Windows

# Debian packages the app and its tests need: Qt's runtime libraries (offscreen and X11), a real
# Secret Service for the keyring, Xvfb for window tests, and PostgreSQL (the tests start a private
# cluster of their own: tests/support/postgres.py).
APT_PACKAGES=(
  libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libglib2.0-0 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0
  libxcb-xkb1 libxcb-shape0 fonts-dejavu-core
  dbus dbus-daemon gnome-keyring xvfb xauth
  postgresql
)
# The browser tests (tests/browser): Debian's Chromium and its WebDriver; nothing downloads a browser.
BROWSER_PACKAGES=(chromium chromium-driver)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The window tests on a real X display press their keys with xdotool (tests/test_window_keys_xvfb.py).
APT_PACKAGES+=(xdotool)

find_python() {
  local candidate
  for candidate in "${MT5C_PYTHON:-}" python3.13 python3.12 python3 python; do  # each checked: >= 3.12
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv installs that are not the active version (the shim refuses them) are still usable directly.
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.12 or newer is needed (PySide6 6.12 with pyqtgraph crashes on 3.11); set MT5C_PYTHON to one." >&2
  return 1
}

ensure_apt_packages() {
  command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian: the user installs these themselves
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "missing Debian packages (install them as root): ${missing[*]}" >&2; return 1; fi
  fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  local python stamp want
  stamp="$VENV/.installed"
  want=$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
  if [ -x "$VENV_BIN/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  if [ -L "$VENV" ] && [ -x "$VENV_BIN/python" ]; then
    # A .venv shared from another checkout (a git worktree): re-installing would repoint it here.
    say "pyproject.toml differs from what the shared .venv was installed from; not re-installing it"
    return 0
  fi
  python=$(find_python)
  if [ ! -x "$VENV_BIN/python" ]; then
    say "creating .venv with $python"
    "$python" -m venv "$VENV"
  fi
  say "installing the project and its development tools into .venv"
  "$VENV_BIN/python" -m pip install -q --upgrade pip
  "$VENV_BIN/python" -m pip install -q -e "$ROOT[dev]"
  echo "$want" >"$stamp"
}

# Run a command in a private D-Bus session with a fresh, unlocked gnome-keyring (its files in a
# temporary directory): the keyring tests use a real Secret Service, never the developer's own keyring.
with_test_keyring() {
  local keyring_home
  keyring_home=$(mktemp -d)
  dbus-run-session -- sh -c '
    keyring_home=$1; shift
    echo -n "test-keyring-password" | XDG_DATA_HOME="$keyring_home" \
      gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
    export MT5_CONSOLE_TEST_KEYRING=private
    "$@"' sh "$keyring_home" "$@"
  local rc=$?
  rm -rf "$keyring_home"
  return $rc
}

# The web dashboard (web/ -> app/server/static/, served at / by the embedded server). Node and npm run
# only here, at build time, from web/package-lock.json (`npm ci`); the app never runs Node.
WEB="$ROOT/web"
STATIC="$ROOT/app/server/static"

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    ensure_apt_packages nodejs npm
  fi
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' || {
    echo "Node 18 or newer is needed to build the web dashboard (found $(node --version))" >&2; return 1; }
}

web_sources_digest() {
  (cd "$ROOT" && find web/src web/build.mjs web/package-lock.json resources/icon.svg -type f -print0 | sort -z \
    | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# Build the dashboard when its sources or its lockfile changed since the last build.
ensure_web() {
  local want lock_want
  want=$(web_sources_digest)
  if [ -f "$STATIC/.built" ] && [ "$(cat "$STATIC/.built")" = "$want" ] && [ -f "$STATIC/index.html" ]; then return 0; fi
  ensure_node
  lock_want=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$WEB/node_modules/.lock-sha256" ] || [ "$(cat "$WEB/node_modules/.lock-sha256")" != "$lock_want" ]; then
    say "npm ci (web/package-lock.json)"
    (cd "$WEB" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$lock_want" >"$WEB/node_modules/.lock-sha256"
  fi
  say "building the web dashboard (web/ -> app/server/static/)"
  (cd "$WEB" && node build.mjs "$STATIC")
  echo "$want" >"$STATIC/.built"
}
