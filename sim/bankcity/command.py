"""`cardtwin rollout`, `compare` and `sweep` of a bank-card city: what they do once they know
the plan runs on the bank card world (`scenarios.bank_schema.bank_city_for`, the one test of
that). Kept here so the command modules and the sweep engine only dispatch and print.

`--sample` is read as the share of the plan's final cardholders simulated in each sample day
(at least 10, at most `SIMULATED_MAX`); `--replications N` (N >= 2) sets the sample days per
phase; `--set` names the bank-city file's keys or the plan's (`scenarios.bank_schema.load_bank_city`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from statistics import mean

from scenarios.bank_schema import SIMULATED_MAX, BankCity, load_bank_city
from scenarios.schema import ScenarioError
from sim.bankcity.report import summary, summary_lines, write_bank_report
from sim.bankcity.rollout import payback, run_bank_rollout, totals
from sim.rollout.plan import plan_months


def load_sampled(
    path: Path, overrides: Mapping[str, object], sample: float | None, replications: int = 0
) -> BankCity:
    """The bank-card city at `path` with `--sample` and `--replications` applied (see above):
    what `cardtwin rollout`, `compare` and `sweep` run."""
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
    return load_bank_city(path, extra)


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
    city = load_sampled(path, overrides, sample, replications)
    result = run_bank_rollout(city, seed=seed, progress=progress or _log_progress)
    folder = out or Path("results") / f"rollout-{city.name}-seed{result.seed}"
    report = write_bank_report(result, folder)
    plan = city.plan_scenario.source
    head = f"rollout {city.name} ({city.source}, plan {plan}): bank-card city, seed {result.seed}"
    return [head, *summary_lines(result), f"wall {result.wall_s:.1f} s; report {report}"], report


def _log_progress(done: int, total: int) -> None:
    print(f"bank-card city: sample day {done}/{total}", file=sys.stderr, flush=True)


def sweep_kpis(
    path: Path, overrides: Mapping[str, object], seed: int, sample: float | None
) -> dict[str, float]:
    """One run of `cardtwin sweep` on a bank-card city: its rollout under `seed`, each KPI the
    mean over its replications (sample days per phase); payback in months from the first
    month, NaN when a replication does not pay back within the span."""
    city = load_sampled(path, overrides, sample)
    r = run_bank_rollout(city, seed=seed)
    s = summary(r)
    reps = r.replications
    months = [payback(rows)[0] for rows in reps]
    first = r.months[0]
    payback_months = [(int(m[:4]) - int(first[:4])) * 12 + int(m[5:]) - int(first[5:]) for m in months if m]
    return {
        "cardholders_end": float(r.plans[-1].cardholders),
        "targets_met": float(sum(t["met"] for t in s["targets"])),
        "transactions": sum(sum(totals(rows)[0].values()) for rows in reps) / len(reps),
        "fees_fen": sum(sum(totals(rows)[2].values()) for rows in reps) / len(reps),
        "acquirer_income_fen_end": s["acquirer"]["income_fen_last_month"]["mean"],
        "payback_months": mean(payback_months) if len(payback_months) == len(reps) else math.nan,
    }
