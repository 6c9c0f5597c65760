"""``mt5-console sim``: the trade server as a sub-command (also what the packaged app runs in sim mode).

The broker's books default to ``<data dir>/sim``, so the app and the standalone server share them.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.config import Settings


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    from app.mt5.sim.__main__ import add_arguments

    parser = subparsers.add_parser("sim", parents=[common], help="run the simulated MT5 trade server")
    add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from app.mt5.sim.__main__ import run_server

    if args.state_dir is None:
        args.state_dir = settings.data_dir / "sim"
    return run_server(args)
