"""The Qt-free helpers of the window: bar buffer, ticket form, tick ring, layout and settings files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from app.models import (
    Bar,
    BarSeries,
    FillPolicy,
    OrderType,
    Quote,
    Side,
    SymbolSpec,
    SymbolTradeMode,
    TickBatch,
    Timeframe,
    TradeAction,
)
from app.ui import settings_file
from app.ui.chart.buffer import BarBuffer
from app.ui.chart.ticks import TickRing
from app.ui.layout import WindowLayout, load_layout, save_layout
from app.ui.ticket.form import TicketForm, field_for_retcode, points_from_price, price_from_points

EURUSD = SymbolSpec(
    "EURUSD", "Euro vs US Dollar", 5, 0.00001, 100_000, 0.01, 100, 0.01, 10, 0, 0.00001, 1.0,
    "EUR", "USD", "EUR", SymbolTradeMode.FULL, frozenset({FillPolicy.FOK}),
)  # fmt: skip


def series(start: int, count: int, step: int = 60) -> BarSeries:
    bars = [Bar(start + i * step, 1.0 + i, 1.5 + i, 0.5 + i, 1.2 + i) for i in range(count)]
    return BarSeries.from_bars("EURUSD", Timeframe.M1, bars)


def test_buffer_appends_in_place_and_grows() -> None:
    buffer = BarBuffer(capacity=4)
    buffer.reset(series(600, 3))
    version = buffer.history_version
    assert buffer.apply([], Bar(720, 9, 9.5, 8, 9.1)) == 0  # the live bar changed
    assert buffer.close[-1] == 9.1 and buffer.history_version == version
    assert buffer.apply([Bar(720, 9, 9.6, 8, 9.2)], Bar(780, 9.2, 9.3, 9.1, 9.25)) == 1
    assert list(buffer.time) == [600, 660, 720, 780] and buffer.high[2] == 9.6
    assert buffer.apply([], Bar(840, 1, 1, 1, 1)) == 1 and buffer.capacity >= 5
    assert buffer.apply([], Bar(60, 1, 1, 1, 1)) == 0  # a late, older update is ignored
    assert len(buffer) == 5


def test_buffer_prepends_older_history_only() -> None:
    buffer = BarBuffer()
    buffer.reset(series(6000, 10))
    added = buffer.prepend(series(5400, 12))  # 5400 .. 6060: only the 10 before 6000 are new
    assert added == 10
    assert buffer.time[0] == 5400 and buffer.time[10] == 6000 and len(buffer) == 20
    assert np.all(np.diff(buffer.time) > 0)
    assert buffer.prepend(series(5400, 5)) == 0
    assert buffer.visible_range(0, 2) == (0.5, 3.5)


def test_buffer_is_bounded() -> None:
    buffer = BarBuffer(max_bars=15)
    buffer.reset(series(6000, 10))
    assert buffer.prepend(series(0, 50)) == 5 and buffer.full


def quote(bid: float, ask: float) -> Quote:
    return Quote("EURUSD", bid, ask, 0, round((ask - bid) / 0.00001), 5)


def test_points_become_prices_on_the_right_side() -> None:
    assert price_from_points(Side.BUY, 1.10000, 200, EURUSD, stop=True) == pytest.approx(1.09800)
    assert price_from_points(Side.BUY, 1.10000, 300, EURUSD, stop=False) == pytest.approx(1.10300)
    assert price_from_points(Side.SELL, 1.10000, 200, EURUSD, stop=True) == pytest.approx(1.10200)
    assert points_from_price(1.10000, 1.09800, EURUSD) == 200
    form = TicketForm("EURUSD", OrderType.SELL, 0.1, sl=150, tp=300, in_points=True, comment="x")
    request = form.request(EURUSD, quote(1.10000, 1.10010), client_id="abc")
    assert request.action is TradeAction.DEAL and request.client_id == "abc"
    assert request.sl == pytest.approx(1.10150) and request.tp == pytest.approx(1.09700)
    pending = TicketForm("EURUSD", OrderType.BUY_LIMIT, 0.2, price=1.0912345, sl=1.08).request(EURUSD, None)
    assert pending.action is TradeAction.PENDING and pending.price == pytest.approx(1.09123)


def test_retcodes_name_the_field_they_concern() -> None:
    assert field_for_retcode("INVALID_VOLUME") == "volume"
    assert field_for_retcode("TRADE_RETCODE_INVALID_STOPS") == "sl"
    assert field_for_retcode("DONE") is None


def test_tick_ring_keeps_the_newest_contiguously() -> None:
    ring = TickRing(capacity=5)
    for start in (0, 3, 6):
        times = np.arange(start, start + 3, dtype=np.int64)
        bids = times.astype(np.float64)
        zeros = np.zeros(3)
        ring.add(TickBatch("X", times, bids, bids + 1, zeros, zeros.copy(), times.copy()))
    view = ring.view()
    assert view.shape == (3, 5) and list(view[1]) == [4, 5, 6, 7, 8] and list(view[0]) == [4, 5, 6, 7, 8]


def test_layout_file_round_trip_and_a_bad_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ui" / "layout.json"
    assert load_layout(path) is None
    layout = WindowLayout(
        b"geo", b"state", [{"kind": "bars", "symbol": "EURUSD", "timeframe": "H4"}], 0, False
    )
    save_layout(path, layout)
    assert load_layout(path) == layout
    path.write_text("{broken", encoding="utf-8")
    assert load_layout(path) is None


def test_settings_file_keeps_other_keys_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "/srv/x"\n[sim]\nseed = 5\nstart = 2026-11-18T09:00:00Z\n', encoding="utf-8")
    data = settings_file.merge(settings_file.read(path), {"server": {"port": 9000, "host": "127.0.0.1"}})
    settings_file.validate(data)
    settings_file.write(path, data)
    again = settings_file.read(path)
    assert again["sim"] == {"seed": 5, "start": datetime(2026, 11, 18, 9, tzinfo=UTC)}
    assert again["server"]["port"] == 9000 and again["data_dir"] == "/srv/x"
    with pytest.raises(ValueError, match="server.port"):
        settings_file.validate(settings_file.merge(data, {"server": {"port": 99999}}))


def test_submissions_send_once_and_never_after_an_unknown_outcome() -> None:
    from app.models import (
        AmbiguousOutcomeError,
        OrderRequest,
        OrderResult,
        OrderValidationError,
        RejectedError,
    )
    from app.ui.ticket.submission import Submissions

    subs = Submissions()
    request = OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY)
    first = subs.begin(request)
    assert first is not None and first.client_id and subs.begin(request) is None  # one at a time
    done = subs.succeeded(
        OrderResult(10009, True, 5, 7, 0.1, 1.1, 1.1, 1.1001, "Done", retcode_name="DONE"), 5
    )
    assert done.text == "Done: order #7, 0.1 lots at 1.10000 (DONE)" and subs.can_send
    second = subs.begin(request)
    assert second is not None and second.client_id != first.client_id  # a new submission, a new id
    refused = subs.failed(RejectedError("INVALID_STOPS: Invalid stops", 10016))
    assert refused.field == "sl" and refused.text.startswith("Refused: INVALID_STOPS") and subs.can_send
    assert subs.begin(request) is not None
    assert subs.failed(OrderValidationError("volume", "not on the 0.01 step")).field == "volume"
    assert subs.begin(request) is not None
    unknown = subs.failed(AmbiguousOutcomeError("timeout", client_id="abc"))
    assert "Outcome unknown" in unknown.text and "abc" in unknown.text
    assert not subs.can_send and subs.begin(request) is None
    assert len(subs.client_ids) == 4
    assert not Submissions().failed(ValueError("boom")).handled
