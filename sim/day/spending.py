"""Spending per cardholder-day: the scenario's inputs, the habit's prediction and the day's
measure, side by side.

The scenario's rates are payments TRIED by card (`sim.city.steady`). The day pays fewer: a
payment larger than the balance is refused (its owner pays cash and goes to load), which a CNY
30 purchase against purses kept between CNY 5 and CNY 55 often is. So each kind has three
figures: the input (the rate, and the rate at list prices), the prediction (the steady-state
habit's chain: tried, paid, refused, fen paid) and the measure (this day's demand taps tried,
card payments made, fen paid). Transit counts trips in the input and the prediction, but
boardings in the measure (a transfer is a second boarding; a metro journey is its entry), and a
metro journey's entry and exit are both records, so transit's measured payments are left out.
"""

from __future__ import annotations

from sim.city import SECTORS
from sim.city.balances import HABIT_KINDS
from sim.city.steady import habit
from sim.day.shards import RunResult
from sim.table import Row, Table

SPENDING_COLUMNS = [
    "kind",
    "input_per_day",
    "input_fen_per_day",
    "predicted_tried_per_day",
    "predicted_paid_per_day",
    "predicted_refused_per_day",
    "predicted_paid_fen_per_day",
    "measured_tried_per_day",
    "measured_paid_per_day",
    "measured_not_paid_per_day",
    "measured_paid_fen_per_day",
]
_SECTORS_OF = {"transit": ("bus", "metro"), "taxi": ("taxi",), "retail": ("retail",)}


def measured(run: RunResult) -> dict[str, tuple[float, float | None, float]]:
    """Per kind: (tried, paid or None for transit, fen paid), per simulated citizen-day."""
    tries = run.tries()
    holders = max(1, run.citizens)
    out: dict[str, tuple[float, float | None, float]] = {}
    for kind, sectors in _SECTORS_OF.items():
        rows = [SECTORS.index(x) for x in sectors]
        tried = sum(tries.get(x, 0) for x in sectors) / holders
        paid = None if kind == "transit" else float(run.metrics.tx_count[rows].sum()) / holders
        out[kind] = (tried, paid, float(run.metrics.tx_fen[rows].sum()) / holders)
    return out


def spending_table(run: RunResult) -> Table:
    h = habit(run.scenario)
    got = measured(run)
    rows: list[Row] = []
    for name in HABIT_KINDS:
        k = h.kind(name)
        tried, paid, fen = got[name]
        rows.append(
            (
                name,
                _r(k.input_per_day),
                _r(k.input_fen),
                _r(k.attempts_per_day),
                _r(k.paid_per_day),
                _r(k.refused_per_day),
                _r(k.paid_fen),
                _r(tried),
                None if paid is None else _r(paid),
                None if paid is None else _r(tried - paid),
                _r(fen),
            )
        )
    rows.append(
        (
            "all",
            None,
            _r(h.input_spend_fen),
            None,
            None,
            _r(h.refused_per_day),
            _r(h.spend_fen),
            None,
            None,
            None,
            _r(sum(fen for _t, _p, fen in got.values())),
        )
    )
    return SPENDING_COLUMNS, rows


def spending_line(run: RunResult) -> str:
    """The summary's line: spending input, predicted and measured, and the shops' purchases."""
    h = habit(run.scenario)
    got = measured(run)
    shop = h.kind("retail")
    _tried, shop_paid, shop_fen = got["retail"]
    total_fen = sum(fen for _t, _p, fen in got.values())
    return (
        f"card spending per cardholder-day: input CNY {h.input_spend_fen / 100:.2f} (rates at list prices), "
        f"predicted CNY {h.spend_fen / 100:.2f}, measured CNY {total_fen / 100:.2f}; shop purchases tried "
        f"{shop.input_per_day:.3f} (input), paid {shop.paid_per_day:.4f} predicted, {shop_paid or 0.0:.4f} "
        f"measured (CNY {shop.paid_fen / 100:.2f} and {shop_fen / 100:.2f} of "
        f"CNY {shop.input_fen / 100:.2f}: the rest refused for want of balance; spending.csv)"
    )


def _r(x: float) -> float:
    return round(x, 5)
