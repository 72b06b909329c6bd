"""Calendar months as a rollout counts them: `YYYY-MM` strings.

A rollout moves a month at a time, and every date a plan names (a phase's end, a target's due
month, a milestone) is a whole month. Written as zero-padded `YYYY-MM`, months sort as text in
calendar order, so comparing two months is comparing two strings.
"""

from __future__ import annotations

import re

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def is_month(text: str) -> bool:
    return bool(MONTH.match(text))


def next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


def month_range(start: str, end: str) -> list[str]:
    """Months from start to end inclusive."""
    out = []
    month = start
    while month <= end:
        out.append(month)
        month = next_month(month)
    return out
