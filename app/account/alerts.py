"""Decide when the account deserves a notification: fills and positions near liquidation.

Qt-free; the GUI turns the returned `Alert`s into toasts and sounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

AlertKind = Literal["fill", "dms", "disconnect", "liquidation", "auth"]

#: default warning distance between mark price and liquidation price, in percent of the mark
DEFAULT_LIQUIDATION_DISTANCE_PCT = 5.0
#: a warned position is warned again only after moving this factor further away first
REARM_FACTOR = 1.5


@dataclass(frozen=True)
class Alert:
    """One notification: kind decides the icon/sound, title and text are shown."""

    kind: AlertKind
    title: str
    text: str
    urgent: bool = False


def _get(row: Any, *names: str) -> Any:
    for name in names:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if value is not None:
            return value
    return None


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fill_alerts(executions: Iterable[Any], seen: set[str]) -> list[Alert]:
    """Alerts for trade executions whose exec id is not in `seen` (which is updated)."""
    out: list[Alert] = []
    for row in executions:
        exec_id = _get(row, "exec_id", "execID")
        if exec_id is None or str(exec_id) in seen:
            continue
        seen.add(str(exec_id))
        if str(_get(row, "exec_type", "execType") or "Trade") != "Trade":
            continue
        qty = _num(_get(row, "last_qty", "lastQty", "qty"))
        px = _num(_get(row, "last_px", "lastPx", "price"))
        if not qty:
            continue
        side = _get(row, "side") or ""
        symbol = _get(row, "symbol") or ""
        price = f" @ {px:,.2f}" if px is not None else ""
        out.append(Alert("fill", f"Filled {side} {symbol}", f"{qty:,.0f}{price}"))
    return out


class LiquidationWatch:
    """Warns once when a position's mark price comes within `distance_pct` of liquidation."""

    def __init__(self, distance_pct: float = DEFAULT_LIQUIDATION_DISTANCE_PCT) -> None:
        self.distance_pct = distance_pct
        self._warned: set[str] = set()

    @staticmethod
    def distance_pct_of(position: Any) -> float | None:
        """|mark - liquidation| / mark in percent, None when not computable or flat."""
        qty = _num(_get(position, "qty", "current_qty", "currentQty"))
        if not qty:
            return None
        mark = _num(_get(position, "mark", "mark_price", "markPrice"))
        liq = _num(_get(position, "liq", "liquidation_price", "liquidationPrice"))
        if mark is None or liq is None or mark <= 0 or liq <= 0:
            return None
        return abs(mark - liq) / mark * 100.0

    def check(self, positions: Iterable[Any]) -> list[Alert]:
        out: list[Alert] = []
        open_now: set[str] = set()
        for pos in positions:
            symbol = str(_get(pos, "symbol") or "")
            dist = self.distance_pct_of(pos)
            if dist is None:
                continue
            open_now.add(symbol)
            if dist <= self.distance_pct and symbol not in self._warned:
                self._warned.add(symbol)
                liq = _num(_get(pos, "liq", "liquidation_price", "liquidationPrice"))
                out.append(
                    Alert(
                        "liquidation",
                        f"{symbol} near liquidation",
                        f"mark is {dist:.2f}% from the liquidation price {liq:,.2f}",
                        urgent=True,
                    )
                )
            elif dist > self.distance_pct * REARM_FACTOR:
                self._warned.discard(symbol)
        self._warned &= open_now
        return out
