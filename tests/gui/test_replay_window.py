"""A recording played into the window (`depthdesk --replay FILE`): the same book as the headless
replay, the recording's symbols in the selector, a clear end-of-recording state."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from app.feeds.events import Event
from app.gui import venues
from app.gui.controller import SessionController
from app.gui.launch import replay_problem
from app.gui.main_window import MainWindow
from app.gui.runner import initial_spec
from app.gui.session import SessionSpec
from app.headless.replay import ReplayFeed
from app.state.market import MarketState
from tests.gui.conftest import demo_window, keep_artifact, wait_until

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bitmex" / "capture_2021-04-17.log"
SYM = "EOSM21"  # one tick wide at the end of the capture


async def headless_book(symbol: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The final book of `symbol` when the capture is replayed without a window."""
    state = MarketState("bitmex")

    def apply(event: Event) -> None:
        state.apply(event)

    await ReplayFeed(CAPTURE, apply, speed=0).run()
    book = state.book(symbol)
    return book.bids(), book.asks()


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_replay_into_the_window(
    tmp_path: Path, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    window = demo_window(tmp_path, "replay")
    assert isinstance(window, MainWindow)
    controller = SessionController(window)
    try:
        session = await controller.switch(SessionSpec(venues.REPLAY, SYM, str(CAPTURE), 0.0))
        assert session.venue == "bitmex"
        await wait_until(
            lambda: (
                (feed := session.bridge.feeds.get("bitmex")) is not None
                and feed.state == "down"
                and "end of recording" in feed.detail
            ),
            20,
            "the end of the recording",
        )
        bids, asks = await headless_book(SYM)
        book = session.state.book(SYM)
        assert bids and asks
        assert book.bids() == bids and book.asks() == asks
        ladder = window.feature("ladder")
        ladder.model.refresh()
        rows = ladder.model.rows()
        assert any(r.best_bid and r.price == bids[0][0] for r in rows)
        assert any(r.best_ask and r.price == asks[0][0] for r in rows)
        for r in rows:
            assert r.bid == book.size_at("Buy", r.price) and r.ask == book.size_at("Sell", r.price)
        await wait_until(lambda: "end of recording" in ladder.banner.text(), 5, "the end banner")
        assert ladder.banner.text() == f"{SYM} book is not live: feed down (end of recording)"
        assert window.venue_box.currentText() == "Replay"
        box = window.symbol_box
        assert {box.itemText(i) for i in range(box.count())} >= {"LTCUSD", "EOSM21", "DOGEUSDT"}
        assert window.windowTitle().endswith(f"Replay · {SYM}")
        picture = artifacts / "replay_window.png"
        assert window.grab().save(str(picture), "PNG")
        keep_artifact(picture)

        # another recorded symbol: the recording plays again for it
        box.setCurrentIndex(box.findText("LTCUSD"))
        box.activated.emit(box.currentIndex())
        await wait_until(
            lambda: controller.session is not None and controller.session.symbol == "LTCUSD",
            10,
            "the LTCUSD replay",
        )
        replayed = controller.session
        assert replayed is not None and replayed.spec.url == str(CAPTURE)
        assert replayed.spec.speed == 0.0
        await wait_until(lambda: bool(replayed.state.book("LTCUSD").bids()), 20, "LTCUSD book")
    finally:
        await window.run_shutdown_hooks()
        await controller.close()
        window.close()
        window.deleteLater()
    await asyncio.sleep(0.05)


def test_replay_argument_picks_the_recordings_first_symbol() -> None:
    args = argparse.Namespace(replay=str(CAPTURE), speed=4.0, symbol=None)
    spec = initial_spec(args, "live", "XBTUSD")
    assert isinstance(spec, SessionSpec)
    assert (spec.venue_key, spec.symbol, spec.url, spec.speed) == (
        venues.REPLAY,
        "EOSM21",  # the first symbol the capture names
        str(CAPTURE),
        4.0,
    )
    asked = initial_spec(
        argparse.Namespace(replay=str(CAPTURE), speed=1.0, symbol="ltcusd"), "", ""
    )
    assert isinstance(asked, SessionSpec) and asked.symbol == "LTCUSD"


def test_unplayable_recordings_are_refused_before_the_window_opens(tmp_path: Path) -> None:
    missing = argparse.Namespace(replay=str(tmp_path / "none.rec"), speed=1.0)
    problem = replay_problem(missing)
    assert problem is not None and problem.startswith("cannot read")
    header = tmp_path / "unknown.rec"
    header.write_text('{"depthdesk_recording": 1, "venue": "nowhere"}\n')
    problem = replay_problem(argparse.Namespace(replay=str(header), speed=1.0))
    assert problem is not None and "nowhere" in problem
    assert replay_problem(argparse.Namespace(replay=str(CAPTURE), speed=1.0)) is None
    assert replay_problem(argparse.Namespace(replay=None, speed=1.0)) is None
