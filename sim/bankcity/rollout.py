"""The bank-card city over its rollout: the plan month by month, measured by sample days.

The plan side is the rollout plan's own (`sim.rollout.plan.plan_months`: adoption, issuance,
deployment, sectors by phase). For each phase, `replications` sample days of its middle month
run the real bank card world (`sim.bankcity.day`), each under its own seed. A month takes its
phase's per-cardholder figures, scales them by its cardholders and days, and scales the
third-party acquirer's channels by its convenience terminals deployed against the sample
day's (acceptance grows with the terminals: ASSUMPTION). Replication r of the whole span uses
day r of every phase, so each total has R values: the report gives their mean and a Student-t
95% interval, and the acquirer's payback month per replication.

What is an input and what a prediction: cards per bank are the plan's adoption (a prediction
of the plan's model) times the card mix (an input); transactions, fees and the acquirer's
income are predictions of the sample days; its terminals and their cost are plan inputs.
"""

from __future__ import annotations

import calendar
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from scenarios.bank_schema import BankCity
from sim.bankcity.day import BankDay, run_day
from sim.rollout.plan import MonthPlan, plan_months

Progress = Callable[[int, int], None]
SEED_STRIDE = 1000


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month of one replication, whole city (counts and fen)."""

    month: str
    cardholders: int
    terminals: int
    tx_by_channel: dict[str, int]
    fen_by_channel: dict[str, int]
    fees_fen: dict[str, int]
    acquirer_income_fen: int
    acquirer_investment_fen: int
    acquirer_opex_fen: int


@dataclass(frozen=True, slots=True)
class BankRolloutResult:
    scenario: str
    source: str
    seed: int
    holders_simulated: int
    months: tuple[str, ...]
    plans: tuple[MonthPlan, ...]
    days: tuple[BankDay, ...]  # every sample day, phase by phase
    replications: tuple[tuple[MonthFigures, ...], ...]  # [r][month]
    card_share: dict[str, float]
    targets: tuple[tuple[str, str, int, int], ...]  # (kpi, due month, low, actual)
    acquirer: str
    partner: str
    wall_s: float


def acceptance_of(city: BankCity, plan: MonthPlan) -> dict[str, float]:
    """Channel acceptance: the banks' POS exist already ([HB]: direct POS passed the financial
    IC tests by June 2011); the third party's grows with its terminals deployed."""
    share = city.plan_scenario.finance.acquirer_terminal_share
    deployed = plan.terminals * share
    return {"bank": 1.0, "third-party": min(1.0, deployed / city.acquirer.terminals_full)}


def run_bank_rollout(
    city: BankCity,
    *,
    seed: int | None = None,
    replications: int | None = None,
    progress: Progress | None = None,
) -> BankRolloutResult:
    started = time.perf_counter()
    seed = city.run.seed if seed is None else seed
    reps = city.run.replications if replications is None else replications
    plans = plan_months(city.plan_scenario)
    by_month = {p.month: p for p in plans}
    phase_days: dict[str, list[BankDay]] = {}
    total = len(city.plan_scenario.phase) * reps
    for i, phase in enumerate(city.plan_scenario.phase):
        months = [p.month for p in plans if p.phase == phase.name]
        middle = by_month[months[(len(months) - 1) // 2]]
        phase_days[phase.name] = []
        for r in range(reps):
            day = run_day(
                city,
                middle.month,
                middle.sectors,
                acceptance_of(city, middle),
                seed * SEED_STRIDE + i * 100 + r,
            )
            if day.violations:
                raise AssertionError(f"bank-card day {middle.month} seed {day.seed}: {day.violations[0]}")
            phase_days[phase.name].append(day)
            if progress is not None:
                progress(i * reps + r + 1, total)
    rows = tuple(
        tuple(
            _month(city, p, phase_days[p.phase][r], by_month[phase_days[p.phase][r].month], plans, k)
            for k, p in enumerate(plans)
        )
        for r in range(reps)
    )
    checks = tuple(
        (t.kpi, t.due_month, t.low, _kpi(by_month[t.due_month], t.kpi))
        for t in city.plan_scenario.target
        if t.kpi in ("cardholders", "terminals")
    )
    return BankRolloutResult(
        scenario=city.name,
        source=city.source,
        seed=seed,
        holders_simulated=city.run.cardholders_simulated,
        months=tuple(p.month for p in plans),
        plans=tuple(plans),
        days=tuple(d for days in phase_days.values() for d in days),
        replications=rows,
        card_share={b.name: b.card_share for b in city.bank},
        targets=checks,
        acquirer=city.acquirer.name,
        partner=city.acquirer.partner,
        wall_s=time.perf_counter() - started,
    )


def _kpi(plan: MonthPlan, kpi: str) -> int:
    return plan.cardholders if kpi == "cardholders" else plan.terminals


def _month(
    city: BankCity, plan: MonthPlan, day: BankDay, sampled: MonthPlan, plans: list[MonthPlan], k: int
) -> MonthFigures:
    """One month from its phase's sample day `day` (taken in month `sampled`)."""
    days = calendar.monthrange(int(plan.month[:4]), int(plan.month[5:]))[1]
    per_holder = plan.cardholders * days / day.holders
    grow = _ratio(acceptance_of(city, plan)["third-party"], acceptance_of(city, sampled)["third-party"])
    third = {ch.channel for ch in city.channel if ch.acquirer == "third-party"} - {"contactless"}
    tx = {c: round(n * per_holder * (grow if c in third else 1.0)) for c, n in day.tx_by_channel.items()}
    fen = {c: round(n * per_holder * (grow if c in third else 1.0)) for c, n in day.fen_by_channel.items()}
    a = city.acquirer
    fees = {
        p: round(f * per_holder * (grow if p in (f"acquirer:{a.name}", f"partner:{a.partner}") else 1.0))
        for p, f in day.fees_fen.items()
    }
    share = city.plan_scenario.finance.acquirer_terminal_share
    owned = round(plan.terminals * share)
    before = round(plans[k - 1].terminals * share) if k else 0
    return MonthFigures(
        month=plan.month,
        cardholders=plan.cardholders,
        terminals=owned,
        tx_by_channel=tx,
        fen_by_channel=fen,
        fees_fen=fees,
        acquirer_income_fen=fees.get(f"acquirer:{a.name}", 0),
        acquirer_investment_fen=max(0, owned - before) * a.terminal_fen,
        acquirer_opex_fen=owned * a.terminal_opex_fen_per_month,
    )


def _ratio(now: float, sampled: float) -> float:
    return now / sampled if sampled else 0.0


def totals(rows: tuple[MonthFigures, ...]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(transactions by channel, fen by channel, fees by party) over the span of one replication."""
    tx: Counter[str] = Counter()
    fen: Counter[str] = Counter()
    fees: Counter[str] = Counter()
    for m in rows:
        tx.update(m.tx_by_channel)
        fen.update(m.fen_by_channel)
        fees.update(m.fees_fen)
    return tx, fen, fees


def payback(rows: tuple[MonthFigures, ...]) -> tuple[str | None, float | None]:
    """(first month the acquirer's cumulative cash is >= 0 after investing, or None; if None,
    the months beyond the span at the last month's net rate, or None when it never pays back)."""
    cash = 0
    for m in rows:
        cash += m.acquirer_income_fen - m.acquirer_investment_fen - m.acquirer_opex_fen
        if cash >= 0 and any(r.acquirer_investment_fen for r in rows if r.month <= m.month):
            return m.month, None
    net = rows[-1].acquirer_income_fen - rows[-1].acquirer_opex_fen
    return None, (-cash / net if net > 0 else None)
