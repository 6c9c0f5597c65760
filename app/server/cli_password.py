"""The trap for ``--password`` on the server's commands: a password is never an argument."""

from __future__ import annotations

import argparse


class NoPasswordArgument(argparse.Action):
    """Explain, without echoing the value, and stop (exit 2)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        parser.error(
            "a password is never taken as an argument (it would be kept in the shell history and shown "
            "in the process list): you will be asked for it, or pipe it on standard input"
        )
