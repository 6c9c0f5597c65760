"""A node as its own machine would run it, for the multi-process tests: inside a private D-Bus
session with a keyring of its own (gnome-keyring, started by the caller's ``sh``), first the
operator's ``mt5-console accounts set-password ID`` for each account this node should serve (the
passwords arrive as JSON on standard input, ``{"ID": "password"}``), then ``mt5-console node``
in this same process (``exec``), so the node's pid is this one's.

    dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock ...; exec python -m
        tests.distributed.node_session -- --config C --data-dir D node --name n1 ...'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    if "--" not in argv:
        sys.stderr.write("usage: node_session -- <mt5-console arguments>\n")
        return 2
    app_args = argv[argv.index("--") + 1 :]
    common = app_args[: app_args.index("node")]  # --config/--data-dir before the sub-command
    passwords: dict[str, str] = json.loads(sys.stdin.read() or "{}")
    for account_id, password in passwords.items():
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "app", *common, "accounts", "set-password", account_id],
            input=password + "\n",
            text=True,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            sys.stderr.write(f"set-password {account_id} failed: {done.stderr.strip()}\n")
            return 1
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "app", *app_args])  # noqa: S606 - the node itself
    return 1  # unreachable


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
