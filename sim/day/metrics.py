"""What a day measures: taps by sector and hour, rejections, queue waits, upload delays.

Counts are of simulated taps; reports scale them by the citizens' sampling weight. Arrays are
fixed-size (sectors x 24 hours, upload-delay bins), so a day's metrics take the same memory
whatever the population.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from model.records import TransactionRecord
from sim.city import SECTORS

HOURS = 24
UPLOAD_DELAY_BIN_S = 600  # 10-minute bins
UPLOAD_DELAY_BINS = 6 * 48  # up to two days; later uploads land in the last bin


def _hour(t_s: float) -> int:
    return min(HOURS - 1, max(0, int(t_s // 3600)))


@dataclass(slots=True)
class DayMetrics:
    tx_count: np.ndarray = field(default_factory=lambda: np.zeros((len(SECTORS), HOURS), np.int64))
    tx_fen: np.ndarray = field(default_factory=lambda: np.zeros((len(SECTORS), HOURS), np.int64))
    rejected: Counter[str] = field(default_factory=Counter)
    torn: int = 0
    recharge_trips: int = 0
    recharge_gave_up: int = 0
    upload_delay_hist: np.ndarray = field(default_factory=lambda: np.zeros(UPLOAD_DELAY_BINS, np.int64))
    upload_delay_sum_s: float = 0.0
    upload_delay_max_s: float = 0.0
    uploaded_records: int = 0
    batches: int = 0
    duplicate_batches: int = 0
    late_batches: int = 0
    late_records: int = 0

    def tap(self, sector: int, t_s: float, record: TransactionRecord) -> None:
        h = _hour(t_s)
        self.tx_count[sector, h] += 1
        self.tx_fen[sector, h] += record.amount_fen

    def reject(self, reason: str) -> None:
        self.rejected[reason] += 1

    def upload(self, delays_s: list[float]) -> None:
        """One upload's records' delays. In plain Python: an online terminal's minute holds a
        few records, where numpy's set-up per call would cost more than the records."""
        if not delays_s:
            return
        hist = self.upload_delay_hist
        for delay_s in delays_s:
            hist[min(int(delay_s // UPLOAD_DELAY_BIN_S), UPLOAD_DELAY_BINS - 1)] += 1
        self.upload_delay_sum_s += _numpy_sum(delays_s)
        self.upload_delay_max_s = max(self.upload_delay_max_s, max(delays_s))
        self.uploaded_records += len(delays_s)

    def merge(self, other: DayMetrics) -> None:
        """Add another shard's metrics into these."""
        self.tx_count += other.tx_count
        self.tx_fen += other.tx_fen
        self.rejected.update(other.rejected)
        self.upload_delay_hist += other.upload_delay_hist
        self.upload_delay_max_s = max(self.upload_delay_max_s, other.upload_delay_max_s)
        for name in (
            "torn",
            "recharge_trips",
            "recharge_gave_up",
            "upload_delay_sum_s",
            "uploaded_records",
            "batches",
            "duplicate_batches",
            "late_batches",
            "late_records",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


PAIRWISE_FROM = 8  # numpy sums this many floats or more pairwise; fewer, one after another


def _numpy_sum(values_s: list[float]) -> float:
    """The float `np.sum` gives, to the last bit (the totals stay those of every earlier run):
    for a few values its own sequential loop from -0.0, for more numpy itself."""
    if len(values_s) >= PAIRWISE_FROM:
        return float(np.asarray(values_s, np.float64).sum())
    total = -0.0
    for value in values_s:
        total += value
    return total


def wait_summary(waits_s: list[float]) -> tuple[int, float, float]:
    """(count, mean, p95) of queue waits in seconds; zeros when nobody queued."""
    if not waits_s:
        return 0, 0.0, 0.0
    w = np.asarray(waits_s)
    return len(w), float(w.mean()), float(np.percentile(w, 95))
