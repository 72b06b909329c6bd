"""`cardtwin rollout SCENARIO` and `cardtwin compare A B`: run rollout plans and report them.

A scenario is a rollout TOML file or the name of a shipped one (`cardtwin rollout --list`).
`--set section.key=value` overrides one value (a TOML value: `--set adoption.imitation_q=0.2`,
`--set 'phase.pilot.end_month="2005-06"'`), validated exactly like the file's values. The
results folder appears only when complete.
"""

from __future__ import annotations

import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from scenarios.bank_schema import bank_city_for
from scenarios.framework_schema import apply_sets, framework_path, framework_shipped, load_framework
from scenarios.rollout_loader import load_rollout, shipped
from scenarios.rollout_schema import RolloutScenario
from scenarios.schema import ScenarioError
from sim.bankcity.command import run_bank_city
from sim.cli.options import (
    dask_option,
    list_option,
    out_dir_option,
    sample_option,
    seed_option,
    workers_option,
)
from sim.cli.scenario_arg import list_shipped_option, resolve
from sim.operator import build_report, write_report
from sim.operator import lines as framework_lines
from sim.rollout import RolloutResult, run_rollout, summary_lines, write_compare, write_rollout
from sim.services.rollout import rollout_lines, rollout_tables, services_rollout
from sim.sweep import LOCAL_WORKERS_DEFAULT, RunRow, run_replications, with_p_met
from sim.sweep.engine import SEEDS_MAX

F = TypeVar("F", bound=Callable[..., Any])


def parse_sets(sets: tuple[str, ...]) -> dict[str, object]:
    """`key=value` pairs; the value is read as TOML (a bare word is taken as a string)."""
    out: dict[str, object] = {}
    for item in sets:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ScenarioError(f"--set {item}: not key=value")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def _run(scenario: RolloutScenario, seed: int | None, sample: float | None, label: str) -> RolloutResult:
    with click.progressbar(length=1, label=f"{label}: representative days", file=sys.stderr) as bar:
        done = [0]

        def progress(n: int, total: int) -> None:
            bar.length = total
            bar.update(n - done[0])
            done[0] = n

        return run_rollout(scenario, seed=seed, sample=sample, progress=progress)


_options = [
    seed_option(),
    # A plain float: the rollout's own sample and an override are checked alike (rollout below).
    sample_option("Share of cardholders simulated in each twin day.", checked_by_engine=True),
    click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a scenario value."),
    out_dir_option(),
]


def _with_options(f: F) -> F:
    for option in reversed(_options):
        f = option(f)
    return f


def _replicate(
    result: RolloutResult,
    scenario: str,
    sets: tuple[str, ...],
    n: int,
    sample: float | None,
    dask: str,
    workers: int,
) -> RolloutResult:
    """The result with P(met) per predicted target over `n` replications on Dask."""
    with click.progressbar(length=n, label=f"{result.scenario}: replications", file=sys.stderr) as bar:

        def progress(_: RunRow) -> None:
            bar.update(1)

        reps = run_replications(
            scenario, n, overrides=parse_sets(sets), first_seed=result.seed, sample=sample,
            dask=dask, workers=workers, progress=progress,
        )  # fmt: skip
    return with_p_met(result, reps)


@click.command("rollout")
@click.argument("scenario", required=False)
@list_option("List the shipped rollout scenarios.")
@click.option(
    "--replications",
    type=click.IntRange(0, SEEDS_MAX),
    default=0,
    help="Also run N replications (seeds and [[assumption]] ranges drawn): each target as P(met).",
)
@dask_option()
@workers_option(LOCAL_WORKERS_DEFAULT)
@_with_options
def rollout(
    scenario: str | None,
    list_: bool,
    replications: int,
    dask: str,
    workers: int,
    seed: int | None,
    sample: float | None,
    sets: tuple[str, ...],
    out: Path | None,
) -> None:
    """Run the rollout plan SCENARIO (a file or a shipped name) month by month and report it."""
    if list_ or scenario is None:
        for name, path in (shipped() | framework_shipped()).items():
            click.echo(f"{name}  {path}")
        return
    framework = framework_path(scenario)
    if framework is not None:  # kind = "five-stage": the operator's engine (sim/operator)
        changes = parse_sets(sets) | ({} if seed is None else {"framework.seed": seed})
        fw = build_report(apply_sets(load_framework(framework), changes), replications or None)
        click.echo("\n".join(framework_lines(fw)))
        click.echo(f"report {write_report(fw, out or Path('results') / f'framework-{fw.scenario.name}')}")
        return
    path = resolve(scenario, ("rollout",))
    city = bank_city_for(path)
    if city is not None:  # the plan runs on the bank card world (`system = "bankcard"`)
        lines, _ = run_bank_city(city, parse_sets(sets), seed, sample, replications, out)
        click.echo("\n".join(lines))
        return
    s = load_rollout(path, parse_sets(sets))
    sample_used = s.rollout.sample if sample is None else sample
    if not 0 < sample_used <= 1:
        raise ScenarioError(f"--sample {sample_used}: out of range (allowed: 0 < sample <= 1)")
    click.echo(
        f"rollout {s.name} ({s.source}): {s.rollout.start_month}..{s.rollout.end_month}, "
        f"seed {seed if seed is not None else s.rollout.seed}, sample {sample_used}"
    )
    started = time.perf_counter()
    result = _result_of(s, path, seed, sample, sets, (replications, dask, workers))
    folder = out or Path("results") / f"rollout-{s.name}-seed{result.seed}"
    services = s.day_scenario.services
    outputs = services_rollout(services, result.months, result.seed) if services is not None else None
    per_day = [m.services_per_day for m in result.months]
    report = write_rollout(result, folder, rollout_tables(outputs, per_day) if outputs is not None else None)
    _render(result, rollout_lines(outputs) if outputs is not None else [])
    click.echo(f"wall {time.perf_counter() - started:.1f} s (rollout {result.wall_s:.1f} s); report {report}")


def _result_of(
    s: RolloutScenario,
    path: Path,
    seed: int | None,
    sample: float | None,
    sets: tuple[str, ...],
    replicate: tuple[int, str, int],
) -> RolloutResult:
    """The rollout of a loaded scenario, with P(met) when `replicate` = (N > 0, dask, workers).
    The one place a kind of rollout is dispatched to its engine."""
    result = _run(s, seed, sample, s.name)
    n, dask, workers = replicate
    if n:
        result = _replicate(result, str(path), sets, n, sample, dask, workers)
    return result


def _render(result: RolloutResult, sector_lines: list[str]) -> None:
    """Where a rollout result is printed: every target (plan input or prediction, its 90%
    interval and P(met) when replicated, why), money, the sectors' own outputs (`sector_lines`,
    e.g. the services', sim.services.rollout), then calibration and sensitivity."""
    for line in summary_lines(result):
        click.echo(line)
    for line in sector_lines:
        click.echo(line)
    for line in result.notes:
        if line.startswith(("calibration", "replications:", "sensitivity", "  ")):
            click.echo(line)


@click.command("compare")
@click.argument("a")
@click.argument("b")
@list_shipped_option(("rollout",))
@_with_options
def compare(
    a: str, b: str, seed: int | None, sample: float | None, sets: tuple[str, ...], out: Path | None
) -> None:
    """Run rollout scenarios A and B (files or shipped names) and report them side by side (`--set`
    applies to both)."""
    overrides = parse_sets(sets)
    pa, pb = resolve(a, ("rollout",), "A"), resolve(b, ("rollout",), "B")
    if bank_city_for(pa) is not None or bank_city_for(pb) is not None:
        _compare_worlds(pa, pb, overrides, seed, sample, out)
        return
    sa, sb = load_rollout(pa, overrides), load_rollout(pb, overrides)
    ra = _run(sa, seed, sample, sa.name)
    rb = _run(sb, seed, sample, sb.name)
    folder = out or Path("results") / f"compare-{sa.name}-vs-{sb.name}"
    report = write_compare(ra, rb, folder)
    for label, r in (("A", ra), ("B", rb)):
        click.echo(f"{label}: {r.scenario}")
        for line in summary_lines(r):
            click.echo(f"  {line}")
    click.echo(f"report {report}")


def _compare_worlds(
    pa: Path, pb: Path, overrides: dict[str, object], seed: int | None, sample: float | None, out: Path | None
) -> None:
    """A and B when one runs on the bank card world: each on its own world, its report in
    FOLDER/A and FOLDER/B (an e-purse and a bank-card rollout share no table to put side by side)."""
    folder = out or Path("results") / f"compare-{pa.stem}-vs-{pb.stem}"
    for label, path in (("A", pa), ("B", pb)):
        city = bank_city_for(path)
        if city is not None:
            lines, report = run_bank_city(city, overrides, seed, sample, 0, folder / label)
            lines = lines[1:-1]  # the head and the report line are said here
        else:
            s = load_rollout(path, overrides)
            r = _run(s, seed, sample, s.name)
            report, lines = write_rollout(r, folder / label), summary_lines(r)
        click.echo(f"{label}: {path.stem}")
        for line in lines:
            click.echo(f"  {line}")
        click.echo(f"  report {report}")
