"""Per-APDU latency of any `CardChannel`: what the city twin records when it routes a
citizen's taps through a real reader ("real cards in the loop").

The twin's clock is simulated, a reader's is not: `LatencyChannel` measures the wall time each
exchange really took, so a scenario can put the measured service time of a PC/SC card next to
the modelled one of in-process cards. It keeps running totals and a bounded sample (the first
`SAMPLES_MAX` round trips) for percentiles, so a long day cannot grow it without limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from model.card import CardChannel

SAMPLES_MAX = 100_000


@dataclass(slots=True)
class LatencyStats:
    count: int = 0
    total_s: float = 0.0
    max_s: float = 0.0
    samples_s: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        assert seconds >= 0
        self.count += 1
        self.total_s += seconds
        self.max_s = max(self.max_s, seconds)
        if len(self.samples_s) < SAMPLES_MAX:
            self.samples_s.append(seconds)

    @property
    def mean_s(self) -> float:
        return self.total_s / self.count if self.count else 0.0

    def quantile_s(self, q: float) -> float:
        assert 0.0 <= q <= 1.0
        if not self.samples_s:
            return 0.0
        ordered = sorted(self.samples_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class LatencyChannel:
    """Any `CardChannel`, timing each exchange (failed ones too: a removal takes time)."""

    def __init__(self, inner: CardChannel) -> None:
        self.inner = inner
        self.stats = LatencyStats()

    def transmit(self, command: bytes) -> bytes:
        start = time.perf_counter()
        try:
            return self.inner.transmit(command)
        finally:
            self.stats.add(time.perf_counter() - start)
