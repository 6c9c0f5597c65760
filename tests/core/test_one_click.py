"""One-click trading: refused until its risk is acknowledged (recorded and persisted once), then one
market order per click through the trading service, the risk limits refusing as for any order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.audit import AuditQuery, AuditReader, audit_dir
from app.config import RiskLimits, TradingSettings
from app.core.levels import profit_at, volume_for_risk
from app.core.one_click import ACKNOWLEDGED_KEY, OneClickTrading
from app.models import Side
from app.models.errors import RiskLimitError, TradingDisabledError
from tests.core.conftest import TEST_ACCOUNT
from tests.core.test_order_rules import spec as eurusd_spec
from tests.support.services import Services


@pytest.fixture
async def limited(client_factory: Any, tmp_path: Path) -> Any:
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    settings = TradingSettings(reconcile_window_s=5.0, limits=RiskLimits(max_volume_per_order=0.5))
    services = await Services(client, tmp_path, settings).start()
    yield services
    await services.stop()


@pytest.mark.slow
async def test_refused_until_acknowledged_then_one_order_per_click(limited: Services) -> None:
    persisted: list[bool] = []

    async def persist() -> None:
        persisted.append(True)

    one_click = OneClickTrading(limited.trading, audit=limited.audit, persist=persist)
    with pytest.raises(TradingDisabledError, match="acknowledged"):
        await one_click.trade("EURUSD", Side.BUY, 0.1)
    assert await limited.pool.live.call("positions") == []

    await one_click.acknowledge()
    await one_click.acknowledge()  # once is enough: recorded once
    assert persisted == [True]
    changes = AuditReader(audit_dir(limited.data_dir)).query(AuditQuery(action="setting.change"))
    assert [(e.payload["key"], e.payload["old"], e.payload["new"]) for e in changes] == [
        (ACKNOWLEDGED_KEY, False, True)
    ]

    buy = await one_click.trade("EURUSD", Side.BUY, 0.1)
    sell = await one_click.trade("EURUSD", Side.SELL, 0.2)
    positions = await limited.pool.live.call("positions")
    assert sorted((p.side.value, p.volume) for p in positions) == [("buy", 0.1), ("sell", 0.2)]
    assert buy.order != sell.order
    intents = AuditReader(audit_dir(limited.data_dir)).query(AuditQuery(action="order.intent"))
    assert [e.payload["note"] for e in intents] == ["one-click", "one-click"]

    with pytest.raises(RiskLimitError):  # the account's limits apply as to any order
        await one_click.trade("EURUSD", Side.BUY, 1.0)
    assert len(await limited.pool.live.call("positions")) == 2


def test_profit_at_a_level_and_volume_by_risk() -> None:
    spec = eurusd_spec()  # tick 0.00001 worth 1.0 per lot
    assert profit_at(Side.BUY, 0.5, 1.10000, 1.10100, spec) == pytest.approx(50.0)
    assert profit_at(Side.SELL, 0.5, 1.10000, 1.10100, spec) == pytest.approx(-50.0)
    assert volume_for_risk(100.0, 1.10000, 1.09800, spec) == pytest.approx(0.5)  # 200 points
    assert volume_for_risk(100.0, 1.10000, 1.09999, spec) == pytest.approx(spec.volume_max)
    assert volume_for_risk(0.1, 1.10000, 1.09000, spec) == 0.0  # even the minimum risks more
    assert volume_for_risk(100.0, 1.1, 1.1, spec) == 0.0
