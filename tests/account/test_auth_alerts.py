"""Auth error classification and the account alerts (fills, near-liquidation)."""

from __future__ import annotations

from typing import Any

import pytest

from app.account.alerts import LiquidationWatch, fill_alerts
from app.account.auth_errors import classify


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        ("Signature not valid.", 401, "bad_signature"),
        ("Invalid API Key.", 401, "wrong_key"),
        ("This key has expired.", 401, "expired"),
        ("authKeyExpires: request has expired", 401, "expired"),
        ("Nonce is not increasing. This nonce: 2, last nonce: 3", 400, "expired"),
        ("Access Denied: API key disabled", 403, "rejected"),
        ("", 401, "rejected"),
        (None, None, "rejected"),
        ("Rate limit exceeded, retry in 1 seconds.", 429, "rate_limited"),
        ("HTTP 401 (credentials rejected)", 401, "rejected"),
    ],
)
def test_classify(error: str | None, status: int | None, kind: str) -> None:
    problem = classify(error, status)
    assert problem.kind == kind
    assert problem.title and problem.hint
    assert (error or "") in problem.message() or not error


def test_message_names_status_and_text() -> None:
    msg = classify("Signature not valid.", 401).message()
    assert msg == "Bad signature — server said 401: Signature not valid."


def test_fill_alerts_once_per_trade() -> None:
    seen: set[str] = set()
    rows: list[dict[str, Any]] = [
        {
            "exec_id": "e1",
            "exec_type": "Trade",
            "side": "Buy",
            "symbol": "XBTUSD",
            "last_qty": 100.0,
            "last_px": 50000.5,
        },
        {"exec_id": "e2", "exec_type": "New", "side": "Buy", "symbol": "XBTUSD"},
        {
            "execID": "e3",
            "execType": "Trade",
            "side": "Sell",
            "symbol": "ETHUSD",
            "lastQty": 5,
            "lastPx": 3000,
        },
    ]
    alerts = fill_alerts(rows, seen)
    assert [a.title for a in alerts] == ["Filled Buy XBTUSD", "Filled Sell ETHUSD"]
    assert alerts[0].text == "100 @ 50,000.50"
    assert fill_alerts(rows, seen) == []


def test_liquidation_watch_warns_once_and_rearms() -> None:
    watch = LiquidationWatch(distance_pct=5.0)
    far = {"symbol": "XBTUSD", "qty": 100, "mark": 50000.0, "liq": 40000.0}
    near = {"symbol": "XBTUSD", "qty": 100, "mark": 50000.0, "liq": 48000.0}
    assert watch.check([far]) == []
    alerts = watch.check([near])
    assert len(alerts) == 1 and alerts[0].kind == "liquidation" and alerts[0].urgent
    assert "4.00%" in alerts[0].text
    assert watch.check([near]) == []  # no repeat while still close
    assert watch.check([{**near, "liq": 46000.0}]) == []  # 8%: not yet re-armed (needs > 7.5%)
    watch.check([far])  # 20%: re-armed
    assert len(watch.check([near])) == 1
    flat = {"symbol": "XBTUSD", "qty": 0, "mark": 50000.0, "liq": 49990.0}
    assert watch.check([flat]) == []
    assert LiquidationWatch.distance_pct_of({"qty": 1, "mark": None, "liq": 1}) is None
