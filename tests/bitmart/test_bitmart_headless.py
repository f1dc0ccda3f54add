"""`depthdesk feed --venue bitmart|bitmart-legacy --book-out` against the simulator; replay."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import pytest
from bitmart_helpers import fast_sim_config

from app.feeds.bitmart.replay import LegacyReplayer, V3Replayer
from app.feeds.bitmart.venues import register_bitmart_venues
from app.feeds.events import BookLevels, Reset, Trades
from app.sim.bitmart.server import BitmartSim


def _args(argv: list[str]) -> argparse.Namespace:
    from app.headless import feed

    register_bitmart_venues()
    parser = argparse.ArgumentParser()
    feed.add_arguments(parser)
    return parser.parse_args(argv)


async def _feed_against(sim: BitmartSim, argv: list[str]) -> int:
    from app.headless import feed

    async def freeze_later() -> None:
        await asyncio.sleep(0.8)
        sim.freeze()

    freezer = asyncio.create_task(freeze_later())
    result = await feed.run_async(_args(argv))
    await freezer
    return result


@pytest.mark.asyncio
async def test_feed_v3_book_out_matches_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "book.json"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart", "--url", sim.v3_url, "--symbol", "ETH_USDT"]
        argv += ["--topics", "spot/depth/increase100,spot/trade", "--duration", "1.3"]
        assert await _feed_against(sim, [*argv, "--book-out", str(out)]) == 0
        book = json.loads(out.read_text())
        truth = sim.truth("ETH_USDT")
    assert book["venue"] == "bitmart" and book["symbol"] == "ETH_USDT"
    assert book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["trades"] > 0 and book["reconnects"] == 0


@pytest.mark.asyncio
async def test_feed_legacy_book_out_matches_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "book.json"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart-legacy", "--url", sim.legacy_url, "--symbol", "BTC_USDT"]
        argv += ["--topics", "order,trade", "--duration", "1.3", "--book-out", str(out)]
        assert await _feed_against(sim, argv) == 0
        book = json.loads(out.read_text())
        truth = sim.truth("BTC_USDT", depth=20)
    assert book["venue"] == "bitmart-legacy"
    assert book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["last_trade"] is not None


def test_bad_topics_are_rejected_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    from app.headless import feed

    for venue, topic in (("bitmart", "spot/depth400"), ("bitmart-legacy", "kline:A_B:2")):
        args = _args(["--venue", venue, "--symbol", "A_B", "--topics", topic])
        assert asyncio.run(feed.run_async(args)) == 2
        assert "error" in capsys.readouterr().err


def test_replayers_rebuild_from_recorded_text() -> None:
    snapshot = {
        "data": [
            {
                "asks": [["2", "1"]],
                "bids": [["1", "1"]],
                "symbol": "S_T",
                "type": "snapshot",
                "version": 7,
                "ms_t": 1,
            }
        ],
        "table": "spot/depth/increase100",
    }
    v3 = V3Replayer()
    events = v3.apply(json.dumps(snapshot))
    assert isinstance(events[0], BookLevels) and events[0].snapshot
    assert isinstance(v3.reset("reconnected")[0], Reset)
    legacy = LegacyReplayer()
    trade = {
        "subscribe": "trade",
        "symbol": "A_B",
        "precision": 6,
        "data": {"trades": [{"side": "buy", "amount": "2", "price": "2", "count": "1", "time": 5}]},
    }
    first = legacy.apply(json.dumps(trade))
    assert isinstance(first[-1], Trades) and first[-1].snapshot
    assert legacy.apply(json.dumps(trade)) == []  # the repeat is a duplicate
    assert legacy.apply('{"subscribe":"pong"}') == []
