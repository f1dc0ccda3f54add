"""The whole window against the simulator (in-process, 127.0.0.1): live ladder, tape, candles,
positions; the ladder is checked against the book and the book against the simulator's truth."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.gui import venues
from app.gui.controller import SessionController
from app.gui.main_window import MainWindow
from app.gui.session import SessionSpec
from tests.gui.conftest import demo_window, keep_artifact, wait_until

SYM = "XBTUSD"


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_window_against_the_simulator(
    tmp_path: Path, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    loop_errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: loop_errors.append(ctx))
    window = demo_window(tmp_path, "e2e")
    assert isinstance(window, MainWindow)
    controller = SessionController(window)
    try:
        session = await controller.switch(SessionSpec(venues.DEMO, SYM))
        server = controller.sim.server
        assert server is not None and server.url.startswith("ws://127.0.0.1:")
        state = session.state
        ladder = window.feature("ladder")
        tape = window.feature("tape")
        chart = window.feature("chart")
        positions = window.feature("positions")

        await wait_until(
            lambda: (
                session.bridge.feeds.get("bitmex") is not None
                and session.bridge.feeds["bitmex"].state == "live"
            ),
            15,
            "a live feed",
        )
        await wait_until(
            lambda: (
                any(r.bid > 0 for r in ladder.model.rows())
                and any(r.ask > 0 for r in ladder.model.rows())
            ),
            15,
            "a live ladder",
        )
        await wait_until(lambda: tape.model.rowCount() >= 3, 15, "tape rows")
        await wait_until(lambda: chart.closed_item.count + chart.live_item.count > 0, 15, "candles")
        await wait_until(lambda: positions.model.rowCount() > 0, 15, "demo positions")
        assert state.auth is not None and state.auth.success

        # Freeze the market, let the last messages land, then compare exactly.
        server.freeze()
        await asyncio.sleep(0.6)
        book = state.book(SYM)
        truth = server.truth(SYM)
        assert [list(x) for x in book.bids()] == truth["bids"]
        assert [list(x) for x in book.asks()] == truth["asks"]
        await asyncio.sleep(0.1)
        ladder.model.refresh()
        rows = ladder.model.rows()
        assert len(rows) == ladder.model.rowCount() > 10
        shown = [r for r in rows if r.bid or r.ask]
        assert shown, "the ladder shows no sizes"
        for r in rows:
            assert r.bid == book.size_at("Buy", r.price)
            assert r.ask == book.size_at("Sell", r.price)
        best_bid, best_ask = book.best_bid(), book.best_ask()
        assert best_bid is not None and best_ask is not None
        assert any(r.best_bid and r.price == best_bid[0] for r in rows)
        assert any(r.best_ask and r.price == best_ask[0] for r in rows)
        assert tape.model.rows()[0].timestamp >= tape.model.rows()[-1].timestamp
        assert any("live" in text for text in window.status.indicator_texts())

        picture = artifacts / "e2e_window.png"
        assert window.grab().save(str(picture), "PNG")
        keep_artifact(picture)
        for name in window.dock_names():
            part = artifacts / f"e2e_dock_{name}.png"
            assert window.dock(name).grab().save(str(part), "PNG")
            keep_artifact(part)
        assert picture.stat().st_size > 20_000

        # The symbol list comes from the instrument table; picking ETHUSD switches the session
        # (same simulator) and every dock follows it.
        box = window.symbol_box
        await wait_until(lambda: box.findText("ETHUSD") >= 0, 10, "ETHUSD in the symbol list")
        server.exchange.frozen = False
        box.setCurrentIndex(box.findText("ETHUSD"))
        box.activated.emit(box.currentIndex())
        await wait_until(
            lambda: controller.session is not None and controller.session.symbol == "ETHUSD",
            10, "the ETHUSD session",
        )  # fmt: skip
        eth = controller.session
        assert eth is not None and eth is not session and controller.sim.server is server
        await wait_until(
            lambda: any(r.bid > 0 for r in ladder.model.rows()), 15, "an ETHUSD ladder"
        )
        assert window.windowTitle().endswith("ETHUSD")
        await wait_until(lambda: eth.state.instruments.tick_size("ETHUSD") is not None, 10, "tick")
        ladder.model.refresh()
        assert ladder.model.tick == eth.state.instruments.tick_size("ETHUSD")
    finally:
        await window.run_shutdown_hooks()
        await controller.close()
        window.close()
        window.deleteLater()
    await asyncio.sleep(0.05)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []
    assert loop_errors == []


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_burst_from_the_simulator_is_coalesced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5,000 market actions/s for 1.5 s: the window paints at most one frame per tick and the
    loop keeps running timers (the measured figures are printed, not asserted)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    window = demo_window(tmp_path, "b")
    assert isinstance(window, MainWindow)
    controller = SessionController(window)
    try:
        session = await controller.switch(SessionSpec(venues.DEMO, SYM))
        server = controller.sim.server
        assert server is not None
        ladder = window.feature("ladder")
        await wait_until(lambda: any(r.bid > 0 for r in ladder.model.rows()), 15, "a live ladder")
        frames: list[float] = []
        session.bridge.frame.connect(lambda _a: frames.append(time.monotonic()))
        events_before = session.bridge.events_received
        ladder_frames_before = ladder.model.frames
        lags: list[float] = []

        async def probe() -> None:
            while True:
                t = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - t - 0.01)

        prober = asyncio.get_running_loop().create_task(probe())
        started = time.monotonic()
        server.burst(5000, 1.5)
        await asyncio.sleep(2.0)
        elapsed = time.monotonic() - started
        prober.cancel()
        await asyncio.gather(prober, return_exceptions=True)
        events = session.bridge.events_received - events_before
        assert events > 1000
        interval = session.bridge.interval_ms / 1000.0
        assert len(frames) <= elapsed / interval + 3
        assert ladder.model.frames - ladder_frames_before <= len(frames) + elapsed / 0.033 + 3
        lags.sort()
        print(
            f"\nburst: {events} events in {elapsed:.2f}s, {len(frames)} frames, "
            f"ladder refreshes {ladder.model.frames - ladder_frames_before}, "
            f"timer lag p50 {lags[len(lags) // 2] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms"
        )
    finally:
        await controller.close()
        window.close()
        window.deleteLater()


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_status_bar_shows_ping_while_data_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window pings on a timer, so a busy feed still gets a round trip to show."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("app.gui.session.GUI_PING_INTERVAL_S", 0.3)
    window = demo_window(tmp_path, "ping")
    controller = SessionController(window)
    try:
        session = await controller.switch(SessionSpec(venues.DEMO, SYM))
        await wait_until(
            lambda: (
                session.bridge.feeds.get("bitmex") is not None
                and session.bridge.feeds["bitmex"].rtt_ms is not None
            ),
            10,
            "a ping round trip",
        )
        assert session.client.config.heartbeat_mode
    finally:
        await window.run_shutdown_hooks()
        await controller.close()
        window.close()
        window.deleteLater()
    await asyncio.sleep(0.05)
