"""Running a city day: one process, or population shards in separate processes.

`run_shard` builds one shard's world, runs its day, checks its invariants and returns a
picklable `ShardResult`; `run_day` runs every shard (in a process pool when there are several)
and merges their results. Shards split the population by citizen; each has its own replica of
the terminal fleet (see `sim.city.terminals`), so the totals of a sharded run equal those of a
one-process run exactly when no two citizens meet in a queue.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from model.backoffice import SettlementReport, TerminalEntry
from model.errors import CardTwinError
from model.records import NO_PSAM
from model.security import generate_issuer_keys
from scenarios.schema import Scenario
from sim.cards import CardReader, ReaderReport
from sim.city import ISSUER_ID, Kind, World, build_registry, build_world, kind_of, registry_entries
from sim.day import cluster
from sim.day.invariants import Check, Closing, InvariantError, check_day, enforce
from sim.day.metrics import DayMetrics
from sim.day.night import (
    BatchCollector,
    ClearingPort,
    NightCheck,
    NightReport,
    RecordInbox,
    Upload,
    clear_night,
)
from sim.day.recharge_demand import recharge_demand
from sim.day.twin import DAY_S, CityDay
from sim.services import ServicesTally, enforce_services

ProgressFn = Callable[[int], None]


@dataclass(slots=True)
class ShardResult:
    shard: int
    citizens: int
    taps_planned: int
    metrics: DayMetrics
    checks: list[Check]
    closing: Closing
    night: NightReport
    waits_s: dict[str, list[float]]
    balked: dict[str, int]
    busy_s: dict[str, float]
    terminals: dict[str, int]
    banks: dict[str, int]
    cash_fen: int
    build_s: float
    build_cpu_s: float  # processor seconds of building the shard's world
    day_s: float
    cpu_s: float  # processor seconds of this shard's process (build and day), whatever else ran
    rss_added_bytes: int  # peak anonymous resident memory while building and running, less before
    bytes_per_citizen: float
    uploads: list[Upload] = field(default_factory=list)
    registry: list[TerminalEntry] = field(default_factory=list)
    reader: ReaderReport | None = None  # real cards in the loop: what the reader measured
    services: ServicesTally | None = None  # the services' day (sim.services), with [services]
    tries: dict[str, int] = field(default_factory=dict)  # the demand's taps by sector: payments tried


@dataclass(slots=True)
class RunResult:
    scenario: Scenario
    shards: list[ShardResult]
    metrics: DayMetrics = field(default_factory=DayMetrics)
    wall_s: float = 0.0
    night: NightReport | None = None  # the one clearing house's night (back-office port)
    night_checks: list[NightCheck] = field(default_factory=list)
    settlement: SettlementReport | None = None
    reconciliation: list[str] = field(default_factory=list)

    @property
    def citizens(self) -> int:
        return sum(s.citizens for s in self.shards)

    @property
    def weight(self) -> float:
        return self.scenario.population.cardholders / max(1, self.citizens)

    def closing(self) -> Closing:
        fields = Closing.__slots__
        return Closing(**{f: sum(getattr(s.closing, f) for s in self.shards) for f in fields})

    def waits_s(self, kind: str) -> list[float]:
        return [w for s in self.shards for w in s.waits_s[kind]]

    def taps(self) -> int:
        return int(self.metrics.tx_count.sum())

    def tries(self) -> dict[str, int]:
        """The demand's taps by sector (bus, metro entries, taxi, retail) over every shard."""
        out: dict[str, int] = {}
        for shard in self.shards:
            for sector, n in shard.tries.items():
                out[sector] = out.get(sector, 0) + n
        return out

    def services(self) -> ServicesTally | None:
        """The services' figures of every shard, merged; None without [services]."""
        tallies = [s.services for s in self.shards if s.services is not None]
        if not tallies:
            return None
        merged = ServicesTally()
        for tally in tallies:
            merged.merge(tally)
        return merged


def default_port(world: World) -> ClearingPort:
    if world.scenario.run.clearing == "backoffice":

        def psam_of(terminal: bytes) -> bytes:
            return NO_PSAM if kind_of(terminal) in (Kind.KIOSK, Kind.WINDOW) else terminal

        return BatchCollector(world.shard, world.day_start, psam_of)
    return RecordInbox()


def run_shard(
    scenario: Scenario,
    shard: int = 0,
    shards: int = 1,
    progress: ProgressFn | None = None,
    port: Callable[[World], ClearingPort] = default_port,
) -> ShardResult:
    """Build, run and check one shard's day. Raises InvariantError on a violation."""
    started, started_cpu = time.perf_counter(), time.process_time()
    fixed_mmap_threshold()
    with AnonPeak() as memory:
        # The recharge queues' full-scale demand draws a reference city of its own (a fixed
        # ~11 MB while it runs): drawn before the world, its peak does not stack on the world's
        # (and a forked shard finds it already drawn by `run_day`).
        recharge_demand(scenario)
        release_free_memory()
        world = build_world(scenario, shard, shards)
        release_free_memory()
        built, built_cpu = time.perf_counter(), time.process_time()
        clearing = port(world)
        with _reader(scenario, len(world.population)) as reader:
            day = CityDay(world, clearing, progress, reader)
            release_free_memory()  # the services' opening draws and postings, as the build's
            day.env.process(_trim_free_memory(day.env))
            night = day.run()
            reader_report = reader.report() if reader is not None else None
    checks, closing = check_day(world, day.sent, day.sent_records, night)
    enforce(checks, f"{scenario.source}: shard {shard} of {shards}")
    services = day.services.close() if day.services is not None else None
    if services is not None:
        enforce_services(services.checks, f"{scenario.source}: shard {shard} of {shards}")
    finished = time.perf_counter()
    points = {"kiosk": day.kiosk_points, "window": day.window_points}
    fleet = world.fleet.by_kind
    pop = world.population
    held = pop.held_nbytes()
    return ShardResult(
        shard=shard,
        citizens=len(pop),
        taps_planned=sum(len(t) for t in world.demand),
        metrics=day.metrics,
        checks=checks,
        closing=closing,
        night=night,
        waits_s={k: [w for p, _ in v for w in p.stats.waits_s] for k, v in points.items()},
        balked={k: sum(p.stats.balked for p, _ in v) for k, v in points.items()},
        busy_s={k.name.lower(): float(sum(t.busy_s for t in fleet[k])) for k in Kind},
        terminals={k.name.lower(): len(fleet[k]) for k in Kind},
        banks={b.name: b.captured_fen for b in world.funding.banks},
        cash_fen=world.funding.cash_fen,
        build_s=built - started,
        build_cpu_s=built_cpu - started_cpu,
        day_s=finished - built,
        cpu_s=time.process_time() - started_cpu,
        rss_added_bytes=memory.added_bytes,
        bytes_per_citizen=held / max(1, len(pop)),
        uploads=clearing.uploads if isinstance(clearing, BatchCollector) else [],
        registry=registry_entries(world),
        reader=reader_report,
        services=services,
        tries={t.kind.name.lower(): len(t) for t in world.demand},
    )


def _reader(scenario: Scenario, population: int) -> AbstractContextManager[CardReader | None]:
    """The PC/SC reader for real cards in the loop, only when the scenario asks for one (the
    hardware bridge, pyscard and pcscd are not needed otherwise)."""
    if not scenario.run.real_card_reader:
        return nullcontext()
    return CardReader(scenario.run.real_card_reader, scenario.run.real_card_citizens, population)


class AnonPeak:
    """The peak of this process's anonymous resident memory (its heap: Python objects and arrays)
    over a stretch of work, sampled every SAMPLE_S by a daemon thread from /proc. Shared library
    pages, which a forked shard re-reads as it runs, are not memory the shard's citizens take.
    Zero where /proc is missing."""

    SAMPLE_S = 0.2

    def __init__(self) -> None:
        self.start = self.peak = _anon_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> AnonPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _anon_bytes())

    def _watch(self) -> None:
        while not self._done.wait(self.SAMPLE_S):
            self.peak = max(self.peak, _anon_bytes())

    @property
    def added_bytes(self) -> int:
        return max(0, self.peak - self.start)


def release_free_memory() -> None:
    """Hands the build's garbage back to the system: the cycles its card objects left (collected
    now, not at some later generation-2 pass) and the C heap's free pages (glibc keeps the
    fragments of the whole population's draw arrays resident otherwise). Nothing where the C
    library has no `malloc_trim`."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


TRIM_EVERY_S = 900.0  # of the day's clock: ~0.5 ms a trim in a 10,000-citizen shard


def _trim_free_memory(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
    """The C heap's free pages handed back every TRIM_EVERY_S of the day: the taps' uploads,
    postings and draws free memory between the heap's live blocks, which glibc keeps resident
    (it trims only the heap's top), so the day's peak would otherwise carry it. Reads and
    changes nothing of the day (its timeouts come between the day's events, never reorder them)."""
    trim = _malloc_trim()
    if trim is None:
        return
    while True:
        yield env.timeout(TRIM_EVERY_S)
        trim(0)


MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default, kept fixed
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


@functools.cache
def fixed_mmap_threshold() -> None:
    """Large blocks (a draw's arrays) always mapped on their own and unmapped when freed. glibc
    otherwise raises its threshold to the largest block freed, so after the population's draws
    every array of that size comes from the heap and its pages stay resident when freed.
    Nothing where the C library has no `mallopt`."""
    try:
        mallopt: Callable[[int, int], int] = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim` from the process's own symbols (no library search, no subprocess)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _anon_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _shard_job(args: tuple[Scenario, int, int]) -> ShardResult:
    return run_shard(*args)


def run_day(
    scenario: Scenario,
    progress: ProgressFn | None = None,
    clearing_db: Path | None = None,
    dask: str | None = None,
) -> RunResult:
    """Run the scenario's day in `run.shards` shards (separate processes when more than one),
    then, with the back-office port, clear every shard's uploads at one clearing house whose
    database is `clearing_db` (a temporary file when None). With `dask` (a scheduler address,
    or "local" for a LocalCluster on this machine) the shards run on a Dask cluster instead."""
    started = time.perf_counter()
    shards = scenario.run.shards
    if dask is not None:
        results = _on_dask(scenario, dask, progress)
    elif shards == 1:
        results = [run_shard(scenario, 0, 1, progress)]
    else:
        # Each shard reports when it is done; shards are whole days, so that is the progress.
        # fork: a child starts from the loaded modules and needs no `__main__` guard in callers.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        if method == "fork":
            # Every shard asks the same (cached) recharge demand: drawn once here, not per shard.
            recharge_demand(scenario)
            release_free_memory()
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(processes=min(shards, multiprocessing.cpu_count())) as pool:
            results = []
            for result in pool.imap(_shard_job, [(scenario, k, shards) for k in range(shards)]):
                results.append(result)
                if progress is not None:
                    progress(result.taps_planned)
    run = RunResult(scenario, results)
    for r in results:
        run.metrics.merge(r.metrics)
    if scenario.run.clearing == "backoffice":
        _night(run, clearing_db)
    run.wall_s = time.perf_counter() - started
    return run


DASK_CONNECT_TIMEOUT_S = 30


def _on_dask(scenario: Scenario, address: str, progress: ProgressFn | None) -> list[ShardResult]:
    """The shards as Dask tasks; results come back in shard order whatever order they finish."""
    shards = scenario.run.shards
    try:
        if address == "local":
            local = cluster.local_cluster(
                n_workers=min(shards, multiprocessing.cpu_count()), threads_per_worker=1
            )
            client = cluster.client(local, DASK_CONNECT_TIMEOUT_S)
        else:
            local = None
            client = cluster.client(address, DASK_CONNECT_TIMEOUT_S)
    except OSError as exc:
        raise DaskError(f"dask scheduler {address}: cannot connect ({exc})") from None
    try:
        futures = [client.submit(run_shard, scenario, k, shards, pure=False) for k in range(shards)]
        by_shard: dict[int, ShardResult] = {}
        for future in cluster.completed(futures):
            result = future.result()
            by_shard[result.shard] = result
            if progress is not None:
                progress(result.taps_planned)
        return [by_shard[k] for k in range(shards)]
    finally:
        cluster.close(client)
        if local is not None:
            cluster.close(local)


class DaskError(CardTwinError):
    """A Dask cluster that cannot be used."""


def night_again(run: RunResult, uploads_by_shard: list[list[Upload]]) -> None:
    """The day's night once more, from the same uploads (a rerun of each shard gives them,
    seeded) into a fresh temporary database: `run.night` and its checks are the new night's.
    For a benchmark's best of several nights; the day itself is not run again."""
    assert len(uploads_by_shard) == len(run.shards), "the uploads of every shard of the day"
    for shard, uploads in zip(run.shards, uploads_by_shard, strict=True):
        shard.uploads = list(uploads)
    _night(run, None)


def _night(run: RunResult, clearing_db: Path | None) -> None:
    s = run.scenario
    closing = run.closing()
    captured: dict[str, int] = {}
    for r in run.shards:
        for name, fen in r.banks.items():
            captured[name] = captured.get(name, 0) + fen
    args = (
        s.run.day,
        build_registry(s, [e for r in run.shards for e in r.registry]),
        generate_issuer_keys(seed=s.run.seed, issuer_id=ISSUER_ID),
        [u for r in run.shards for u in r.uploads],
        closing.uploaded_records,
        closing.closing_float_fen,
        closing.held_net_fen,
        captured,
        closing.opening_float_fen,
    )
    if clearing_db is None:
        with tempfile.TemporaryDirectory() as folder:
            run.night, run.night_checks, run.settlement, run.reconciliation = clear_night(
                Path(folder) / "clearing.sqlite", *args
            )
    else:
        clearing_db.unlink(missing_ok=True)
        run.night, run.night_checks, run.settlement, run.reconciliation = clear_night(clearing_db, *args)
    for r in run.shards:
        r.uploads = []  # the bytes are in the clearing database now
    failed = [c for c in run.night_checks if not c.ok]
    if failed:
        raise InvariantError(
            f"{s.source}: night invariant violated: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )


def utilisation(run: RunResult) -> dict[str, float]:
    """Mean busy share of each terminal kind over the service day."""
    d = run.scenario.demand
    open_s = (d.service_end_h - d.service_start_h) * 3600 if d.service_end_h > d.service_start_h else DAY_S
    out = {}
    for kind in Kind:
        name = kind.name.lower()
        n = sum(s.terminals[name] for s in run.shards)
        out[name] = float(np.float64(sum(s.busy_s[name] for s in run.shards)) / (open_s * n)) if n else 0.0
    return out
