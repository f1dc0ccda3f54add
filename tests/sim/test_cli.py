"""`depthdesk sim` runs until SIGTERM/SIGINT, prints URL and demo credentials, writes truth."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.sim import cli
from app.sim.config import FaultSpec

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import argparse, sys\n"
    "from app.sim import cli\n"
    "p = argparse.ArgumentParser()\n"
    "cli.add_arguments(p)\n"
    "sys.exit(cli.run(p.parse_args(sys.argv[1:])))\n"
)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_arguments_parse() -> None:
    args = _parse(
        "--port",
        "0",
        "--seed",
        "9",
        "--rate",
        "2000",
        "--symbols",
        "xbtusd,ETHUSD,SOLUSD",
        "--accounts",
        "k1:s1,k2:s2",
        "--freeze-after",
        "3",
        "--heartbeat-close",
        "1.5",
        "--conn-limit",
        "10",
        "--faults",
        "drop@5,stall@6:2,delay-partials@0:1",
        "--burst",
        "8000:1.5@12",
    )
    assert args.burst == (8000.0, 1.5, 12.0)
    assert args.symbols == ["XBTUSD", "ETHUSD", "SOLUSD"]
    assert args.accounts == [("k1", "s1"), ("k2", "s2")]
    assert args.faults == [
        FaultSpec("drop", 5.0),
        FaultSpec("stall", 6.0, ("2",)),
        FaultSpec("delay-partials", 0.0, ("1",)),
    ]
    with pytest.raises(SystemExit):
        _parse("--faults", "explode@1")
    with pytest.raises(SystemExit):
        _parse("--accounts", "nosecret")
    with pytest.raises(SystemExit):
        _parse("--burst", "fast")


def _start_sim(*argv: str, entry: list[str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    command = entry if entry is not None else [sys.executable, "-m", "app", "sim"]
    return subprocess.Popen(
        [*command, *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("sig", "entry"),
    [
        (signal.SIGTERM, [sys.executable, "-c", RUNNER]),
        (signal.SIGINT, None),  # through `depthdesk` (python -m app) itself
    ],
)
def test_runs_until_signal_then_writes_truth(
    tmp_path: Path, sig: signal.Signals, entry: list[str] | None
) -> None:
    truth = tmp_path / "truth.json"
    proc = _start_sim(
        "--port",
        "0",
        "--symbols",
        "XBTUSD",
        "--accounts",
        "demoKey:demoSecret",
        "--freeze-after",
        "0.2",
        "--truth-out",
        str(truth),
        entry=entry,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(3)]
    assert lines[0].startswith("Simulated BitMEX realtime API at ws://127.0.0.1:")
    assert "demoKey" in lines[2] and "demoSecret" in lines[2]
    time.sleep(0.4)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert err == ""
    assert "Truth written" in out
    data = json.loads(truth.read_text())
    assert data["symbol"] == "XBTUSD" and data["venue"] == "bitmex"
    assert data["bids"] and data["asks"] and data["bids"][0][0] < data["asks"][0][0]


def test_feed_book_out_equals_sim_truth_out(tmp_path: Path) -> None:
    """The documented check: any client's final book against the simulator's own."""
    truth = tmp_path / "truth.json"
    book = tmp_path / "book.json"
    sim = _start_sim(
        "--port", "0", "--symbols", "XBTUSD", "--rate", "300", "--seed", "4",
        "--freeze-after", "1.2", "--truth-out", str(truth),
    )  # fmt: skip
    assert sim.stdout is not None
    url = sim.stdout.readline().split(" at ")[1].split(" ")[0]
    feed = subprocess.run(
        [
            sys.executable, "-m", "app", "feed", "--url", url, "--symbol", "XBTUSD",
            "--topics", "orderBookL2", "--duration", "2.0", "--book-out", str(book),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert feed.returncode == 0, feed.stderr
    sim.send_signal(signal.SIGINT)
    _, err = sim.communicate(timeout=10)
    assert sim.returncode == 0, err
    client, server = json.loads(book.read_text()), json.loads(truth.read_text())
    assert client["bids"] == server["bids"] and client["asks"] == server["asks"]
    assert len(server["bids"]) > 10


def test_bitmart_legacy_feed_with_default_topics_gets_a_book(tmp_path: Path) -> None:
    """`depthdesk sim` names the BitMart symbols and the legacy symbol details URL; the legacy
    feed learns XBTUSD's precision range (0..5) there instead of sending its default 6."""
    book = tmp_path / "book.json"
    sim = _start_sim("--port", "0", "--symbols", "XBTUSD", "--rate", "300")
    try:
        assert sim.stdout is not None
        lines = [sim.stdout.readline() for _ in range(7)]
        assert lines[4].startswith("BitMart legacy openws API at ws://127.0.0.1:")
        legacy_url = lines[4].rsplit(" ", 1)[1].strip()
        assert lines[5] == "BitMart symbols (v3 and legacy): XBTUSD\n"
        port = legacy_url.rsplit(":", 1)[1].strip("/")
        details_url = f"http://127.0.0.1:{port}/v2/symbols_details"
        assert lines[6] == f"BitMart legacy symbol details at {details_url}\n"
        with urllib.request.urlopen(details_url, timeout=5) as reply:
            rows = json.loads(reply.read())
        assert [(r["id"], r["price_min_precision"], r["price_max_precision"]) for r in rows] == [
            ("XBTUSD", 0, 5)
        ]
        command = [
            sys.executable, "-m", "app", "feed", "--venue", "bitmart-legacy", "--url", legacy_url,
            "--symbol", "XBTUSD",
        ]  # fmt: skip
        feed = subprocess.run(
            [*command, "--duration", "3", "--book-out", str(book)],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert feed.returncode == 0, feed.stderr
        assert feed.stderr == ""
        data = json.loads(book.read_text())
        assert data["venue"] == "bitmart-legacy" and data["symbol"] == "XBTUSD"
        assert data["bids"] and data["asks"] and data["bids"][0][0] < data["asks"][0][0]
        assert all((price * 2).is_integer() for price, _ in data["bids"] + data["asks"])
        # a precision the symbol does not offer is a usage error, before connecting
        bad = subprocess.run(
            [*command, "--topics", "order:XBTUSD:6", "--duration", "3"],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert bad.returncode == 2
        assert bad.stderr.strip().splitlines() == [
            "depthdesk feed: error: precision 6 of XBTUSD outside its range 0..5: order:XBTUSD:6"
        ]
    finally:
        sim.send_signal(signal.SIGINT)
        _, err = sim.communicate(timeout=10)
    assert sim.returncode == 0, err
    assert err == ""
