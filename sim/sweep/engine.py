"""Replications and parameter sweeps: every (point, seed) a task on a Dask cluster.

A sweep varies one scenario parameter over a list of values (the points) and runs each point
with N seeds; each run is one task, a plain module-level function of plain data, so it runs
on any Dask worker: a LocalCluster on this machine by default (worker processes, its HTTP port chosen free)
or a real cluster given its scheduler address. Runs are whole and independent: a run's numbers
depend only on (scenario, parameter value, seed), never on which worker ran it or in which
order, so the same sweep twice gives the same numbers. Per point, each KPI's mean comes with a
95% confidence interval over the seeds (`sim.sweep.stats`).

Two kinds of run: "rollout" (`sim.rollout.engine.run_rollout`: a plan over years; parameters are the
rollout schema's dotted override names, e.g. `milestone.2.recharge_points`) and "day"
(`sim.day.shards.run_day`: one twin day; parameters are `section.key` of the day scenario, e.g.
`city.recharge_points`). A failed run fails the sweep with one line naming the point and seed.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import time
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import CardTwinError
from scenarios.bank_schema import bank_city_for
from scenarios.rollout_loader import load_rollout
from scenarios.schema import Scenario, load, table_keys, with_key
from sim.bankcity.command import load_sampled, sweep_kpis
from sim.day import cluster, run_day, wait_summary
from sim.rollout import run_rollout

KINDS = ("rollout", "day")
VALUES_MAX = 1000  # points in one sweep
SEEDS_MAX = 1000
RUNS_MAX = 20_000
DASK_CONNECT_TIMEOUT_S = 30
LOCAL_WORKERS_DEFAULT = 2
Value = int | float | str
Progress = Callable[["RunRow"], None]


class SweepError(CardTwinError):
    """A sweep that cannot be set up, or one of whose runs failed."""


def parse_values(text: str, where: str = "--param") -> tuple[Value, ...]:
    """`150,600,1000` (a list: integers, numbers or words) or `150:2000:10` (start:stop:count,
    evenly spaced, both ends included; whole numbers when both ends are)."""
    text = text.strip()
    if not text:
        raise SweepError(f"{where}: no values (give a list a,b,c or a range start:stop:count)")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise SweepError(f"{where}: range {text!r} is not start:stop:count")
        start, stop = (_number(p, where) for p in parts[:2])
        count = parts[2].strip()
        if not count.isdigit() or not 2 <= int(count) <= VALUES_MAX:
            allowed = f"allowed: 2..{VALUES_MAX}"
            raise SweepError(f"{where}: range {text!r}: count {count!r} out of range ({allowed})")
        raw = np.linspace(float(start), float(stop), int(count))
        values: tuple[Value, ...] = (
            tuple(round(float(x)) for x in raw)
            if isinstance(start, int) and isinstance(stop, int)
            else tuple(float(f"{x:.12g}") for x in raw)
        )
    else:
        items = [p.strip() for p in text.split(",")]
        if any(not p for p in items):
            raise SweepError(f"{where}: empty value in {text!r}")
        if len(items) > VALUES_MAX:
            raise SweepError(f"{where}: {len(items)} values (allowed: at most {VALUES_MAX})")
        values = tuple(_scalar(p) for p in items)
    if len(set(values)) != len(values):
        raise SweepError(f"{where}: repeated values in {text!r} ({', '.join(map(str, values))})")
    return values


def _scalar(text: str) -> Value:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        x = float(text)
    except ValueError:
        return text
    return x if math.isfinite(x) else text


def _number(text: str, where: str) -> int | float:
    value = _scalar(text.strip())
    if isinstance(value, str):
        raise SweepError(f"{where}: {text!r} is not a number")
    return value


def parse_param(text: str) -> tuple[str, tuple[Value, ...]]:
    """`NAME=VALUES` from the command line."""
    name, eq, values = text.partition("=")
    name = name.strip()
    if not eq or not name:
        raise SweepError(f"--param {text!r}: expected NAME=VALUES (e.g. city.recharge_points=150,600)")
    return name, parse_values(values, f"--param {name}")


def day_override(s: Scenario, name: str, value: Value) -> Scenario:
    """The day scenario with `section.key` set to `value`, checked like a file value."""
    section, _, key = name.partition(".")
    sections = [f.name for f in dataclasses.fields(s) if f.name != "source"]
    if section not in sections:
        raise SweepError(f"--param {name}: unknown section {section!r} (allowed: {', '.join(sections)})")
    table = getattr(s, section)
    fields = {f.name for f in table_keys(type(table))}
    if key not in fields:
        raise SweepError(f"--param {name}: unknown key {key!r} (allowed: {', '.join(sorted(fields))})")
    if name == "run.seed":
        raise SweepError(f"--param {name}: seeds are the replications (use --seeds)")
    kind = typing.get_type_hints(type(table))[key]
    ok = (
        (kind is int and isinstance(value, int))
        or (kind is float and isinstance(value, int | float))
        or (kind is str and isinstance(value, str))
    )
    if not ok:
        raise SweepError(f"--param {name}: {value!r} is not {getattr(kind, '__name__', kind)}")
    return with_key(s, section, key, float(value) if kind is float else value)


@dataclass(frozen=True, slots=True)
class Task:
    kind: str
    scenario: str | None  # path; None: the default day scenario
    param: str | None
    value: Value | None
    seed: int
    sample: float | None
    point: int
    overrides: tuple[tuple[str, Value], ...] = ()  # drawn values of a replication (rollout only)
    targets: bool = False  # rollout only: add each target's figure and verdict to the KPIs


@dataclass(frozen=True, slots=True)
class RunRow:
    point: int
    value: Value | None
    seed: int
    kpis: dict[str, float]
    wall_s: float


def _day_scenario(t: Task) -> Scenario:
    s = load(t.scenario)
    if t.param is not None:
        assert t.value is not None
        s = day_override(s, t.param, t.value)
    changes: dict[str, Any] = {"seed": t.seed, "shards": 1}
    if t.sample is not None:
        changes["sample"] = t.sample
    return s.replace(**changes)


def _rollout_overrides(t: Task) -> dict[str, object]:
    if t.scenario is None:
        raise SweepError("sweep --kind rollout: name a rollout scenario (scenarios/rollout/*.toml)")
    overrides: dict[str, object] = dict(t.overrides)
    if t.param is not None:
        overrides[t.param] = t.value
    return overrides


def _rollout_scenario(t: Task) -> Any:
    """The plan loaded, or its bank-card city (`system = "bankcard"`, `sim.bankcity`)."""
    overrides = _rollout_overrides(t)
    assert t.scenario is not None
    bank_city = bank_city_for(t.scenario)
    if bank_city is not None:
        return load_sampled(bank_city, overrides, t.sample)
    return load_rollout(t.scenario, overrides)


def prepare(t: Task) -> None:
    """Load and override the scenario without running it: bad names and values fail here,
    before any cluster starts."""
    if t.kind not in KINDS:
        raise SweepError(f"--kind {t.kind!r}: unknown (allowed: {', '.join(KINDS)})")
    if t.sample is not None and not 0 < t.sample <= 1:
        raise SweepError(f"--sample: {t.sample!r} out of range (allowed: 0 < sample <= 1)")
    if t.kind == "day":
        _day_scenario(t)
    else:
        _rollout_scenario(t)


def run_task(t: Task) -> RunRow:
    """One run of a sweep (on a worker): the scenario at the point's value, with the seed."""
    started = time.perf_counter()
    kpis = _day_kpis(t) if t.kind == "day" else _rollout_kpis(t)
    return RunRow(t.point, t.value, t.seed, kpis, time.perf_counter() - started)


def _day_kpis(t: Task) -> dict[str, float]:
    r = run_day(_day_scenario(t))
    closing, w = r.closing(), r.weight
    count, mean, p95 = wait_summary(r.waits_s("kiosk"))
    fees = r.settlement.fees_fen if r.settlement is not None else 0
    return {
        "taps": r.taps() * w,
        "top_ups": count * w,
        "recharge_wait_s_mean": mean,
        "recharge_wait_s_p95": p95,
        "loads_fen": closing.loads_fen * w,
        "purchases_fen": closing.purchases_fen * w,
        "float_fen": closing.closing_float_fen * w,
        "fees_fen": fees * w,
    }


def _rollout_kpis(t: Task) -> dict[str, float]:
    assert t.scenario is not None
    bank_city = bank_city_for(t.scenario)
    if bank_city is not None:  # the plan runs on the bank card world: its own KPIs
        return sweep_kpis(bank_city, _rollout_overrides(t), t.seed, t.sample)
    scenario = _rollout_scenario(t)
    r = run_rollout(scenario, seed=t.seed, sample=t.sample)
    last = r.months[-1]
    first = r.months[0].month
    payback = math.nan
    if r.payback_month is not None:
        payback = (int(r.payback_month[:4]) - int(first[:4])) * 12 + int(r.payback_month[5:]) - int(first[5:])
    kpis = {
        "coverage_share": last.coverage_share,
        "recharge_wait_s_mean": last.recharge_wait_s_mean,
        "recharge_wait_s_p95": last.recharge_wait_s_p95,
        "cardholders_end": float(last.cardholders),
        "targets_met": float(sum(c.met for c in r.targets)),
        "payback_months": payback,
        "float_fen_end": float(last.float_fen),
        "cash_cumulative_fen_end": float(last.cash_cumulative_fen),
    }
    if t.targets:
        for i, c in enumerate(r.targets):
            kpis[f"target.{i}.actual"] = float(c.actual)
            kpis[f"target.{i}.met"] = float(c.verdict == "met")
            kpis[f"target.{i}.above"] = float(c.verdict == "above range")
    return kpis


@dataclass(frozen=True, slots=True)
class SweepSpec:
    kind: str
    scenario: str | None
    param: str | None
    values: tuple[Value, ...]  # empty: replications of the scenario as it is
    seeds: tuple[int, ...]
    sample: float | None = None

    def tasks(self) -> list[Task]:
        points: Sequence[Value | None] = self.values or (None,)
        return [
            Task(self.kind, self.scenario, self.param, v, seed, self.sample, i)
            for i, v in enumerate(points)
            for seed in self.seeds
        ]


@dataclass(frozen=True, slots=True)
class SweepResult:
    spec: SweepSpec
    rows: tuple[RunRow, ...]  # sorted by (point, seed)
    wall_s: float
    cluster: str


def check_spec(spec: SweepSpec) -> None:
    if not 1 <= len(spec.seeds) <= SEEDS_MAX:
        raise SweepError(f"--seeds: {len(spec.seeds)} out of range (allowed: 1..{SEEDS_MAX})")
    if len(set(spec.seeds)) != len(spec.seeds):
        raise SweepError("--seeds: repeated seeds")
    if (spec.param is None) != (not spec.values):
        raise SweepError("--param: a name needs values")
    runs = max(1, len(spec.values)) * len(spec.seeds)
    if runs > RUNS_MAX:
        raise SweepError(f"sweep: {runs} runs (allowed: at most {RUNS_MAX})")
    for point in spec.tasks()[:: len(spec.seeds)]:
        prepare(point)


def run_sweep(
    spec: SweepSpec,
    *,
    dask: str = "local",
    workers: int = LOCAL_WORKERS_DEFAULT,
    progress: Progress | None = None,
) -> SweepResult:
    """Run every (point, seed) of `spec` on a Dask cluster ("local": a LocalCluster of `workers`
    processes; otherwise a scheduler address such as tcp://host:8786)."""
    check_spec(spec)
    started = time.perf_counter()
    rows, where = run_tasks(spec.tasks(), dask=dask, workers=workers, progress=progress)
    return SweepResult(spec, rows, time.perf_counter() - started, where)


def run_tasks(
    tasks: Sequence[Task],
    *,
    dask: str = "local",
    workers: int = LOCAL_WORKERS_DEFAULT,
    progress: Progress | None = None,
) -> tuple[tuple[RunRow, ...], str]:
    """Every task on a Dask cluster; the rows sorted by (point, seed) and where they ran. A failed
    task cancels the others and fails with one line naming its point and seed."""
    assert 0 < len(tasks) <= RUNS_MAX, len(tasks)
    local = None
    try:
        if dask == "local":
            n = max(1, min(workers, multiprocessing.cpu_count(), len(tasks)))
            local = cluster.local_cluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = cluster.client(local, DASK_CONNECT_TIMEOUT_S)
        else:
            client = cluster.client(dask, DASK_CONNECT_TIMEOUT_S)
    except OSError as exc:
        if local is not None:
            cluster.close(local)
        raise SweepError(f"dask scheduler {dask}: cannot connect ({exc})") from None
    where = "LocalCluster" if local is not None else dask
    try:
        futures = {client.submit(run_task, t, pure=False): t for t in tasks}
        rows: list[RunRow] = []
        for future in cluster.completed(futures):
            t = futures[future]
            if future.status != "finished":
                error = cluster.exception(future)
                for other in futures:
                    cluster.cancel(other)
                first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise SweepError(
                    f"sweep run failed at point {t.param}={t.value!r}, seed {t.seed}: "
                    f"{type(error).__name__}: {first}"
                )
            row = future.result()
            rows.append(row)
            if progress is not None:
                progress(row)
    finally:
        cluster.close(client)
        if local is not None:
            cluster.close(local)
    rows.sort(key=lambda r: (r.point, r.seed))
    return tuple(rows), where


def spec_from(
    kind: str,
    scenario: Path | None,
    param: str | None,
    seeds: int,
    first_seed: int | None,
    sample: float | None,
) -> SweepSpec:
    """A spec from command-line pieces: `param` is NAME=VALUES; seeds are first_seed,
    first_seed + 1, ... (from 1 when not given)."""
    name, values = parse_param(param) if param is not None else (None, ())
    if not 1 <= seeds <= SEEDS_MAX:
        raise SweepError(f"--seeds: {seeds} out of range (allowed: 1..{SEEDS_MAX})")
    start = 1 if first_seed is None else first_seed
    path = None if scenario is None else str(scenario)
    return SweepSpec(kind, path, name, values, tuple(range(start, start + seeds)), sample)
