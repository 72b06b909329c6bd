"""The citizen-card service centre as queues, and the data-exchange platform as a limit.

Seed 003: 11 service windows, the 96225 hotline and 20+ services (application, photo, card
production, enquiry, loss report, replacement, PIN change, data correction, medical write,
pass activation...). The windows are one SimPy resource of `windows` servers with one queue
(a ticket hall: the next free window calls the next number), the hotline another with
`hotline_agents`; a citizen who finds `queue_limit` waiting leaves (balks).

The centre runs at full city scale, not sampled: it is one place with few thousand visits a
day, so its queues are meaningful only at its real load. It runs once per day (in shard 0),
fed by the day's events at the scenario's city-wide rates: applications (with their photo),
the collection of produced cards, loss reports and replacements, failed cards, other services.

Card production needs an issuance check of each application against the population bases
(household, ID photo, social insurance) over the data-exchange platform, which moves
`exchange_records_per_hour` records an hour of which other departments take
`exchange_background_share`: checks queue for the platform's remaining throughput.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from scenarios.services_schema import Centre

KINDS = ("application", "issuance", "loss_report", "replacement", "failed_card", "other", "call")
_KINDS_BY_NAME = tuple(sorted(KINDS))
_KIND_RANK = {kind: rank for rank, kind in enumerate(_KINDS_BY_NAME)}
EXCHANGE_TICK_S = 60.0  # the platform is modelled minute by minute


@dataclass(slots=True)
class QueueStats:
    arrivals: int = 0
    served: int = 0
    balked: int = 0
    waits_s: list[float] = field(default_factory=list)


@dataclass(slots=True)
class CentreReport:
    queues: dict[str, QueueStats]
    checks_done: int = 0
    check_waits_s: list[float] = field(default_factory=list)
    exchange_records: int = 0
    exchange_capacity_records: int = 0


def _service_s(c: Centre, kind: str) -> float:
    return {
        "application": c.application_s + c.photo_s,  # the photo is taken at the same window
        "issuance": c.issuance_s,
        "loss_report": c.loss_report_s,
        "replacement": c.replacement_s,
        "failed_card": c.replacement_s,
        "other": c.other_service_s,
        "call": c.call_s,
    }[kind]


def _rates(c: Centre) -> dict[str, float]:
    """Visits a day by kind; half the loss reports come by phone (ASSUMPTION, with the table)."""
    return {
        "application": c.applications_per_day,
        "issuance": c.applications_per_day,  # ASSUMPTION: as many produced cards are collected as apply
        "loss_report": c.loss_reports_per_day,
        "replacement": c.loss_reports_per_day * c.replacement_share,
        "failed_card": c.failed_cards_per_day,
        "other": c.other_services_per_day,
        "call": c.hotline_calls_per_day,
    }


class ServiceCentre:
    """Windows, hotline and platform on one SimPy environment."""

    def __init__(self, env: simpy.Environment, c: Centre, windows: int, rng: np.random.Generator) -> None:
        """`windows`: the city's service windows (`[city] service_windows`, the count the e-purse's
        window top-ups use too)."""
        self.env, self.c, self.rng = env, c, rng
        self.windows = simpy.Resource(env, capacity=windows)
        self.hotline = simpy.Resource(env, capacity=c.hotline_agents)
        self.report = CentreReport({k: QueueStats() for k in KINDS})
        self._checks: list[float] = []  # arrival times of checks waiting for the platform

    def start(self) -> None:
        c = self.c
        open_s, close_s = c.open_h * 3600, c.close_h * 3600
        times, kinds = [], []
        for kind, per_day in _rates(c).items():
            n = int(self.rng.poisson(per_day))
            times.append(self.rng.uniform(open_s, close_s, n))
            kinds.append(np.full(n, _KIND_RANK[kind], np.int8))
        t_s, rank = np.concatenate(times), np.concatenate(kinds)
        order = np.lexsort((rank, t_s))  # by time, ties by kind's name: as (time, kind) tuples sort
        self.env.process(self._arrive(t_s[order], rank[order]))
        self.env.process(self._exchange(open_s))

    def _arrive(self, times_s: np.ndarray, ranks: np.ndarray) -> Generator[simpy.Event, Any, None]:
        # Arrays, not a day's (time, kind) tuples (~100 bytes each), until each is due.
        for t_s, rank in zip(times_s.tolist(), ranks.tolist(), strict=True):
            if t_s > self.env.now:
                yield self.env.timeout(t_s - self.env.now)
            self.env.process(self._visit(_KINDS_BY_NAME[rank]))

    def _visit(self, kind: str) -> Generator[simpy.Event, Any, None]:
        stats = self.report.queues[kind]
        stats.arrivals += 1
        resource = self.hotline if kind == "call" else self.windows
        if len(resource.queue) >= self.c.queue_limit:
            stats.balked += 1
            return
        arrived = self.env.now
        service_s = float(self.rng.exponential(_service_s(self.c, kind)))
        with resource.request() as turn:
            yield turn
            stats.waits_s.append(self.env.now - arrived)
            yield self.env.timeout(service_s)
        stats.served += 1
        if kind in ("application", "replacement", "failed_card"):
            self._checks.append(self.env.now)  # a card to produce: check the applicant's data

    def _exchange(self, open_s: float) -> Generator[simpy.Event, Any, None]:
        """Each minute the platform checks as many waiting cards as its spare throughput allows."""
        c = self.c
        spare_per_tick = (
            c.exchange_records_per_hour * (1 - c.exchange_background_share) * EXCHANGE_TICK_S / 3600
        )
        credit = 0.0
        yield self.env.timeout(open_s)
        while self.env.now < 24 * 3600 - EXCHANGE_TICK_S:
            yield self.env.timeout(EXCHANGE_TICK_S)
            credit = min(credit + spare_per_tick, spare_per_tick)  # unused throughput is not saved
            self.report.exchange_capacity_records += int(spare_per_tick)
            while self._checks and credit >= c.records_per_issuance_check:
                arrived = self._checks.pop(0)
                credit -= c.records_per_issuance_check
                self.report.checks_done += 1
                self.report.check_waits_s.append(self.env.now - arrived)
                self.report.exchange_records += c.records_per_issuance_check

    @property
    def checks_waiting(self) -> int:
        return len(self._checks)
