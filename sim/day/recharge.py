"""A recharge point or service window as a queueing station: c positions, a bounded queue.

Citizens arrive, join the queue if it is not too long (else they turn away: balking), wait
for the earliest free position, are served, and leave. The service itself is a callable run
when the service starts; its duration comes from the caller. This one class is what the city
day uses and what the Erlang C validation test measures.

How queues scale with the sample (`Others`). A sampled day simulates a fraction `sample` of
the citizens and max(1, round(count x sample)) places, so the sampled arrivals at one simulated
place are a thinning, with probability p = sample x count / places, of the arrivals at ONE
full-scale place. Feeding them to the place's positions alone (what happens without `Others`)
under-loads it by 1/p, and the rounding makes the error jump with the sample: Hangzhou's 11
windows are one window carrying 11 x sample of the load until the sample reaches ~0.045. With
`Others`, each simulated place is one full-scale place with its full-scale positions, and the
customers the sample left out are put back: given the sampled arrivals, the unsampled ones are
an independent Poisson stream at (1 - p) / p times the sampled rate, estimated (without bias)
as (n - 1) / elapsed from the n sampled arrivals so far at all places of the kind since opening
(`Pace`; pooled because a sampled place sees few arrivals a day). These other customers are not
SimPy processes: the station is the Kiefer-Wolfowitz recursion of a FCFS c-server queue (when
each position falls free), so each costs a little arithmetic and no event, and at most
OTHERS_PER_ARRIVAL_MAX are added per sampled arrival. A sampled citizen is then a representative
customer of the full-scale queue: it waits what such a customer waits, and its load still runs
the real protocol once on the place's terminal. When rounding gives more places than count x
sample (p > 1) a sampled citizen joins with probability 1/p and otherwise takes the wait it
would have had without occupying a position (Poisson arrivals see time averages). At sample 1,
p = 1 and nobody is added. Their service times and arrivals come from the place's own seeded
stream, so the same scenario and seed give the same queues. Limits: the pace is the day's mean
so far, so the others follow the sampled arrivals' time-of-day profile only through it (a peak
is flattened to the running mean), and with `Others` one shard's queues no longer match one
process's to the fen.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

# Bounds the cost of a tiny sample: 10,000 others per arrival covers samples down to 1e-4.
OTHERS_PER_ARRIVAL_MAX = 10_000


@dataclass(slots=True)
class QueueStats:
    """The sampled citizens' waits and counts (the other customers are not counted)."""

    waits_s: list[float] = field(default_factory=list)
    served: int = 0
    balked: int = 0
    busy_s: float = 0.0
    others: int = 0  # unsampled customers put back into the queue
    others_balked: int = 0


@dataclass(slots=True)
class Pace:
    """Sampled arrivals so far at all `places` places of one kind: one estimate of the
    full-scale rate per place, pooled because a sampled place sees few arrivals a day."""

    places: int = 1
    arrivals: int = 0


@dataclass(frozen=True, slots=True)
class Others:
    """The unsampled customers of a full-scale place: each sampled arrival stands for 1/p."""

    p: float  # probability a real arrival at this place is a sampled one
    service_mean_s: float  # their service time is exponential with this mean
    seed: int | str = 0
    opens_s: float = 0.0  # the pace is counted from opening, not from midnight
    pace: Pace = field(default_factory=Pace)  # shared by the places of one kind

    def __post_init__(self) -> None:
        assert self.p > 0 and self.service_mean_s > 0


class ServicePoint:
    """One place with `positions` servers and room for `queue_limit` waiting people."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        positions: int,
        queue_limit: int,
        others: Others | None = None,
    ) -> None:
        assert positions >= 1 and queue_limit >= 0
        self.env = env
        self.name = name
        self.positions = positions
        self.queue_limit = queue_limit
        self.others = others
        self.stats = QueueStats()
        self._free_at = [0.0] * positions  # when each position falls free (c is small)
        self._starts: list[float] = []  # service start times of those still queued, a heap
        self._last_arrival = others.opens_s if others is not None else 0.0
        self._rng = random.Random(f"{name}/{others.seed}" if others is not None else name)

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

    def _put_back_others(self, now: float) -> None:
        """The unsampled arrivals since the last sampled one, in time order: a Poisson stream
        of (1 - p) / p times this kind of place's sampled pace since opening."""
        o = self.others
        if o is None or o.p >= 1:
            return
        o.pace.arrivals += 1
        elapsed = now - o.opens_s
        rate = 0.0
        if elapsed > 0:
            # n arrivals in (opening, now], the last at now: (n - 1) / elapsed is the unbiased
            # estimate of a Poisson rate (n / elapsed would flood the queue after a lucky
            # early arrival; its mean is infinite for n = 1).
            per_place = (o.pace.arrivals - 1) / (o.pace.places * elapsed)
            rate = (1.0 - o.p) / o.p * per_place
        if rate > 0:
            t = self._last_arrival
            for _ in range(OTHERS_PER_ARRIVAL_MAX):
                t += self._rng.expovariate(rate)
                if t >= now:
                    break
                if self._queued(t) >= self.queue_limit:
                    self.stats.others_balked += 1
                    continue
                self._join(t, self._rng.expovariate(1.0 / o.service_mean_s))
                self.stats.others += 1

    def visit(
        self, service_s: Callable[[int], float], serve: Callable[[int], Any]
    ) -> Generator[simpy.Event, Any, bool]:
        """A SimPy process body: queue, then be served at one of the positions (numbered from 0).
        `serve(position)` runs the transaction; returns False if the citizen balked."""
        now = float(self.env.now)
        self._put_back_others(now)
        self._last_arrival = now
        if self._queued(now) >= self.queue_limit:
            self.stats.balked += 1
            return False
        o = self.others
        observer = o is not None and o.p > 1 and self._rng.random() >= 1.0 / o.p
        if observer:
            # Counted in the place's load only with probability 1/p: look, do not occupy.
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
