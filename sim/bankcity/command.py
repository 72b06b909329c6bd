"""`cardtwin rollout` of a bank-card city: what the command does once it knows the plan runs
on the bank card world (`scenarios.bank_schema.bank_city_for`). Kept here so the command module
only dispatches and prints.

`--sample` is read as the share of the plan's final cardholders simulated in each sample day
(at least 10, at most `SIMULATED_MAX`); `--replications N` (N >= 2) sets the sample days per
phase; `--set` names the bank-city file's keys or the plan's (`scenarios.bank_schema.load_bank_city`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from scenarios.bank_schema import SIMULATED_MAX, load_bank_city
from scenarios.schema import ScenarioError
from sim.bankcity.report import summary_lines, write_bank_report
from sim.bankcity.rollout import run_bank_rollout
from sim.rollout.plan import plan_months


def run_bank_city(
    path: Path,
    overrides: Mapping[str, object],
    seed: int | None,
    sample: float | None,
    replications: int,
    out: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[str], Path]:
    """Run the bank-card city at `path`; (the summary lines, the report's path)."""
    extra = dict(overrides)
    city = load_bank_city(path, extra)
    if sample is not None:
        if not 0 < sample <= 1:
            raise ScenarioError(f"--sample {sample}: out of range (allowed: 0 < sample <= 1)")
        final = plan_months(city.plan_scenario)[-1].cardholders
        extra["run.cardholders_simulated"] = min(SIMULATED_MAX, max(10, round(sample * final)))
    if replications:
        if replications < 2:
            raise ScenarioError(f"--replications {replications}: a bank-card city needs at least 2")
        extra["run.replications"] = replications
    city = load_bank_city(path, extra)
    result = run_bank_rollout(city, seed=seed, progress=progress or _log_progress)
    folder = out or Path("results") / f"rollout-{city.name}-seed{result.seed}"
    report = write_bank_report(result, folder)
    plan = city.plan_scenario.source
    head = f"rollout {city.name} ({city.source}, plan {plan}): bank-card city, seed {result.seed}"
    return [head, *summary_lines(result), f"wall {result.wall_s:.1f} s; report {report}"], report


def _log_progress(done: int, total: int) -> None:
    print(f"bank-card city: sample day {done}/{total}", file=sys.stderr, flush=True)
