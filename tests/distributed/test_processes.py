"""Three nodes × two sim terminals, each node a process of its own with its own OS keyring, against
one sim trade server and one PostgreSQL store: a node killed with SIGKILL in the middle of a visit,
PostgreSQL restarted in the middle of a cycle — and still no duplicate deal, no lost visit, every
account visited in the next cycle, and no password in the store, a job or a log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.core.storage import Database
from app.core.times import utc_now
from app.models import AccountStatus, NewAccount
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.process import ServerProcess, start_server_process
from tests.support.postgres import PostgresCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
SERVER = "SimBroker-Demo"
NODES = ("n1", "n2", "n3")
ACCOUNTS = 9
FIRST_LOGIN = 7_500_001
CONFIG = """
[terminals]
call_timeout_s = 5
login_timeout_s = 5
[carousel]
autostart = true
cycle_interval_s = 0
login_timeout_s = 5
snapshot_timeout_s = 5
deals_timeout_s = 5
store_timeout_s = 20
retry_initial_s = 1
retry_max_s = 2
[distributed]
heartbeat_interval_s = 1
heartbeat_timeout_s = 8
planner_interval_s = 0.3
"""


def password(login: int) -> str:
    return f"Pw-{login}-secret"


def wait_for(what: str, condition: Callable[[], Any], within_s: float = 120.0) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s:g} s: {what}")
        time.sleep(0.2)


@dataclass
class Machines:
    cluster: PostgresCluster
    url: str
    db: Database
    sim: ServerProcess
    admin: SimAdmin
    root: Path
    accounts: dict[int, int] = field(default_factory=dict)  # account id -> login
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def data_dir(self, node: str) -> Path:
        return self.root / node

    def start_node(self, node: str, account_ids: list[int]) -> None:
        data_dir = self.data_dir(node)
        data_dir.mkdir(exist_ok=True)
        config = data_dir / "config.toml"
        config.write_text(CONFIG)
        keyring_home = data_dir / "keyring"
        keyring_home.mkdir(exist_ok=True)
        node_args = [
            "--config", str(config), "--data-dir", str(data_dir), "--log-level", "INFO",
            "node", "--name", node, "--sim", "--sim-terminals", "2", "--sim-server", str(self.sim.address),
        ]  # fmt: skip
        script = (
            'echo -n test | XDG_DATA_HOME="$1" gnome-keyring-daemon --unlock --components=secrets '
            '>/dev/null 2>&1; shift; exec "$@"'
        )
        env = {**os.environ, "MT5C_STORAGE__URL": self.url, "XDG_DATA_HOME": str(keyring_home)}
        env.pop("MT5_CONSOLE_TEST_KEYRING", None)
        with (data_dir / "output.txt").open("w") as output:
            process = subprocess.Popen(  # noqa: S603
                [
                    "dbus-run-session",
                    "--",
                    "sh",
                    "-c",
                    script,
                    "sh",
                    str(keyring_home),
                    sys.executable,
                    "-m",
                    "tests.distributed.node_session",
                    "--",
                    *node_args,
                ],  # fmt: skip
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=output,  # a pipe nobody reads would fill up and block the node
                stderr=subprocess.STDOUT,
                text=True,
            )
        assert process.stdin is not None
        process.stdin.write(json.dumps({str(a): password(self.accounts[a]) for a in account_ids}))
        process.stdin.close()
        self.processes[node] = process

    def node_pid(self, node: str) -> int:
        rows = self.db.call(lambda tx: tx.nodes.all(), readonly=True)
        return next(row.pid for row in rows if row.name == node)

    def output(self, node: str) -> str:
        return (self.data_dir(node) / "output.txt").read_text(errors="replace")[-3000:]

    def stop_node(self, node: str, *, within_s: float = 60) -> int:
        """SIGTERM the node itself (dbus-run-session, its parent, ends with it); its exit code."""
        process = self.processes[node]
        if process.poll() is None:
            try:
                os.kill(self.node_pid(node), signal.SIGTERM)
            except (ProcessLookupError, StopIteration):
                pass
        try:
            return process.wait(within_s)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(10)


@pytest.fixture
def machines(postgres_cluster: PostgresCluster, postgres_url: str, tmp_path: Path) -> Iterator[Machines]:
    if shutil.which("dbus-run-session") is None or shutil.which("gnome-keyring-daemon") is None:
        pytest.skip("needs dbus-run-session and gnome-keyring (scripts/test installs them)")
    sim = start_server_process(
        None, port=0, extra_args=("--start", "2026-11-18T09:00:00+00:00", "--no-history")
    )
    db = Database(postgres_url)
    db.open()
    admin = SimAdmin(str(sim.address))
    made = Machines(postgres_cluster, postgres_url, db, sim, admin, tmp_path)
    try:
        yield made
    finally:
        for node, process in made.processes.items():
            if process.poll() is None:
                made.stop_node(node, within_s=30)
        admin.close()
        db.close()
        sim.stop()


def _cycle(db: Database) -> Any:
    return db.call(lambda tx: tx.cycles.latest(), readonly=True)


def _visits(db: Database, cycle: int) -> list[Any]:
    return db.call(lambda tx: tx.cycles.visits(cycle), readonly=True)


def test_three_nodes_survive_a_killed_node_and_a_restarted_store(machines: Machines) -> None:
    ids = _register_accounts(machines)
    # Every account's password is on two of the three nodes (node k lacks those at k, k+3, ...).
    serves = {node: [a for i, a in enumerate(ids) if i % 3 != k] for k, node in enumerate(NODES)}
    machines.admin.set_login_latency(1.0)  # a visit lasts over a second: time to kill a node in one
    for node in NODES:
        machines.start_node(node, serves[node])

    def announced() -> bool:
        live = machines.db.call(lambda tx: tx.nodes.live(utc_now(), 8), readonly=True)
        return sorted((n.name, sorted(n.accounts)) for n in live) == sorted(serves.items())

    wait_for("all three nodes announce the accounts their keyrings hold", announced, within_s=240)
    victim_cycle = _kill_n1_mid_visit(machines)
    for login in machines.accounts.values():  # new deals to fetch from here on
        machines.admin.deposit(login, 100.0, "top-up")
    restarted_in = _restart_the_store_mid_cycle(machines, after_cycle=victim_cycle)
    _every_account_visited_in_the_next_cycle(machines, restarted_in, ids)
    resumed_in = _a_node_cut_off_holds_up_no_other(machines, ids)
    _every_account_visited_in_the_next_cycle(machines, resumed_in, ids)
    _no_lost_visit(machines.db)
    _no_duplicate_deal(machines.db, ids)
    _no_password_anywhere(machines)


def _register_accounts(machines: Machines) -> list[int]:
    for n in range(ACCOUNTS):
        login = FIRST_LOGIN + n
        machines.admin.create_account(login, password(login), server=SERVER, balance=5_000.0 + n)
        account = machines.db.call(
            lambda tx, login=login: tx.accounts.insert(NewAccount(login, SERVER), utc_now())
        )
        machines.accounts[account.id] = login
    return sorted(machines.accounts)


def _kill_n1_mid_visit(machines: Machines) -> int:
    """SIGKILL node n1 while it visits an account; that visit is made again by another node."""
    db = machines.db

    def n1_visiting() -> Any:
        cycle = _cycle(db)
        if cycle is None:
            return None
        return next((v for v in _visits(db, cycle.cycle) if v.state == "visiting" and v.node == "n1"), None)

    victim = wait_for("n1 in the middle of a visit", n1_visiting)
    os.kill(machines.node_pid("n1"), signal.SIGKILL)

    def taken_over() -> Any:
        visit = db.call(lambda tx: tx.cycles.visit(victim.cycle, victim.account_id), readonly=True)
        return visit if visit.state == "done" and visit.node != "n1" else None

    rerun = wait_for("the killed node's visit made again on another node", taken_over, within_s=120)
    assert rerun.node in ("n2", "n3")
    return int(victim.cycle)


def _restart_the_store_mid_cycle(machines: Machines, *, after_cycle: int) -> int:
    db = machines.db

    def mid_cycle() -> Any:
        cycle = _cycle(db)
        if cycle is None or cycle.finished_at is not None or cycle.cycle <= after_cycle:
            return None
        states = [v.state for v in _visits(db, cycle.cycle)]
        return cycle if "done" in states and ("queued" in states or "visiting" in states) else None

    restarted_in = wait_for("a cycle half done", mid_cycle, within_s=120)
    machines.cluster.restart()
    return int(restarted_in.cycle)


def _every_account_visited_in_the_next_cycle(machines: Machines, restarted_in: int, ids: list[int]) -> None:
    db = machines.db

    def next_cycle_done() -> Any:
        finished = db.call(lambda tx: tx.cycles.last_finished(), readonly=True)
        return finished if finished is not None and finished.cycle > restarted_in else None

    after = wait_for("the cycle after the restart, done", next_cycle_done, within_s=180)
    visits = _visits(db, after.cycle)
    assert {v.account_id: v.state for v in visits} == dict.fromkeys(ids, "done"), "every account visited"
    assert {v.node for v in visits} <= {"n2", "n3"}


def _a_node_cut_off_holds_up_no_other(machines: Machines, ids: list[int]) -> int:
    """n3 frozen (SIGSTOP: no heartbeat, no statement, as if cut off): n2 goes on visiting what it can,
    and cycles keep ending; the accounts only n3 could log in to are shown as such. Then n3 comes back
    (SIGCONT); the number of the cycle under way then is returned."""
    db = machines.db
    n3 = machines.node_pid("n3")
    os.kill(n3, signal.SIGSTOP)
    try:
        only_n3 = {a for i, a in enumerate(ids) if i % 3 == 1}  # n2 lacks these, and n1 is dead
        stopped_at = _cycle(db).cycle

        def a_cycle_without_n3() -> Any:
            finished = db.call(lambda tx: tx.cycles.last_finished(), readonly=True)
            if finished is None or finished.cycle <= stopped_at + 1:
                return None
            return finished

        cycle = wait_for("cycles going on without n3", a_cycle_without_n3, within_s=120)
        states = {v.account_id: (v.state, v.reason) for v in _visits(db, cycle.cycle)}
        assert {a for a, (state, _) in states.items() if state == "done"} == set(ids) - only_n3
        assert all(
            states[a][0] == "failed" and "no node can log in to it" in states[a][1] for a in only_n3
        ), states
    finally:
        os.kill(n3, signal.SIGCONT)
    return int(_cycle(db).cycle)


def _no_lost_visit(db: Database) -> None:
    """Every cycle so far ended; each of its visits is done, or failed with a reason (none hangs)."""
    finished = db.call(lambda tx: tx.cycles.last_finished(), readonly=True)
    for number in range(1, finished.cycle + 1):
        for visit in _visits(db, number):
            assert visit.state in ("done", "failed", "cancelled"), (number, visit)
            assert visit.state != "failed" or visit.reason


def _no_duplicate_deal(db: Database, ids: list[int]) -> None:
    """One row per account and ticket, and every account's deals there (opening balance, top-up)."""
    rows = db.call(
        lambda tx: tx.conn.execute(
            text("SELECT account_id, ticket, count(*) FROM deals GROUP BY account_id, ticket")
        ).all(),
        readonly=True,
    )
    assert all(count == 1 for _, _, count in rows)
    per_account = {a: sum(1 for account_id, _, _ in rows if account_id == a) for a in ids}
    assert all(n >= 2 for n in per_account.values()), per_account
    accounts = db.call(lambda tx: tx.accounts.list(), readonly=True)
    assert all(a.status is AccountStatus.OK for a in accounts)


def _no_password_anywhere(machines: Machines) -> None:
    """No password in the store (any table: the jobs and their events too) or in a node's log."""
    for node in ("n2", "n3"):
        assert machines.stop_node(node) == 0, machines.output(node)
    dump = _everything_in(machines.db)
    logs = "".join(
        path.read_text(errors="replace")
        for node in NODES
        for path in (machines.data_dir(node) / "logs").glob("*")
    )
    assert "Starting job" in logs  # the logs were read (procrastinate logs every job it starts)
    for login in machines.accounts.values():
        assert password(login) not in dump
        assert password(login) not in logs


def _everything_in(db: Database) -> str:
    """Every row of every table of the store, as text."""

    def dump(tx: Any) -> str:
        tables = tx.conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ).scalars()
        parts = []
        for table in list(tables):
            rows = tx.conn.execute(text(f'SELECT * FROM "{table}"')).all()  # noqa: S608 - names from the catalogue
            parts.append(f"{table}: {rows!r}")
        return "\n".join(parts)

    return str(db.call(dump, readonly=True))
