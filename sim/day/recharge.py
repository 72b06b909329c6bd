"""A recharge point or service window as a queueing station: c positions, a bounded queue.

Citizens arrive, join the queue if it is not too long (else they turn away: balking), wait
for the earliest free position, are served, and leave. The service itself is a callable run
when the service starts; its duration comes from the caller. This one class is what the city
day uses and what the Erlang C validation test measures.

How queues scale with the sample (`Background`). A sampled day simulates a fraction `sample` of
the citizens and max(1, round(count x sample)) places. Fed only the sampled citizens, a place
carries 1/p too little load (p = sample x count / places), and the rounding makes the error jump
with the sample: Hangzhou's 11 windows become one window carrying 11 x sample of the load until
the sample reaches ~0.045. With `Background`, each simulated place is ONE full-scale place with
its full-scale positions, and its queue carries the whole city's customers of that place:

- The customers are a Poisson stream whose rate is the scenario's full-scale demand at one
  place by quarter-hour (`sim.day.recharge_demand`: the steady-state top-up habit, the sectors'
  time-of-day profiles and the walk), known before the day runs. It is not estimated from the
  sampled arrivals: a window sees a handful of sampled citizens a day, and an estimate made of
  them moved with the sample and differed between shards.
- The stream is seeded by the run's seed and the place's name only. Every shard hosts every
  place (each with its own replica of the place's terminals), and every shard's copy of a place
  draws the same stream: the queue a citizen meets does not depend on the sharding.
- A sampled citizen is an observer of that queue (Poisson arrivals see time averages): it
  waits what a customer arriving then would wait, for the position that falls free first, and
  its load runs the real protocol on that position's terminal, but it does not occupy the
  position; it is already counted in the stream's rate. So a citizen's wait depends on the
  scenario, the seed, its place and its arrival time alone, never on which other citizens were
  sampled or put in its shard, and the day's money is the same for any number of shards.
- The stream's customers are arithmetic, not SimPy processes: the station is the
  Kiefer-Wolfowitz recursion of a FCFS c-server queue (when each position falls free). One who
  finds `queue_limit` waiting turns away and comes back `retry_s` later, at most `attempts_max`
  times, as the twin's citizens do, so an overloaded place fills with its own retries. The stream
  is advanced lazily to each sampled arrival, its next arrival kept (not redrawn), so its path is
  one seeded sequence whatever the times it is looked at. `close` runs it to the day's end; its
  service time by position is the load terminals' busy time (`CityDay`).
Checked by tests/sim/day/test_sample_invariance.py (one place, against Erlang C), by
tests/sim/day/test_twin_queues.py (the whole day at three samples, against a Lindley oracle) and
by tests/sim/day/test_shard_table.py (queues, hours and funding equal with 1 and 2 shards).
Limits: the rate is the steady state's expected demand, not this day's realised top-ups; and a
sampled citizen does not delay the next, which at sample 1 leaves the citizens' own bunching out.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

# Bounds the cost of a place's stream per sampled arrival (a full-scale day at one recharge
# point is a few hundred customers; this is a guard against a scenario typo).
BACKGROUND_PER_ARRIVAL_MAX = 1_000_000


@dataclass(slots=True)
class QueueStats:
    """The sampled citizens' waits and counts (the background customers only as counts)."""

    waits_s: list[float] = field(default_factory=list)
    served: int = 0
    balked: int = 0
    busy_s: float = 0.0
    others: int = 0  # background customers served
    others_balked: int = 0  # background customers turned away (each attempt)
    others_busy_s: list[float] = field(default_factory=list)  # their service time, by position


@dataclass(frozen=True, slots=True)
class Background:
    """The full-scale customers of one place: a Poisson stream at `rate_per_s[k]` over the k-th
    bin of `bin_s` seconds (zero after the last bin), exponential service of `service_mean_s`."""

    rate_per_s: tuple[float, ...]
    bin_s: float
    service_mean_s: float
    seed: int | str = 0
    retry_s: float = 1800.0  # a customer turned away comes back this much later
    attempts_max: int = 3

    def __post_init__(self) -> None:
        assert self.bin_s > 0 and self.service_mean_s > 0 and self.attempts_max >= 1
        assert all(r >= 0 for r in self.rate_per_s)


class ServicePoint:
    """One place with `positions` servers and room for `queue_limit` waiting people; with a
    `background`, one full-scale place whose sampled visitors observe its queue."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        positions: int,
        queue_limit: int,
        background: Background | None = None,
    ) -> None:
        assert positions >= 1 and queue_limit >= 0
        self.env = env
        self.name = name
        self.positions = positions
        self.queue_limit = queue_limit
        self.background = background
        self.stats = QueueStats()
        self._free_at = [0.0] * positions  # when each position falls free (c is small)
        self._starts: list[float] = []  # service start times of those still queued, a heap
        self._rng = random.Random(f"{name}/{background.seed}" if background is not None else name)
        self._retries: list[tuple[float, int]] = []  # (when, attempt) of those coming back, a heap
        self._next_s = self._arrival_after(0.0) if background is not None else math.inf
        self.stats.others_busy_s = [0.0] * positions

    def _queued(self, t: float) -> int:
        while self._starts and self._starts[0] <= t:
            heapq.heappop(self._starts)
        return len(self._starts)

    def _join(self, t: float, duration: float) -> tuple[float, int]:
        """FCFS: return (service start, position). An idle position if there is one (the one
        freed last, as a stack of free positions gives it), else the one that falls free first."""
        start, position = self._position(t)
        self._free_at[position] = start + duration
        if start > t:
            heapq.heappush(self._starts, start)
        return start, position

    def _position(self, t: float) -> tuple[float, int]:
        free_at = self._free_at
        idle = [k for k in range(self.positions) if free_at[k] <= t]
        if idle:
            return t, max(idle, key=lambda k: (free_at[k], -k))
        k = min(range(self.positions), key=lambda k: (free_at[k], k))
        return free_at[k], k

    def _arrival_after(self, t: float) -> float:
        """The stream's next arrival after t: exponential gaps at each bin's rate, restarted at
        a bin's end (exact for a piecewise-constant rate: the gaps are memoryless)."""
        b = self.background
        assert b is not None
        k = int(t // b.bin_s)
        while k < len(b.rate_per_s):
            end = (k + 1) * b.bin_s
            rate = b.rate_per_s[k]
            if rate > 0:
                t += self._rng.expovariate(rate)
                if t < end:
                    return t
            t, k = end, k + 1
        return math.inf

    def close(self, at_s: float) -> None:
        """The stream's customers up to `at_s` (the day's end), so its counts and busy time are
        the whole day's, not only up to the last sampled visit."""
        self._advance_background(at_s)

    def _advance_background(self, now: float) -> None:
        """Every background arrival (new or coming back) before `now`, in time order."""
        b = self.background
        if b is None:
            return
        for _ in range(BACKGROUND_PER_ARRIVAL_MAX):
            retry = self._retries[0][0] if self._retries else math.inf
            t = min(self._next_s, retry)
            if t >= now:
                return
            if retry <= self._next_s:
                attempt = heapq.heappop(self._retries)[1]
            else:
                attempt, self._next_s = 1, self._arrival_after(self._next_s)
            if self._queued(t) >= self.queue_limit:
                self.stats.others_balked += 1
                if attempt < b.attempts_max:
                    heapq.heappush(self._retries, (t + b.retry_s, attempt + 1))
                continue
            duration = self._rng.expovariate(1.0 / b.service_mean_s)
            position = self._join(t, duration)[1]
            self.stats.others_busy_s[position] += duration
            self.stats.others += 1
        raise AssertionError(f"{self.name}: over {BACKGROUND_PER_ARRIVAL_MAX} customers between two visits")

    def visit(
        self, service_s: Callable[[int], float], serve: Callable[[int], Any]
    ) -> Generator[simpy.Event, Any, bool]:
        """A SimPy process body: queue, then be served at one of the positions (numbered from 0).
        `serve(position)` runs the transaction; returns False if the citizen balked."""
        now = float(self.env.now)
        self._advance_background(now)
        if self._queued(now) >= self.queue_limit:
            self.stats.balked += 1
            return False
        if self.background is not None:
            # An observer of the full-scale queue: waits for the position that falls free first
            # and does not occupy it (the stream's rate counts it already).
            start, position = self._position(now)
            duration = service_s(position)
        else:
            # The duration is needed to know when the position falls free; the callable is
            # asked for it with the position the citizen will get.
            position = self._position(now)[1]
            duration = service_s(position)
            start, _ = self._join(now, duration)
        if start > now:
            yield self.env.timeout(start - now)
        self.stats.waits_s.append(start - now)
        serve(position)
        yield self.env.timeout(duration)
        self.stats.busy_s += duration
        self.stats.served += 1
        return True
