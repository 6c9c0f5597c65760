"""``python -m app.mt5.sim``: run the simulated trade server standalone until SIGTERM or Ctrl+C.

Prints ``sim trade server listening on HOST:PORT`` once it accepts terminals (``--port 0`` picks a
free port), then logs to stderr. Exit code 0 on a clean stop; 3 when ``--state-dir`` is in use by
another trade server (see :mod:`app.mt5.sim.claim`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from app.mt5.sim.address import DEFAULT_HOST, DEFAULT_PORT
from app.mt5.sim.claim import StateDirClaim, running_server
from app.mt5.sim.clock import Clock, ManualClock, RealClock, ScaledClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.process import CANNOT_LISTEN_PREFIX, EXIT_STATE_DIR_IN_USE, IN_USE_PREFIX, READY_PREFIX
from app.mt5.sim.server import DEFAULT_SEED, TradeServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="bind address (default: loopback)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="price and demo-data seed")
    parser.add_argument("--state-dir", type=Path, default=None, help="keep the broker's books here")
    parser.add_argument("--start", default=None, help="start the clock at this ISO time (UTC) instead of now")
    parser.add_argument("--speed", type=float, default=1.0, help="clock speed factor (with --start)")
    parser.add_argument(
        "--manual-clock", action="store_true", help="time moves only through SimAdmin.advance"
    )
    parser.add_argument(
        "--storm", type=float, default=0.0, help="start with a tick storm of N ticks/s per symbol"
    )
    parser.add_argument("--no-history", action="store_true", help="demo accounts without months of history")
    parser.add_argument("--owner", default="user", help=argparse.SUPPRESS)  # who started it (app, cli)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when standard input closes (the program that started this server has gone)",
    )


def make_clock(start: str | None, speed: float, manual: bool) -> Clock:
    if start is None and not manual:
        return RealClock() if speed == 1.0 else ScaledClock(RealClock().now_ms(), speed)
    begin = datetime.fromisoformat(start) if start else datetime.now().astimezone()
    if manual:
        return ManualClock(begin)
    return ScaledClock(begin, speed)


def run_server(args: argparse.Namespace) -> int:
    # First of all, so that a stop request at any moment (even while starting) ends in a clean exit.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.exit_with_parent:
        _stop_when_stdin_closes(stop)
    claim: StateDirClaim | None = None
    if args.state_dir is not None:
        claim = StateDirClaim(args.state_dir)
        if not claim.acquire():
            holder = running_server(args.state_dir)
            sys.stderr.write(
                f"{IN_USE_PREFIX}{args.state_dir} is used by another trade server "
                f"({holder.describe() if holder else 'still starting'})\n"
            )
            return EXIT_STATE_DIR_IN_USE
    try:
        return _serve(args, claim, stop)
    finally:
        if claim is not None:
            claim.release()


def _stop_when_stdin_closes(stop: threading.Event) -> None:
    """The parent holds our stdin open; when it dies (even killed outright) the pipe closes and we stop,
    so a crashed app never leaves its trade server behind."""

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(1024):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(args: argparse.Namespace, claim: StateDirClaim | None, stop: threading.Event) -> int:
    server = TradeServer(
        seed=args.seed,
        state_dir=args.state_dir,
        clock=make_clock(args.start, args.speed, args.manual_clock),
        demo_history=not args.no_history,
    ).start()
    if args.storm:
        server.op_admin_storm(args.storm)
    try:
        listener = Listener(server, args.host, args.port).start()
    except OSError as exc:
        server.stop()
        sys.stderr.write(f"{CANNOT_LISTEN_PREFIX}{args.host}:{args.port}: {exc.strerror}\n")
        return 1
    if claim is not None:
        claim.publish(listener.address, args.owner)
    print(f"{READY_PREFIX}{listener.address}", flush=True)
    while not stop.wait(0.5):
        pass
    listener.stop()
    logging.getLogger(__name__).info("sim trade server stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.mt5.sim", description="Simulated MT5 trade server")
    add_arguments(parser)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    return run_server(args)


if __name__ == "__main__":
    sys.exit(main())
