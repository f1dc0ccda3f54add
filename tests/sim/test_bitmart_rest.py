"""The BitMart legacy front-end's REST symbol details: served on the openws port, every value
taken from the market, and the precision range the ones the socket itself accepts."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import connect

from app.sim.bitmart.legacy import LegacySimOptions
from app.sim.bitmart.server import BitmartSim, BitmartSimConfig
from app.sim.market.instruments import spec_for

SYMBOLS = ["XBTUSD", "ETHUSD", "BTC_USDT"]


def _get(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a plain GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.headers.get("Content-Type", ""), reply.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def _sim() -> BitmartSim:
    options = LegacySimOptions(connect_interval=0.0, push_interval=0.05)
    return BitmartSim(BitmartSimConfig(symbols=list(SYMBOLS), legacy=options))


async def _subscribe(url: str, symbol: str, precision: int) -> dict[str, Any]:
    async with connect(url) as ws:
        request = {"subscribe": "order", "symbol": symbol, "precision": precision}
        await ws.send(json.dumps(request))
        reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return reply


@pytest.mark.asyncio
async def test_symbols_details_list_every_symbol_from_the_market() -> None:
    async with _sim() as sim:
        assert sim.details_url == f"http://127.0.0.1:{sim.legacy_port}/v2/symbols_details"
        status, kind, body = await asyncio.to_thread(_get, sim.details_url)
        assert status == 200 and kind == "application/json"
        rows = {row["id"]: row for row in json.loads(body)}
        assert list(rows) == SYMBOLS
        for symbol, row in rows.items():
            spec, view = spec_for(symbol), sim.market.views[symbol]
            # BitMart's quote_increment is an amount step: one lot, like the minimum size
            assert Decimal(row["quote_increment"]) == sim.market.qty(spec.lot_size)
            assert Decimal(row["base_min_size"]) == sim.market.qty(spec.lot_size)
            assert row["price_min_precision"] == view.min_precision
            assert row["price_max_precision"] == view.max_precision
            assert isinstance(row["price_max_precision"], int)  # a JSON number, as documented
            assert Decimal(row["base_max_size"]) > Decimal(row["base_min_size"])
            assert row["expiration"] == "NA"
        assert rows["XBTUSD"]["quote_increment"] == "0.1"
        assert (rows["XBTUSD"]["price_min_precision"], rows["XBTUSD"]["price_max_precision"]) == (
            0,
            5,
        )
        assert (rows["XBTUSD"]["base_currency"], rows["XBTUSD"]["quote_currency"]) == ("XBT", "USD")
        assert rows["BTC_USDT"]["base_currency"] == "BTC"
        assert rows["BTC_USDT"]["quote_currency"] == "USDT"
        assert rows["XBTUSD"]["base_min_size"] == "0.1"  # one lot of 100 contracts


@pytest.mark.asyncio
async def test_listed_range_is_what_the_socket_accepts() -> None:
    async with _sim() as sim:
        _, _, body = await asyncio.to_thread(_get, sim.details_url)
        for row in json.loads(body):
            symbol, low, high = row["id"], row["price_min_precision"], row["price_max_precision"]
            for precision in (low, high):
                reply = await _subscribe(sim.legacy_url, symbol, precision)
                assert reply["subscribe"] == "depth" and reply["precision"] == precision
            refused = await _subscribe(sim.legacy_url, symbol, high + 1)
            assert refused["message"] == f"precision {high + 1} out of range {low}..{high}"


@pytest.mark.asyncio
async def test_other_http_paths_are_not_the_details() -> None:
    async with _sim() as sim:
        base = f"http://127.0.0.1:{sim.legacy_port}"
        status, _, body = await asyncio.to_thread(_get, f"{base}/v2/other")
        assert status == 404 and body == b"unknown path\n"
        status, _, _ = await asyncio.to_thread(_get, f"{base}/")  # the socket path, no upgrade
        assert status == 426
        status, _, body = await asyncio.to_thread(_get, f"{sim.details_url}?x=1")
        assert status == 200 and json.loads(body)
        # REST requests are not WebSocket connections: none was counted or rate-limited
        assert sim.legacy.stats.connections == 0 and sim.legacy.stats.refused_rate_limit == 0
