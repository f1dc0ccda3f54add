"""`depthdesk feed --venue bitmart|bitmart-legacy --book-out` against the simulator; replay."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import pytest
from bitmart_helpers import (
    fast_gate,
    fast_sim_config,
    forget_shared_fetches,
    serve_then_freeze,
    unused_port_url,
)

from app.feeds.bitmart.replay import LegacyReplayer, V3Replayer
from app.feeds.bitmart.venues import register_bitmart_venues
from app.feeds.events import BookLevels, Reset, Trades
from app.sim.bitmart.server import BitmartSim


@pytest.fixture
def private_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own short connection gates instead of the process-wide 4 s one
    (which would make a second legacy test in this process wait, as it must in production)."""
    from app.feeds.bitmart import client_legacy, client_v3

    monkeypatch.setattr(client_legacy, "shared_gate", lambda url, kind: fast_gate())
    monkeypatch.setattr(client_v3, "shared_gate", lambda url, kind: fast_gate())


@pytest.fixture(autouse=True)
def _fresh_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_shared_fetches(monkeypatch)


def _args(argv: list[str]) -> argparse.Namespace:
    from app.headless import feed

    register_bitmart_venues()
    parser = argparse.ArgumentParser()
    feed.add_arguments(parser)
    return parser.parse_args(argv)


# The feed ends once nothing has arrived for this long: after the freeze, when the frozen
# market's last changes have been delivered. A safety cap ends a feed that never goes quiet.
END_ARGS = ["--idle-exit", "1.0", "--duration", "30"]


async def _feed_against(sim: BitmartSim, symbol: str, argv: list[str]) -> int:
    from app.headless import feed

    freezer = asyncio.create_task(serve_then_freeze(sim, symbol))
    result = await feed.run_async(_args([*argv, *END_ARGS]))
    await freezer
    return result


@pytest.mark.asyncio
@pytest.mark.usefixtures("private_gates")
async def test_feed_v3_book_out_matches_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "book.json"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart", "--url", sim.v3_url, "--symbol", "ETH_USDT"]
        argv += ["--topics", "spot/depth/increase100,spot/trade"]
        assert await _feed_against(sim, "ETH_USDT", [*argv, "--book-out", str(out)]) == 0
        book = json.loads(out.read_text())
        truth = sim.truth("ETH_USDT")
    assert book["venue"] == "bitmart" and book["symbol"] == "ETH_USDT"
    assert book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["trades"] > 0 and book["reconnects"] == 0


@pytest.mark.asyncio
@pytest.mark.usefixtures("private_gates")
async def test_feed_legacy_book_out_matches_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "book.json"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart-legacy", "--url", sim.legacy_url, "--symbol", "BTC_USDT"]
        argv += ["--topics", "order,trade", "--book-out", str(out)]
        assert await _feed_against(sim, "BTC_USDT", argv) == 0
        book = json.loads(out.read_text())
        truth = sim.truth("BTC_USDT", depth=20)
    assert book["venue"] == "bitmart-legacy"
    assert book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["last_trade"] is not None


@pytest.mark.asyncio
@pytest.mark.usefixtures("private_gates")
async def test_feed_legacy_default_topics_follow_the_symbols_precision_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """XBTUSD (tick 0.5) takes precisions 0..5: the default 6 is fitted to 5 from the
    simulator's symbol details, so the book arrives with no refusal."""
    out = tmp_path / "book.json"
    config = fast_sim_config()
    config.symbols = ["XBTUSD"]
    async with BitmartSim(config) as sim:
        argv = ["--venue", "bitmart-legacy", "--url", sim.legacy_url, "--symbol", "XBTUSD"]
        assert await _feed_against(sim, "XBTUSD", [*argv, "--book-out", str(out)]) == 0
        book = json.loads(out.read_text())
        truth = sim.truth("XBTUSD", depth=20, precision=5)
    assert capsys.readouterr().err == ""
    assert book["bids"] and book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["last_trade"] is not None


def test_bad_topics_are_rejected_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    from app.headless import feed

    for venue, topic in (
        ("bitmart", "spot/depth400"),
        ("bitmart-legacy", "kline:A_B:2"),
        ("bitmart", "spot/depth5,spot/depth/increase100"),
    ):
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


async def _record(sim: BitmartSim, symbol: str, argv: list[str], gap: bool = False) -> int:
    from app.headless import record

    register_bitmart_venues()
    parser = argparse.ArgumentParser()
    record.add_arguments(parser)
    injector = asyncio.create_task(serve_then_freeze(sim, symbol, gap=gap))
    result = await record.run_async(parser.parse_args([*argv, *END_ARGS]))
    await injector
    return result


async def _replay(path: Path, out: Path) -> int:
    from app.headless import replay

    parser = argparse.ArgumentParser()
    replay.add_arguments(parser)
    args = parser.parse_args([str(path), "--speed", "0", "--book-out", str(out)])
    return await replay.run_async(args)


@pytest.mark.asyncio
@pytest.mark.usefixtures("private_gates")
async def test_v3_record_then_replay_rebuilds_the_book_across_a_gap(tmp_path: Path) -> None:
    rec = tmp_path / "v3.rec"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart", "--url", sim.v3_url, "--symbol", "ETH_USDT"]
        argv += ["--topics", "spot/depth/increase100,spot/trade", "--out", str(rec)]
        assert await _record(sim, "ETH_USDT", argv, gap=True) == 0
        truth = sim.truth("ETH_USDT")
    assert await _replay(rec, tmp_path / "book.json") == 0
    book = json.loads((tmp_path / "book.json").read_text())
    assert book["venue"] == "bitmart"
    assert book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["resyncs"] == 1


@pytest.mark.asyncio
@pytest.mark.usefixtures("private_gates")
async def test_legacy_record_then_replay(tmp_path: Path) -> None:
    rec = tmp_path / "legacy.rec"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart-legacy", "--url", sim.legacy_url, "--symbol", "BTC_USDT"]
        argv += ["--topics", "order:BTC_USDT:1,trade", "--out", str(rec)]
        assert await _record(sim, "BTC_USDT", argv) == 0
        truth = sim.truth("BTC_USDT", "bitmart-legacy", precision=1)
    assert await _replay(rec, tmp_path / "book.json") == 0
    book = json.loads((tmp_path / "book.json").read_text())
    assert book["venue"] == "bitmart-legacy"
    assert book["bids"] == truth["bids"] and book["asks"] == truth["asks"]
    assert book["last_trade"] is not None


@pytest.mark.asyncio
@pytest.mark.usefixtures("private_gates")
async def test_feed_blames_the_refusal_not_the_details_warning_for_an_empty_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.feeds.bitmart import client_legacy
    from app.headless import feed

    monkeypatch.setattr(client_legacy, "symbols_details_url", lambda url: unused_port_url())
    out = tmp_path / "book.json"
    async with BitmartSim(fast_sim_config()) as sim:
        argv = ["--venue", "bitmart-legacy", "--url", sim.legacy_url, "--symbol", "BTC_USDT"]
        argv += ["--topics", "order:BTC_USDT:11", "--book-out", str(out), "--duration", "2"]
        assert await feed.run_async(_args(argv)) == feed.EXIT_FATAL
    lines = capsys.readouterr().err.strip().splitlines()
    assert any("symbol details unavailable" in line for line in lines[:-1])  # warned first
    assert lines[-1].startswith("depthdesk: error: no book for BTC_USDT: error: precision 11")
