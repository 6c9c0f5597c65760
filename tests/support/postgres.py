"""A private PostgreSQL cluster for the tests: initdb and pg_ctl on a temporary directory, loopback
only, a free port, stopped after the session; a fresh database for each test that asks.

The server refuses to run as root, so as root (CI) the cluster runs as the ``postgres`` user that
Debian's package creates (``runuser -u postgres --``); as anyone else, as that user. Tests that need it
are marked ``postgres``: without the PostgreSQL binaries they are skipped with the reason, except where
scripts/test says the binaries must be there (``MT5_CONSOLE_TEST_POSTGRES=required``): there a
missing or broken PostgreSQL fails them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REQUIRED_VAR = "MT5_CONSOLE_TEST_POSTGRES"
SERVER_USER = "postgres"  # the unprivileged user a root process runs the server as
SUPERUSER = "postgres"  # the cluster's own superuser role (trust authentication, loopback only)
START_TIMEOUT_S = 60


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name))
    for candidate in reversed(candidates):
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


def _major(name: str) -> int:
    return int(name) if name.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresCluster:
    """One running cluster. :meth:`create_database` gives a fresh database's URL."""

    bindir: Path
    root: Path  # holds data/ (the cluster), the socket and the server log
    port: int = 0
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    # ------------------------------------------------------------------ running the server

    def _as_server_user(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVER_USER, "--", *command]
        return list(command)

    def _run(self, *command: str, timeout: float = START_TIMEOUT_S) -> None:
        done = subprocess.run(
            self._as_server_user(*command), capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            output = done.stderr.strip() or done.stdout.strip()
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}): {output}"
                + (f"\nserver log:\n{log}" if log else "")
            )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER, SERVER_USER)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",  # a private cluster: loopback and a private socket directory only
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self, port: int | None = None) -> None:
        """Start the server (on ``port``, or a free one); a lost race for the port tries another."""
        for attempt in range(5):
            self.port = port or _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                # a throwaway cluster: durability buys nothing here, speed does
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=50 -c shared_buffers=32MB"
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file),
                    "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start",
                )  # fmt: skip
                return
            except RuntimeError:
                if port is not None or attempt == 4:
                    raise

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop and start again on the same port (a server restart, as an operator does one)."""
        self.stop()
        self.start(self.port)

    # ------------------------------------------------------------------ databases

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRED_VAR) == "required":
        pytest.fail(f"{reason} (scripts/test installs Debian's postgresql package: it must be usable here)")
    pytest.skip(f"{reason}; scripts/test installs it and runs these tests")


@contextlib.contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """Start a private cluster for the duration of the block; skip (or fail) without PostgreSQL."""
    bindir = find_bindir()
    if bindir is None:
        _unavailable("needs PostgreSQL's initdb and pg_ctl (Debian's postgresql package)")
        raise AssertionError("unreachable")  # pragma: no cover
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("runs the PostgreSQL server as the postgres user, and runuser is missing")
    root = Path(tempfile.mkdtemp(prefix="mt5c-pg-"))  # not under pytest's root-only tmp dir
    cluster = PostgresCluster(bindir, root)
    try:
        cluster.init()
        cluster.start()
    except (RuntimeError, subprocess.TimeoutExpired, KeyError, LookupError, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"cannot start a private PostgreSQL cluster: {exc}")
    try:
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The session's private PostgreSQL cluster (started on first use, stopped at the end)."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh, empty database on the session's cluster, dropped after the test."""
    url = postgres_cluster.create_database()
    yield url
    postgres_cluster.drop_database(url)
