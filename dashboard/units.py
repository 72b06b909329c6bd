"""The one formatting layer: every figure the page, the tables and the figures show.

A run's money is integer fen and its counts are whole-city numbers scaled up from a sample;
a stakeholder reads CNY with its magnitude (English: CNY 3.02B; Chinese: 30.2 亿元) and counts
with thousands separators (English: 1,234,567) or in 万 / 亿 with their measure word (Chinese:
123.5 万张). Nothing on the page divides by 100 or appends a unit by itself: it calls here, so
a unit cannot be missing or wrong in one place only. `parse_yuan` reads a shown amount back,
for the tests that compare the page with the run.
"""

from __future__ import annotations

import math
import re

from sim.rollout.result import KPI_MONEY_PER_YEAR

FEN_PER_YUAN = 100
# English magnitudes, largest first; Chinese ones count in 万 (1e4) and 亿 (1e8).
_EN_STEPS = ((1e9, "B"), (1e6, "M"))
_ZH_STEPS = ((1e8, "亿"), (1e4, "万"))
# The measure word a Chinese count takes, by KPI; English counts take none (the label names them).
_ZH_MEASURE = {"cardholders": "张", "recharge_points": "个", "terminals": "台", "service_windows": "个"}


def _sig(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant figures, never in exponent form: 3.02, 30.2, 302."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def _compact(value: float, steps: tuple[tuple[float, str], ...]) -> tuple[str, str]:
    """(number, magnitude suffix) of `value`: the largest step it reaches, else the whole number."""
    for size, suffix in steps:
        if abs(value) >= size:
            return _sig(value / size), suffix
    return f"{value:,.0f}", ""


def yuan(amount_fen: int | float, lang: str) -> str:
    """Money: 302_000_000_000 fen -> 'CNY 3.02B' / '30.2 亿元'; small amounts to the yuan."""
    value = amount_fen / FEN_PER_YUAN
    if lang == "zh":
        number, suffix = _compact(value, _ZH_STEPS)
        return f"{number} {suffix}元" if suffix else f"{number} 元"
    number, suffix = _compact(value, _EN_STEPS)
    return f"CNY {number}{suffix}"


def count(value: int | float, lang: str, kpi: str = "") -> str:
    """A count: 1_234_567 -> '1,234,567' / '123 万张' (the measure word of `kpi`, if it has one)."""
    if lang == "zh":
        number, suffix = _compact(value, _ZH_STEPS)
        measure = _ZH_MEASURE.get(kpi, "")
        return f"{number} {suffix}{measure}" if suffix else f"{number}{(' ' + measure) if measure else ''}"
    return f"{value:,.0f}"


def kpi_value(kpi: str, value: int | float, lang: str) -> str:
    """A target's or a month's figure in its unit: money KPIs are fen, the rest are counts."""
    return yuan(value, lang) if kpi in KPI_MONEY_PER_YEAR else count(value, lang, kpi)


def share(value: float) -> str:
    return f"{value:.0%}"


def seconds(value: float, lang: str) -> str:
    """A wait: '2.3 s' / '2.3 秒'; waits rest on few simulated customers, so one decimal."""
    return f"{value:,.1f} 秒" if lang == "zh" else f"{value:,.1f} s"


def signed(text: str) -> str:
    """A difference shown with its sign: '+CNY 3.02B', '-1,000'."""
    return text if text.startswith("-") or text.startswith("CNY -") else "+" + text


_EN_MONEY = re.compile(r"^CNY (-?[\d,.]+)([MB]?)$")
_ZH_MONEY = re.compile(r"^(-?[\d,.]+) ([万亿]?)元$")
_SCALE = {"": 1.0, "M": 1e6, "B": 1e9, "万": 1e4, "亿": 1e8}


def parse_yuan(text: str) -> float:
    """A shown amount back in yuan ('CNY 3.02B' -> 3.02e9); a text that is no amount raises."""
    match = _EN_MONEY.match(text.strip()) or _ZH_MONEY.match(text.strip())
    if match is None:
        raise ValueError(f"not an amount of money: {text!r}")
    return float(match.group(1).replace(",", "")) * _SCALE[match.group(2)]


def shown_precision(value_yuan: float) -> float:
    """How far a shown amount may be from the exact one: half a unit of its third figure."""
    if value_yuan == 0:
        return 0.5
    step: float = 10.0 ** (math.floor(math.log10(abs(value_yuan))) - 2)
    return max(0.5, 0.5 * step)
