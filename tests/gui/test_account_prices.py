"""Account panel price cells (orders, executions) at tiny and normal prices: the market session's
instrument tick (BitMEX EOSM21 at 1e-07, XBTUSD at 0.5), else the most decimals the market's
order and fill prices have; never in scientific notation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.account.credentials import CredentialStore
from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.events import AuthResult, Event, FeedStatus, TableRows
from tests.conftest import signal_future
from tests.gui.conftest import FakeSession, instrument, keep_artifact, wait_until

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]

ORDER_PRICE, ORDER_AVG = 5, 7  # columns of the order tables
FILL_PRICE = 4  # column of the executions table
EOS = {"isInverse": False, "multiplier": 100_000_000, "quoteCurrency": "XBT", "lotSize": 1}


def _order(oid: str, symbol: str, side: str, price: float, **extra: Any) -> dict[str, Any]:
    row = {
        "orderID": oid,
        "account": 1,
        "symbol": symbol,
        "side": side,
        "ordType": "Limit",
        "orderQty": 1000,
        "price": price,
        "cumQty": 0,
        "leavesQty": 1000,
        "ordStatus": "New",
        "timestamp": "2026-01-01T00:00:00.000Z",
    }
    row.update(extra)
    return row


def _fill(exec_id: str, symbol: str, price: float) -> dict[str, Any]:
    return {
        "execID": exec_id,
        "orderID": "filled-" + exec_id,
        "account": 1,
        "symbol": symbol,
        "side": "Buy",
        "execType": "Trade",
        "ordStatus": "Filled",
        "lastQty": 1000,
        "lastPx": price,
        "orderQty": 1000,
        "price": price,
        "execComm": 1_268,
        "settlCurrency": "XBt",
        "lastLiquidityInd": "RemovedLiquidity",
        "timestamp": "2026-01-01T00:00:01.000Z",
    }


ORDERS = [
    _order("e1", "EOSM21", "Sell", 0.0001271),
    _order("e2", "EOSM21", "Buy", 0.0001268, cumQty=400, avgPx=0.00012683333),
    _order("x1", "XBTUSD", "Buy", 60_000.0),
    _order("x2", "XBTUSD", "Sell", 60_100.5),
]
FILLS = [_fill("f1", "EOSM21", 0.0001267), _fill("f2", "XBTUSD", 60_050.0)]


class _Client:
    """Logs in and sends the account's orders and fills, then idles until closed."""

    def __init__(
        self, on_event: Callable[[Event], None], orders: list[Any], fills: list[Any]
    ) -> None:
        self.on_event = on_event
        self.orders = orders
        self.fills = fills
        self.stop = asyncio.Event()
        self.config = type("Cfg", (), {"credentials": object()})()

    async def run(self) -> None:
        self.on_event(FeedStatus("bitmex", "connecting"))
        await asyncio.sleep(0)
        self.on_event(AuthResult("bitmex", True))
        self.on_event(TableRows("bitmex", "order", "partial", ["orderID"], self.orders, 0.0))
        self.on_event(TableRows("bitmex", "execution", "partial", ["execID"], self.fills, 0.0))
        self.on_event(FeedStatus("bitmex", "live"))
        await self.stop.wait()

    async def close(self) -> None:
        self.stop.set()

    async def unsubscribe(self, topics: list[str]) -> None:
        del topics

    async def cancel_all_after(self, timeout_ms: int) -> None:
        del timeout_ms


def _clients(orders: list[Any], fills: list[Any]) -> Callable[..., Any]:
    """A client factory whose account has these orders and fills."""

    def factory(url: str, creds: ApiCredentials, on_event: Callable[[Event], None]) -> Any:
        del url, creds
        return _Client(on_event, orders, fills)

    return factory


class _Market(FakeSession):
    """The window's market session on the demo venue (its instruments give the ticks)."""

    def __init__(self) -> None:
        super().__init__(has_account=True)
        self.spec = type("Spec", (), {"venue_key": "demo", "label": "Demo"})()
        self.url = "ws://127.0.0.1:1/realtime"
        self.client = None


async def _logged_in_panel(qtbot: Any, market: _Market, orders: list[Any], fills: list[Any]) -> Any:
    from app.widgets.account.panel import AccountPanel

    panel = AccountPanel(CredentialStore(environ={}), client_factory=_clients(orders, fills))
    qtbot.addWidget(panel)
    panel.resize(900, 420)
    panel.bind_session(market)
    panel.show()
    phase = signal_future(panel.phase_changed)
    panel.login.key_edit.setText("KEY1")
    panel.login.secret_edit.setText("account-prices-secret-Zz19")
    panel.login.login_button.click()
    assert (await asyncio.wait_for(phase, 2))[0] == "authenticated"
    panel.refresh_now()
    return panel


def _by_key(rows: list[list[str]], column: int) -> dict[tuple[str, str], list[str]]:
    """Texts of one column by (symbol, side), several rows of a market in table order."""
    out: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        out.setdefault((row[1], row[2]), []).append(row[column])
    return out


async def test_order_and_fill_prices_at_the_instrument_tick(
    qtbot: Any, qtmodeltester: Any, themes: Any, artifacts: Path
) -> None:
    market = _Market()
    market.state.apply(instrument("XBTUSD", 0.5))
    market.state.apply(instrument("EOSM21", 1e-7, **EOS))
    panel = await _logged_in_panel(qtbot, market, ORDERS, FILLS)
    try:
        working = panel.working_model.text_rows()
        prices = _by_key(working, ORDER_PRICE)
        assert prices[("EOSM21", "Sell")] == ["0.0001271"]  # the old fallback read 0.0001
        assert prices[("EOSM21", "Buy")] == ["0.0001268"]
        assert prices[("XBTUSD", "Buy")] == ["60,000.0"]  # as before
        assert prices[("XBTUSD", "Sell")] == ["60,100.5"]
        # an average is written at the tick too
        assert _by_key(working, ORDER_AVG)[("EOSM21", "Buy")] == ["0.0001268"]
        fills = _by_key(panel.fills_model.text_rows(), FILL_PRICE)
        assert fills[("EOSM21", "Buy")] == ["0.0001267"]
        assert fills[("XBTUSD", "Buy")] == ["60,050.0"]
        for model in (panel.working_model, panel.recent_model, panel.fills_model):
            qtmodeltester.check(model, force_py=False)
            assert not any("e-" in t or "e+" in t for row in model.text_rows() for t in row)
        for tab, name in ((0, "account_orders_tiny_prices"), (2, "account_fills_tiny_prices")):
            panel.tabs.setCurrentIndex(tab)
            await asyncio.sleep(0.05)
            picture = artifacts / f"{name}.png"
            panel.grab().save(str(picture))
            keep_artifact(picture)
    finally:
        await panel.logout(ask=False)


async def test_prices_before_the_instruments_and_after(qtbot: Any, themes: Any) -> None:
    market = _Market()
    orders = [
        _order("e1", "EOSM21", "Sell", 0.000127),
        _order("e2", "EOSM21", "Buy", 0.0001268, cumQty=400, avgPx=0.00012683333),
        _order("x1", "XBTUSD", "Buy", 60_000.0, cumQty=10, avgPx=60_000.123456789),
    ]
    panel = await _logged_in_panel(qtbot, market, orders, [_fill("f1", "XBTUSD", 59_950.0)])
    try:
        # no tick yet: each market at the most decimals its order and fill prices have, so a
        # column lines up; an average's float tail says nothing about the market
        working = panel.working_model.text_rows()
        assert _by_key(working, ORDER_PRICE)[("EOSM21", "Sell")] == ["0.0001270"]
        assert _by_key(working, ORDER_AVG)[("EOSM21", "Buy")] == ["0.0001268"]
        assert _by_key(working, ORDER_PRICE)[("XBTUSD", "Buy")] == ["60,000"]
        assert _by_key(working, ORDER_AVG)[("XBTUSD", "Buy")] == ["60,000"]
        assert _by_key(panel.fills_model.text_rows(), FILL_PRICE)[("XBTUSD", "Buy")] == ["59,950"]
        # the instruments arrive on the market session: the tables take the ticks by themselves
        market.bridge.on_event(instrument("XBTUSD", 0.5))
        market.bridge.flush()

        def xbt_buy() -> str:
            return _by_key(panel.working_model.text_rows(), ORDER_PRICE)[("XBTUSD", "Buy")][0]

        await wait_until(lambda: xbt_buy() == "60,000.0", 2.0, "the tick's decimals")
        working = panel.working_model.text_rows()
        assert _by_key(working, ORDER_AVG)[("XBTUSD", "Buy")] == ["60,000.1"]
        assert _by_key(panel.fills_model.text_rows(), FILL_PRICE)[("XBTUSD", "Buy")] == ["59,950.0"]
        assert _by_key(working, ORDER_PRICE)[("EOSM21", "Sell")] == ["0.0001270"]
    finally:
        await panel.logout(ask=False)
