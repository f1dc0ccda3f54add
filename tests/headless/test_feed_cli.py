"""`depthdesk feed` against a loopback BitMEX-like server: book-out, events, exits, auth."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.cli import build_parser
from app.headless import feed
from headless.loopback import MiniBitmex, l2_row

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "CLIKEY", "cli-secret-value"


def parse(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def book(symbol: str = "XBTUSD") -> list[dict[str, Any]]:
    return [
        l2_row(symbol, 1, "Sell", 10, 100.5),
        l2_row(symbol, 2, "Sell", 20, 101.0),
        l2_row(symbol, 3, "Buy", 30, 100.0),
        l2_row(symbol, 4, "Buy", 40, 99.5),
    ]


TRADE = {
    "table": "trade",
    "action": "insert",
    "data": [
        {
            "timestamp": "2021-04-17T16:41:01.000Z",
            "symbol": "XBTUSD",
            "side": "Buy",
            "size": 5,
            "price": 100.5,
            "trdMatchID": "00000000-0000-0000-0000-000000000001",
            "grossValue": 1,
            "homeNotional": 0.1,
            "foreignNotional": 5,
        }
    ],
}
UPDATE = {
    "table": "orderBookL2",
    "action": "update",
    "data": [{"symbol": "XBTUSD", "id": 3, "side": "Buy", "size": 33}],
}
DELETE = {
    "table": "orderBookL2",
    "action": "delete",
    "data": [{"symbol": "XBTUSD", "id": 2, "side": "Sell"}],
}


async def drive(srv: MiniBitmex, messages: list[Any]) -> None:
    """Wait for the client's subscription, then send `messages`."""
    await srv.wait_for(lambda: bool(srv.conns) and len(srv.conns[-1].received) >= 1)
    await srv.wait_for(
        lambda: any(
            isinstance(m, dict) and m.get("op") == "subscribe" for m in srv.conns[-1].received
        )
    )
    await asyncio.sleep(0.05)
    for msg in messages:
        await srv.send(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_feed_book_out_and_events(tmp_path: Path, capfdbinary: Any) -> None:
    out = tmp_path / "book.json"
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book()
        args = parse(
            "feed", "--venue", "bitmex", "--url", srv.url, "--symbol", "XBTUSD",
            "--topics", "orderBookL2,trade", "--idle-exit", "0.3", "--events",
            "--book-out", str(out),
        )  # fmt: skip
        task = asyncio.create_task(feed.run_async(args))
        await drive(srv, [UPDATE, DELETE, TRADE])
        code = await asyncio.wait_for(task, 5)
    assert code == 0
    result = orjson.loads(out.read_bytes())
    assert result["venue"] == "bitmex" and result["symbol"] == "XBTUSD"
    assert result["bids"] == [[100.0, 33.0], [99.5, 40.0]]
    assert result["asks"] == [[100.5, 10.0]]
    assert result["trades"] == 1
    assert result["last_trade"]["price"] == 100.5
    assert result["reconnects"] == 0 and result["resyncs"] == 0
    assert result["dropped_before_partial"] == 0
    lines = capfdbinary.readouterr().out.splitlines()
    kinds = [orjson.loads(line)["kind"] for line in lines]
    assert kinds[0] == "status"
    assert {"status", "ack", "book", "trades"} <= set(kinds)
    assert kinds.count("book") == 3


@pytest.mark.asyncio
async def test_feed_duration_ends_cleanly_despite_traffic(tmp_path: Path) -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book()
        args = parse("feed", "--url", srv.url, "--symbol", "XBTUSD", "--duration", "0.3")

        async def chatter() -> None:
            while True:
                await asyncio.sleep(0.02)
                if srv.conns:
                    await srv.send(TRADE)

        noise = asyncio.create_task(chatter())
        code = await asyncio.wait_for(feed.run_async(args), 5)
        noise.cancel()
    assert code == 0


@pytest.mark.asyncio
async def test_feed_authenticates_from_environment(
    tmp_path: Path, capfdbinary: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPTHDESK_BITMEX_KEY", KEY)
    monkeypatch.setenv("DEPTHDESK_BITMEX_SECRET", SECRET)
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        args = parse(
            "feed", "--url", srv.url, "--symbol", "XBTUSD", "--topics", "order,margin",
            "--idle-exit", "0.3", "--events",
        )  # fmt: skip
        code = await asyncio.wait_for(feed.run_async(args), 5)
        assert srv.conns[0].authenticated
    assert code == 0
    output = capfdbinary.readouterr()
    events = [orjson.loads(line) for line in output.out.splitlines()]
    assert [e["success"] for e in events if e["kind"] == "auth"] == [True]
    assert {e["table"] for e in events if e["kind"] == "table"} == {"order", "margin"}
    assert SECRET.encode() not in output.out + output.err


@pytest.mark.asyncio
async def test_feed_rejected_credentials_exit_non_zero(
    capfd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPTHDESK_BITMEX_KEY", KEY)
    monkeypatch.setenv("DEPTHDESK_BITMEX_SECRET", "not-the-secret")
    async with MiniBitmex(key=KEY, secret=SECRET) as srv:
        args = parse("feed", "--url", srv.url, "--symbol", "XBTUSD", "--topics", "order")
        code = await asyncio.wait_for(feed.run_async(args), 5)
    assert code == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "authentication rejected" in err[0]
    assert "not-the-secret" not in err[0]


@pytest.mark.asyncio
async def test_private_topics_without_credentials_is_a_usage_error(
    capfd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEPTHDESK_BITMEX_KEY", raising=False)
    monkeypatch.delenv("DEPTHDESK_BITMEX_SECRET", raising=False)
    args = parse("feed", "--url", "ws://127.0.0.1:9/realtime", "--symbol", "X", "--topics", "order")
    assert await feed.run_async(args) == 2
    assert "DEPTHDESK_BITMEX_KEY" in capfd.readouterr().err


@pytest.mark.asyncio
async def test_two_book_tables_for_one_symbol_is_a_usage_error(capfd: Any) -> None:
    url = f"ws://127.0.0.1:{free_port()}/realtime"
    args = parse("feed", "--url", url, "--symbol", "XBTUSD", "--topics", "orderBookL2,orderBook10")
    assert await feed.run_async(args) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "one book table per symbol: orderBookL2:XBTUSD and orderBook10:XBTUSD" in err[0]


@pytest.mark.asyncio
async def test_unreachable_url_with_idle_exit_fails_with_one_line(capfd: Any) -> None:
    url = f"ws://127.0.0.1:{free_port()}/realtime"
    args = parse("feed", "--url", url, "--symbol", "XBTUSD", "--idle-exit", "0.3")
    assert await asyncio.wait_for(feed.run_async(args), 5) == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not connect" in err[0] and url in err[0]


def run_cli(*argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPTHDESK_BITMEX")}
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bad_url_exits_non_zero_with_one_line_subprocess() -> None:
    result = run_cli("feed", "--url", "http//no-scheme", "--symbol", "XBTUSD", "--idle-exit", "1")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid URL" in lines[0]
    assert result.stdout == ""


@pytest.mark.asyncio
async def test_idle_exit_ignores_heartbeat_pongs(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = feed.VENUES["bitmex"]

    def make_client(request: Any, on_event: Any, on_raw: Any) -> Any:
        client = spec.make_client(request, on_event, on_raw)
        client.handler.settings.watchdog_idle = 0.05
        return client

    monkeypatch.setitem(feed.VENUES, "bitmex", dataclasses.replace(spec, make_client=make_client))
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book()
        args = parse("feed", "--url", srv.url, "--symbol", "XBTUSD", "--idle-exit", "0.4")
        assert await asyncio.wait_for(feed.run_async(args), 5) == 0
        assert srv.conns[0].received.count("ping") >= 3


def test_build_request_urls_topics_and_venues() -> None:
    from app.feeds.bitmex.constants import LIVE_URL, TESTNET_URL

    spec, request = feed.build_request(parse("feed", "--symbol", "XBTUSD,ETHUSD"))
    assert spec.name == "bitmex" and request.url == LIVE_URL
    assert request.symbols == ["XBTUSD", "ETHUSD"]
    assert request.topics == ["orderBookL2", "trade", "quote", "instrument"]
    _, testnet = feed.build_request(parse("feed", "--testnet", "--symbol", "X"))
    assert testnet.url == TESTNET_URL
    assert feed.build_request(parse("feed", "--symbol", "X", "--duration", "0")) == (
        "--duration must be positive"
    )
    assert {"bitmex", "bitmart", "bitmart-legacy"} <= set(feed.VENUES)
    with pytest.raises(SystemExit):
        parse("feed", "--venue", "nowhere", "--symbol", "X")


def test_event_printer_stops_when_the_reader_goes_away() -> None:
    from app.feeds.events import Latency

    class Gone:
        def write(self, data: bytes) -> int:
            raise BrokenPipeError

        def flush(self) -> None:
            pass

    calls: list[int] = []
    printer = feed.EventPrinter(Gone(), on_closed=lambda: calls.append(1))
    printer(Latency("bitmex", 1.0))
    printer(Latency("bitmex", 2.0))
    assert printer.closed and calls == [1] and printer.count == 0


@pytest.mark.asyncio
async def test_refused_book_subscription_is_reported_and_fails(tmp_path: Path, capfd: Any) -> None:
    """A book topic the server refuses leaves no book: said on stderr, exit 1, never a silent
    empty `--book-out` with status 0."""
    from app.sim import SimConfig, SimServer

    out = tmp_path / "book.json"
    async with SimServer(SimConfig(seed=2, rate=100.0)) as sim:
        args = parse(
            "feed",
            "--url",
            sim.url,
            "--symbol",
            "XBTUSD",
            "--topics",
            "orderBookL2x,trade",
            "--idle-exit",
            "0.5",
            "--duration",
            "3",
            "--book-out",
            str(out),
        )
        assert await asyncio.wait_for(feed.run_async(args), 10) == 1
    err = capfd.readouterr().err
    assert "subscribe orderBookL2x:XBTUSD refused: Unknown table: orderBookL2x" in err
    assert "no book for XBTUSD" in err
    assert orjson.loads(out.read_bytes())["bids"] == []


@pytest.mark.asyncio
async def test_feed_book_out_with_several_symbols_writes_one_object_per_symbol(
    tmp_path: Path,
) -> None:
    async with MiniBitmex() as srv:
        srv.books["XBTUSD"] = book()
        srv.books["ETHUSD"] = book("ETHUSD")
        args = parse(
            "feed", "--url", srv.url, "--symbol", "XBTUSD,ETHUSD", "--topics", "orderBookL2",
            "--idle-exit", "0.3", "--book-out", str(tmp_path / "book-{symbol}.json"),
        )  # fmt: skip
        code = await asyncio.wait_for(feed.run_async(args), 5)
    assert code == 0
    for symbol in ("XBTUSD", "ETHUSD"):
        result = orjson.loads((tmp_path / f"book-{symbol}.json").read_bytes())
        assert isinstance(result, dict) and result["symbol"] == symbol
        assert result["bids"] and result["asks"]


@pytest.mark.asyncio
async def test_feed_book_out_with_several_symbols_needs_the_symbol_field(
    tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "book.json"
    args = parse(
        "feed", "--url", "ws://127.0.0.1:9/", "--symbol", "XBTUSD,ETHUSD",
        "--book-out", str(out),
    )  # fmt: skip
    assert await feed.run_async(args) == feed.EXIT_USAGE
    assert "{symbol}" in capsys.readouterr().err
    assert not out.exists()
