"""An upload's delays are summed in plain Python to numpy's own float, to the last bit: the day's
delay totals are those of every earlier run."""

from __future__ import annotations

import random

import numpy as np

from sim.day.metrics import PAIRWISE_FROM, DayMetrics, _numpy_sum


def test_the_plain_sum_is_numpys_to_the_last_bit() -> None:
    rng = random.Random(1)
    for n in range(1, 3 * PAIRWISE_FROM):
        for _ in range(100):
            delays_s = [rng.uniform(0, 90_000) for _ in range(n)]
            assert _numpy_sum(delays_s) == float(np.array(delays_s).sum()), n


def test_uploads_fill_the_histogram_sum_and_max() -> None:
    metrics = DayMetrics()
    metrics.upload([0.0, 599.5, 600.0, 10**7])
    metrics.upload([])
    assert metrics.upload_delay_hist[0] == 2 and metrics.upload_delay_hist[1] == 1
    assert metrics.upload_delay_hist[-1] == 1 and metrics.upload_delay_hist.sum() == 4
    assert metrics.uploaded_records == 4 and metrics.upload_delay_max_s == 10**7
    assert metrics.upload_delay_sum_s == 0.0 + 599.5 + 600.0 + 10**7
