"""Entry point: parse the command line once, load settings, set up logging, pick the mode.

Modes: the window (default), ``--serve`` (headless: no Qt widget module is imported), or a
sub-command (each lives in its own module and registers itself through :data:`SUBCOMMANDS`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from app import __version__
from app.config import APP_NAME, Settings, SettingsError, load_settings
from app.datadir import make_private_dir, permission_warnings, restrict_umask

# Modules that each provide ``register(subparsers, common)``; the parser they add sets ``run``,
# a callable ``(args, settings) -> int``.
SUBCOMMANDS: tuple[str, ...] = ("app.core.accounts_cli", "app.audit.cli", "app.mt5.sim.cli", "app.server.cli")

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2) instead of the whole usage text."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def _common_options(defaults_suppressed: bool) -> argparse.ArgumentParser:
    """Options every command accepts; sub-commands suppress defaults so they don't mask the top level."""
    default: Any = argparse.SUPPRESS if defaults_suppressed else None
    common = OneLineParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="FILE", default=default, help="TOML settings file")
    common.add_argument("--data-dir", type=Path, metavar="DIR", default=default, help="data directory")
    common.add_argument(
        "--log-level",
        metavar="LEVEL",
        default=default,
        help="DEBUG, INFO, WARNING, ERROR or CRITICAL",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=APP_NAME,
        description="MT5 Trading Console: a trading console for MetaTrader 5 (simulator where none exists).",
        parents=[_common_options(defaults_suppressed=False)],
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--serve", action="store_true", help="run headless: terminals, carousel, server")
    parser.add_argument("--sim", action="store_true", default=None, help="use the simulated terminal")
    parser.add_argument(
        "--terminal",
        action="append",
        metavar="PATH",
        dest="terminals",
        help="path of a terminal64.exe to add to the pool (repeatable)",
    )
    parser.add_argument("--host", default=None, help="server bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="server port")
    parser.set_defaults(run=None)
    if SUBCOMMANDS:
        subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
        common = _common_options(defaults_suppressed=True)
        for module_name in SUBCOMMANDS:
            importlib.import_module(module_name).register(subparsers, common)
    return parser


def settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that were given, shaped like :class:`Settings` (flags beat every other source)."""
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.log_level is not None:
        overrides["logging"] = {"level": args.log_level}
    terminals: dict[str, Any] = {}
    if getattr(args, "sim", None):
        terminals["sim"] = True
    if getattr(args, "terminals", None):
        terminals["paths"] = args.terminals
    if terminals:
        overrides["terminals"] = terminals
    server = {key: getattr(args, key, None) for key in ("host", "port")}
    server = {key: value for key, value in server.items() if value is not None}
    if getattr(args, "serve", False):
        server["enabled"] = True
    if server:
        overrides["server"] = server
    return overrides


def _prepare(args: argparse.Namespace) -> Settings:
    settings = load_settings(settings_overrides(args), config_file=args.config)
    try:
        make_private_dir(settings.data_dir)
    except OSError as exc:
        raise SettingsError(f"invalid setting data_dir={str(settings.data_dir)!r}: {exc.strerror}") from None
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    restrict_umask()  # the data dir and everything in it: private to the user (app/datadir.py)
    args = build_parser().parse_args(argv)
    try:
        settings = _prepare(args)
    except SettingsError as exc:
        sys.stderr.write(f"{APP_NAME}: {exc}\n")
        return EXIT_USAGE

    from app.logs import setup_logging

    # A sub-command's console shows warnings and errors only (its own output is what the user reads);
    # --log-level still makes it say more. The log file keeps the configured level.
    quiet = args.run is not None and args.log_level is None
    log_bus = setup_logging(settings.logging, settings.data_dir, console_level="WARNING" if quiet else None)
    if args.run is not None:
        return int(args.run(args, settings))
    for warning in permission_warnings(settings.data_dir):  # at the app's start (not each sub-command)
        logging.getLogger("app").warning("%s", warning)
    if args.serve:
        from app.headless import run_headless

        return run_headless(settings, log_bus)
    from app.ui.launch import run_window

    return run_window(settings, log_bus, config_file=args.config)
