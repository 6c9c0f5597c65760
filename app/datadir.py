"""The data dir is private: directories 0700, files 0600 (POSIX), whatever the user's umask.

It holds the database (accounts, balances, deals), the audit trail, the logs and the admin password's
hash: nothing another local user should read. The process's umask is narrowed to 077 at start
(:func:`restrict_umask`), so everything the app and its child processes (terminal workers, the sim
trade server) create is private, SQLite's WAL and shared-memory files included; the writers of the
audit trail, the logs and the lock files also ask for 0600 themselves. A data dir that exists with
wider permissions is left as the user made it, with a warning at start saying how to close it
(:func:`permission_warnings`). Windows keeps a user's profile folders private already; nothing is
changed there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
POSIX = os.name == "posix"


def restrict_umask() -> None:
    """Make everything this process (and its children) creates private to the user."""
    if POSIX:
        os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700; an existing one is left as it is."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` for a file that must be private: created 0600."""
    return os.open(path, flags, PRIVATE_FILE)


def permission_warnings(data_dir: Path) -> list[str]:
    """One line for the data dir, and each directory in it, that others may enter or read."""
    if not POSIX or not data_dir.is_dir():
        return []
    found: list[str] = []
    for directory in [data_dir, *sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.is_symlink())]:
        try:
            mode = stat.S_IMODE(directory.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            found.append(
                f"{directory} can be read by other users of this machine (mode {mode:04o}): it holds "
                f"account data, the audit trail and logs — close it with: chmod 700 {directory}"
            )
    return found
