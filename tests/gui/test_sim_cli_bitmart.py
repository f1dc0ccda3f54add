"""`depthdesk sim` serves BitMart v3 and legacy next to BitMEX from one market: the URLs are
printed, and a BitMart client's book has the BitMEX truth's price levels."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sim_serves_bitmart_next_to_bitmex_from_one_market(tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    book = tmp_path / "book.json"
    sim = subprocess.Popen(
        [
            sys.executable, "-m", "app", "sim", "--port", "0", "--symbols", "XBTUSD",
            "--rate", "300", "--seed", "5", "--freeze-after", "1.0", "--truth-out", str(truth),
        ],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "error"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sim.stdout is not None
    lines = [sim.stdout.readline() for _ in range(5)]
    assert lines[0].startswith("Simulated BitMEX realtime API at ws://127.0.0.1:")
    assert lines[3].startswith("BitMart v3 spot API at ws://127.0.0.1:")
    assert lines[4].startswith("BitMart legacy openws API at ws://127.0.0.1:")
    v3_url = lines[3].rsplit(" ", 1)[1].strip()
    assert v3_url.endswith("/api?protocol=1.1")
    feed = subprocess.run(
        [
            sys.executable, "-m", "app", "feed", "--venue", "bitmart", "--url", v3_url,
            "--symbol", "XBTUSD", "--duration", "2.0", "--book-out", str(book),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert feed.returncode == 0, feed.stderr
    sim.send_signal(signal.SIGINT)
    _, err = sim.communicate(timeout=10)
    assert sim.returncode == 0, err
    client, server = json.loads(book.read_text()), json.loads(truth.read_text())
    assert client["venue"] == "bitmart" and server["venue"] == "bitmex"
    depth = min(len(client["bids"]), len(client["asks"]), 20)
    assert depth >= 10
    # one market: the same price levels on both venues (sizes in each venue's own units)
    assert [p for p, _ in client["bids"][:depth]] == [p for p, _ in server["bids"][:depth]]
    assert [p for p, _ in client["asks"][:depth]] == [p for p, _ in server["asks"][:depth]]


def test_sim_without_bitmart_prints_only_bitmex() -> None:
    sim = subprocess.Popen(
        [sys.executable, "-m", "app", "sim", "--port", "0", "--no-bitmart", "--symbols", "XBTUSD"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sim.stdout is not None
    lines = [sim.stdout.readline() for _ in range(3)]
    assert lines[0].startswith("Simulated BitMEX realtime API")
    sim.send_signal(signal.SIGINT)
    out, err = sim.communicate(timeout=10)
    assert sim.returncode == 0, err
    assert "BitMart" not in out
