"""The verify campaign: many seeded city periods with faults injected everywhere, and the money
checked after every night (in the style of TigerBeetle's simulator and FoundationDB's tests).

One seed runs a short period (`days` city days of a small sample of the default scenario) of
the real twin (`sim.day.twin.CityDay`, the real terminal applications, cards, PSAMs, load host,
banks) and the real back office (clearing house, ledger, settlement, reconciliation) over one
clearing database. Faults are drawn at random from streams named by seed, class and day, so a
seed replays exactly. The fault classes (`FAULTS`) are injected at the boundary where each
happens in the field: the campaign wraps the terminals' PSAMs, journals and clocks and the load
host's bank link (`sim.verify.injectors`) once, before the first day; the faulty day
(`sim.verify.faulty_day`) tears taps, mangles uploads and hotlists lost cards.

The campaign owns the seed: its world, its `GroundTruth` and its `Period` (`sim.verify.period`),
which runs the days and nights and checks the books after every night (`sim.verify.checks`:
the twin's own day invariants, the back office's reconciliation, money conservation across
cards, ledger, quarantine, terminals, uploads and banks, every cleared record genuine and
settled once, counters and serials that never go back, the hotlist honoured, no clone named).
Every violation is recorded, the period never stops early; a crash is a finding too.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from model.backoffice import LoadRequest, Registry
from model.terminal import PurchaseTerminal
from model.timefmt import encode_datetime
from scenarios.schema import Scenario, load
from sim.city import (
    Kind,
    Terminal,
    bank_of_point,
    build_registry,
    build_world,
    kind_of,
    registry_entries,
    terminal_number,
)
from sim.rng import keyed, stream
from sim.verify.bank_faults import with_bank_faults
from sim.verify.faulty_day import GroundTruth
from sim.verify.injectors import BankOutage, FlakyPsam, PowerCut, SkewedApp
from sim.verify.period import Period
from sim.verify.region_faults import REGION_FAULTS, run_region_seed
from sim.verify.report import FAULTS, SeedResult, VerifyError

DAYS_MAX = 14
SEEDS_MAX = 100_000
SAMPLE_DEFAULT = 0.0002  # ~400 citizens of the default scenario: a seed takes seconds
VIOLATIONS_KEPT_MAX = 50

# Rates per opportunity, high enough that a two-day seed sees each class several times.
PSAM_FAILURE_PER_COMMAND = 0.004
POWER_LOSS_PER_RECORD = 0.004
CLOCK_SKEW_PER_TERMINAL = 0.2
CLOCK_SKEW_S_MAX = 3 * 3600
OUTAGE_S = (1800.0, 4 * 3600.0)


def scenario_for(seed: int, sample: float, faults: frozenset[str]) -> Scenario:
    """The default scenario, small, with the twin's own scenario faults raised for the classes on."""
    s = load(None).replace(seed=seed, sample=sample)
    f = s.faults
    return dataclasses.replace(
        s,
        faults=dataclasses.replace(
            f,
            tear_probability=0.01 if "card-tear" in faults else 0.0,
            late_upload_probability=0.1 if "upload-late" in faults else 0.0,
            duplicate_upload_probability=0.05 if "upload-duplicate" in faults else 0.0,
            terminal_outage_probability=f.terminal_outage_probability if "power-loss" in faults else 0.0,
            bank_decline_probability=0.01 if "bank-outage" in faults else 0.0,
        ),
    )


def draw_skews(seed: int, terminals: list[Terminal]) -> dict[bytes, timedelta]:
    """Which terminals' clocks are off, and by how much (fixed for the period)."""
    rng = stream(seed, "verify/skew")
    skews = {}
    for t in terminals:
        if rng.random() < CLOCK_SKEW_PER_TERMINAL:
            skews[t.terminal_id] = timedelta(seconds=int(rng.integers(-CLOCK_SKEW_S_MAX, CLOCK_SKEW_S_MAX)))
    return skews


class _ReportedCards:
    """The campaign's lost-card reports as the load host's hotlist view."""

    def __init__(self, reported: dict[bytes, datetime]) -> None:
        self.reported = reported

    def effective(self, asn: bytes) -> bytes | None:
        at = self.reported.get(asn)
        return None if at is None else encode_datetime(at)


class Campaign:
    """One seed: build the world with its injectors wired in, run its period, report."""

    def __init__(self, seed: int, faults: frozenset[str], days: int, sample: float, db_path: Path) -> None:
        if not 1 <= days <= DAYS_MAX:
            raise VerifyError(f"--days: {days} out of range (allowed: 1..{DAYS_MAX})")
        self.base = scenario_for(seed, sample, faults)
        self.world = build_world(self.base)
        self.truth = GroundTruth(seed, faults)
        # The load host is online: it refuses a lost card from the moment of the report.
        self.world.host.hotlist = _ReportedCards(self.truth.hotlisted)
        registry: Registry = build_registry(self.base, registry_entries(self.world))
        skew = draw_skews(seed, self.world.fleet.all()) if "clock-skew" in faults else {}
        self.period = Period(self.base, self.world, registry, self.truth, skew, days, db_path)
        self._install(skew)

    def _install(self, skew: dict[bytes, timedelta]) -> None:
        faults, injected = self.truth.faults, self.truth.injected
        rng_psam = keyed(self.truth.seed, "verify/psam")
        rng_power = keyed(self.truth.seed, "verify/power")
        for t in self.world.fleet.all():
            app: Any = t.app
            if isinstance(app, PurchaseTerminal):
                if "psam-failure" in faults:
                    app.psam = FlakyPsam(app.psam, PSAM_FAILURE_PER_COMMAND, rng_psam, injected)
                if "power-loss" in faults:
                    # Purchase terminals only: a load terminal that reboots would also have to
                    # confirm the load to its host, which the model's load terminal cannot yet.
                    cast(Any, app).record_committed = PowerCut(
                        app.record_committed, POWER_LOSS_PER_RECORD, rng_power, injected
                    )
                app.hotlist = set()
            if t.terminal_id in skew:
                injected["clock-skew"] += 1
                t.app = cast(Any, SkewedApp(app, skew[t.terminal_id]))
        if "bank-outage" in faults:
            self._outages()

    def _outages(self) -> None:
        """Each bank's link is down for one stretch of the day (the window repeats daily)."""
        banks = self.base.city.banks
        rng = stream(self.truth.seed, "verify/bank-outage")
        d = self.base.demand
        windows = {}
        for bank in banks:
            start = float(rng.uniform(d.service_start_h * 3600, d.service_end_h * 3600))
            windows[bank] = (start, start + float(rng.uniform(*OUTAGE_S)))
        per_point = self.base.city.kiosks_per_recharge_point

        def bank_of(request: LoadRequest) -> str | None:
            if kind_of(request.terminal_id) is Kind.WINDOW:
                return None
            point = terminal_number(request.terminal_id) // per_point
            return banks[bank_of_point(point, len(banks))]

        host = self.world.host
        host._funding = BankOutage(  # the host's funding link, seen through the outage
            host._funding, self.period.now_s, windows, bank_of, self.truth.injected
        )

    def run(self) -> SeedResult:
        started = time.perf_counter()
        crash = []
        try:
            self.period.run()
        except Exception as exc:  # a crash is a finding: keep the seed, report where
            where = traceback.extract_tb(exc.__traceback__)[-1]
            crash.append(f"crash: {type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})")
        p, faults, injected = self.period, self.truth.faults, self.truth.injected
        unflushed = "power-loss-unflushed"
        by_class = {name: injected[name] for name in FAULTS if name in faults}
        if "power-loss" in faults:
            by_class[unflushed] = injected[unflushed]
        return SeedResult(
            seed=self.truth.seed,
            days=p.days,
            transactions=p.transactions,
            records=len(self.truth.genuine),
            faults=by_class,
            violations=(p.violations + crash)[:VIOLATIONS_KEPT_MAX],
            wall_s=time.perf_counter() - started,
            cleared=p.cleared,
            held=p.held,
        )


def run_seed(seed: int, faults: frozenset[str], days: int, sample: float, folder: Path) -> SeedResult:
    """Run one seed over a fresh clearing database in `folder`, removed afterwards."""
    db = folder / f"clearing-seed{seed}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    started = _cpu_s()
    try:
        result = with_bank_faults(Campaign(seed, faults, days, sample, db).run(), faults)
        if faults & REGION_FAULTS.keys():  # the interchange faults run on a two-city region day
            injected, violations = run_region_seed(seed, faults, folder)
            result.faults.update(injected)
            result.violations += violations
        result.cpu_s = _cpu_s() - started
        return result
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def _cpu_s() -> float:
    """User + system CPU of this process and its waited children: the SIGKILLed and concurrent
    `cardtwin clearing` processes a seed starts are its cost too."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
