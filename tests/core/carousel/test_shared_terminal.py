"""A pool of one: the carousel borrows the live terminal for each visit and puts it back on the live
account; it never borrows it without a way back, and a failed return keeps it lent until it succeeds."""

from __future__ import annotations

import asyncio

import pytest

from app.core.carousel import CarouselError, VisitFailed
from app.models import AccountEdit, AccountStatus, NewAccount
from app.mt5.sim.demo import DEFAULT_LOGIN
from tests.core.carousel.conftest import SERVER, Harness
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

LIVE = DEFAULT_LOGIN  # a sim terminal attaches to the default demo account (password Demo-1001)


async def test_the_live_account_is_logged_back_in_after_each_visit(harness: Harness) -> None:
    one, two = await harness.account(), await harness.account()
    (live,) = await harness.terminals("t1")
    await wait_until(lambda: live.home_account == (LIVE, SERVER))
    pool = harness.pool([live])
    carousel = harness.carousel(pool)
    lent: list[str | None] = []
    live.add_state_listener(lambda state: lent.append(pool.live_lent_to))

    report = await carousel.run_cycle()

    assert {v.account.id for v in report.visits} == {one.id, two.id}
    assert harness.live_logins == [LIVE, one.login, LIVE, two.login, LIVE] or harness.live_logins == [
        LIVE, two.login, LIVE, one.login, LIVE,
    ]  # fmt: skip
    assert pool.live_lent_to is None and pool.lends == 2
    assert set(lent) == {"carousel"}  # every change of account happened while it was lent
    info = await live.call("account")
    assert info.login == LIVE and live.home_account == (LIVE, SERVER)
    assert carousel.status().terminals == ("t1",)


async def test_the_live_account_itself_is_visited_without_leaving_it_once_its_password_is_proven(
    harness: Harness,
) -> None:
    (live,) = await harness.terminals("t1")
    await wait_until(lambda: live.home_account == (LIVE, SERVER))
    pool = harness.pool([live])
    account = await harness.registry.add(NewAccount(LIVE, SERVER, alias="live"), "Demo-1001")
    carousel = harness.carousel(pool)
    first = await carousel.sync_now(account.id)  # the keyring's password is proven by a login once
    assert first.account_key == f"{LIVE}@{SERVER}" and pool.lends == 1
    again = await carousel.sync_now(account.id)  # then the terminal stays where it is
    assert again.account_key == f"{LIVE}@{SERVER}" and pool.lends == 1
    assert harness.live_logins == [LIVE] and pool.live_lent_to is None


async def test_a_wrong_password_of_the_live_account_is_never_ok(harness: Harness) -> None:
    """The terminal is on the account already, so skipping the login would "prove" any password."""
    (live,) = await harness.terminals("t1")
    await wait_until(lambda: live.home_account == (LIVE, SERVER))
    pool = harness.pool([live])
    account = await harness.registry.add(NewAccount(LIVE, SERVER, alias="live"), "wrong password")
    carousel = harness.carousel(pool)
    for _ in range(2):
        with pytest.raises(VisitFailed, match="login refused"):
            await carousel.sync_now(account.id)
        fresh = await harness.fresh(account)
        assert fresh.status is AccountStatus.ERROR and "login refused" in fresh.status_reason
    assert pool.live_lent_to is None and (await live.call("account")).login == LIVE  # home again
    await harness.registry.edit(account.id, AccountEdit(), "Demo-1001")  # the trader fixes it
    assert (await harness.fresh(account)).status is AccountStatus.PENDING  # not ok until proven
    await carousel.sync_now(account.id)
    assert (await harness.fresh(account)).status is AccountStatus.OK


async def test_no_borrowing_without_a_password_for_the_live_account(harness: Harness) -> None:
    account = await harness.account()
    (live,) = await harness.terminals("t1")
    await wait_until(lambda: live.home_account == (LIVE, SERVER))
    pool = harness.pool([live])
    carousel = harness.carousel(pool, home_passwords=None)

    report = await carousel.run_cycle()

    assert not report.visits and not report.failures and pool.lends == 0
    note = carousel.status().note
    assert f"no password known for the live account {LIVE}@{SERVER}" in note
    assert (await harness.fresh(account)).status is AccountStatus.PENDING  # not the account's fault
    with pytest.raises(CarouselError, match="cannot share the live terminal"):
        await carousel.sync_now(account.id)
    assert harness.live_logins == [LIVE]


async def test_a_failed_return_keeps_the_terminal_lent_until_it_gets_home(harness: Harness) -> None:
    account = await harness.account()
    (live,) = await harness.terminals("t1")
    await wait_until(lambda: live.home_account == (LIVE, SERVER))
    pool = harness.pool([live])
    passwords = {LIVE: "wrong"}
    carousel = harness.carousel(pool, home_passwords=lambda login, server: passwords.get(login))

    task = asyncio.create_task(carousel.sync_now(account.id))
    await wait_until(lambda: "could not return to" in carousel.status().note)
    assert pool.live_lent_to == "carousel"  # orders stay refused while it is on another account
    assert (await live.call("account")).login == account.login
    passwords[LIVE] = "Demo-1001"  # e.g. the user fixed the live account's password
    snapshot = await asyncio.wait_for(task, 30)

    assert snapshot.account_key == account.key
    assert pool.live_lent_to is None and (await live.call("account")).login == LIVE
    assert carousel.status().note == ""
