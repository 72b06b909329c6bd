"""Per-point statistics of a sweep: mean and 95% confidence interval over the seeds.

The interval is Student's t: mean +- t(0.975, n - 1) * sd / sqrt(n), with sd the sample
standard deviation (n - 1 in the denominator), the textbook interval for the mean of n
independent replications. A run whose KPI is undefined (NaN: say, a rollout that never pays
back) is left out of that KPI's figures and counted in `n`; one run gives a mean and no
interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # no stubs installed here: read back as float

CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    n: int  # runs with a defined value
    mean: float
    sd: float
    half_width: float  # NaN with fewer than two runs

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """Mean and t confidence interval of the defined (non-NaN) values."""
    assert 0 < confidence < 1, confidence
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    n = len(x)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Interval(1, mean, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    t = float(stats.t.ppf((1 + confidence) / 2, n - 1))
    return Interval(n, mean, sd, t * sd / math.sqrt(n))
