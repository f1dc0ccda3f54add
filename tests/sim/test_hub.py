"""BitMEX rendering of time-driven tables (bins, funding, instrument) with an injected clock."""

from __future__ import annotations

from typing import Any

import orjson

from app.sim.bitmex.hub import BitmexHub, Topic
from app.sim.bitmex.rows import iso
from app.sim.market.accounts import DemoAccount
from app.sim.market.exchange import Exchange

T0 = 1_700_000_030.0  # 30 s into a minute


class Sink:
    """A subscriber that records decoded messages."""

    def __init__(self) -> None:
        self.subs: set[Topic] = set()
        self.account: DemoAccount | None = None
        self.messages: list[dict[str, Any]] = []

    def send_raw(self, payload: bytes) -> None:
        self.messages.append(orjson.loads(payload))

    def of(self, table: str, action: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["table"] == table and m["action"] == action]


def _setup(funding_interval: float = 8 * 3600.0) -> tuple[Exchange, BitmexHub, Sink, list[float]]:
    now = [T0]
    ex = Exchange(["XBTUSD"], seed=1, clock=lambda: now[0], funding_interval=funding_interval)
    hub = BitmexHub(ex)
    sink = Sink()
    return ex, hub, sink, now


def test_trade_bins_are_inserted_at_bin_close_stamped_with_the_end() -> None:
    ex, hub, sink, now = _setup()
    hub.add(sink, "tradeBin1m", "XBTUSD")
    partial = hub.partial("tradeBin1m", "XBTUSD", None)
    assert len(partial["data"]) == 500
    assert partial["data"][-1]["timestamp"] == iso(1_700_000_040.0 - 60)  # last closed bin
    for i in range(1, 221):
        now[0] = T0 + i * 0.05
        ex.step()
        ex.tick()
    assert now[0] > 1_700_000_040.0
    inserts = sink.of("tradeBin1m", "insert")
    assert len(inserts) == 1
    row = inserts[0]["data"][0]
    assert row["timestamp"] == "2023-11-14T22:14:00.000Z"  # 1_700_000_040, the bin's END
    assert row["trades"] > 0 and row["low"] <= row["open"] <= row["high"]
    assert row["vwap"] is not None and row["volume"] > 0


def test_funding_rows_and_instrument_updates() -> None:
    ex, hub, sink, now = _setup(funding_interval=60.0)
    hub.add(sink, "funding", "XBTUSD")
    hub.add(sink, "instrument", "XBTUSD")
    image = hub.partial("instrument", "XBTUSD", None)["data"][0]
    assert image["fundingInterval"] == "2000-01-01T00:01:00.000Z"
    assert image["fundingTimestamp"] == iso(1_700_000_040.0)
    for i in range(1, 301):
        now[0] = T0 + i * 0.05
        ex.step()
        ex.tick()
    funding = sink.of("funding", "insert")
    assert len(funding) == 1 and funding[0]["data"][0]["timestamp"] == iso(1_700_000_040.0)
    updates = [r for m in sink.of("instrument", "update") for r in m["data"]]
    assert any("markPrice" in r and "openInterest" in r for r in updates)
    assert any("lastPrice" in r and "lastTickDirection" in r for r in updates)
    assert all(r["symbol"] == "XBTUSD" for r in updates)
