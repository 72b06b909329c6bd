"""The rollout engine: a city's card plan advanced month by month, measured by the day twin.

Each month the plan side (`sim.rollout.plan`) issues cards (Bass demand capped by the
service windows), opens recharge points, terminals and windows between milestones and
switches sectors on by phase. For each stretch of months sharing a phase and a calendar year,
one representative day (its middle month) runs the real twin (`sim.rollout.days`). A month
takes the per-cardholder figures of its phase's representative days, linear between the two
that bracket it (acceptance grows with the terminals), and scales them by its own
cardholders and days. Money (`sim.rollout.money`) follows from the plan and the twin's fees
and float. Targets are checked against the month rows: counts at their due month, money
summed over the due month's calendar year up to it. `run_rollout` is a plain module-level
function returning frozen data, so sweeps can run it on Dask workers.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable

from scenarios.rollout_schema import SECTORS, RolloutScenario
from scenarios.schema import ScenarioError
from sim.rollout.calibrate import calibrate, calibration_lines
from sim.rollout.days import DayFigures, blend, run_representative
from sim.rollout.money import month_money
from sim.rollout.plan import MonthPlan, plan_months
from sim.rollout.result import MonthRow, Phase, RolloutResult
from sim.rollout.sites import flows_of, lay_out
from sim.rollout.targets import check_targets

Progress = Callable[[int, int], None]
# What runs a representative month's day: (scenario, month plan, sample, seed) -> its figures.
# The e-purse twin (`sim.rollout.days.run_representative`) unless another card world gives its
# own (`sim.bankcity.days.BankDays`, for a plan whose city runs on the bank card world).
Represent = Callable[[RolloutScenario, MonthPlan, float, int], DayFigures]


def representative_months(plans: list[MonthPlan]) -> dict[str, str]:
    """For every month, the month whose day represents it: the middle month of its stretch of
    months with the same phase and calendar year."""
    stretches: dict[tuple[str, str], list[str]] = {}
    for p in plans:
        stretches.setdefault((p.phase, p.month[:4]), []).append(p.month)
    out = {}
    for months in stretches.values():
        middle = months[(len(months) - 1) // 2]
        out.update({m: middle for m in months})
    return out


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:])


def month_figures(plans: list[MonthPlan], days: dict[str, DayFigures]) -> dict[str, DayFigures]:
    """Each month's per-cardholder figures: linear between the representative days of its phase
    that bracket it (acceptance grows smoothly within a phase), the nearest one outside them;
    a phase boundary is a step, since sectors switch on at once."""
    phase_of = {p.month: p.phase for p in plans}
    out = {}
    for plan in plans:
        own = sorted(m for m in days if phase_of[m] == plan.phase)
        before = [m for m in own if m <= plan.month]
        after = [m for m in own if m >= plan.month]
        if before and after and before[-1] != after[0]:
            a, b = before[-1], after[0]
            w = (_index(plan.month) - _index(a)) / (_index(b) - _index(a))
            out[plan.month] = blend(days[a], days[b], w, plan.month)
        else:
            out[plan.month] = days[(before or after)[-1 if before else 0]]
    return out


def _days(month: str) -> int:
    return calendar.monthrange(int(month[:4]), int(month[5:]))[1]


def run_rollout(
    scenario: RolloutScenario,
    *,
    seed: int | None = None,
    sample: float | None = None,
    progress: Progress | None = None,
    represent: Represent = run_representative,
) -> RolloutResult:
    """Advance the scenario's plan over its span and return every month, target and cash flow;
    `represent` runs each representative month's day."""
    started = time.perf_counter()
    s = scenario
    seed = s.rollout.seed if seed is None else seed
    sample = s.rollout.sample if sample is None else sample
    if not 0 < sample <= 1:
        raise ScenarioError(f"{s.source}: sample {sample!r}: out of range (allowed: 0 < sample <= 1)")
    plans = plan_months(s)
    layout = lay_out(s, plans)
    days = _representative_days(s, plans, sample, seed, progress, represent)
    figures = month_figures(plans, days)
    spends = _spends_by_month(s)
    rows: list[MonthRow] = []
    gross_fees_total = 0
    for index, plan in enumerate(plans):
        row, gross_fees = _month_row(
            s,
            index,
            plan,
            plans[index - 1] if index else None,
            rows[-1] if rows else None,
            figures[plan.month],
            spends.get(plan.month, 0),
            layout.coverage[plan.month],
            plan.month in days,
        )
        rows.append(row)
        gross_fees_total += gross_fees
    acquirer_cut = gross_fees_total - sum(r.fees_fen for r in rows)
    return RolloutResult(
        scenario=s.name,
        source=s.source,
        seed=seed,
        sample=sample,
        phases=_phases(s),
        months=tuple(rows),
        targets=tuple(check_targets(s, rows)),
        sites=layout.sites,
        city=layout.city,
        flows=flows_of(rows, gross_fees_total, acquirer_cut),
        payback_month=payback_month(rows),
        wall_s=time.perf_counter() - started,
        notes=_notes(s, days, sample),
        budget_fen=s.finance.budget_fen,
        budget_month=s.finance.budget_month,
    )


def _representative_days(
    s: RolloutScenario,
    plans: list[MonthPlan],
    sample: float,
    seed: int,
    progress: Progress | None,
    represent: Represent,
) -> dict[str, DayFigures]:
    """The twin's day of every representative month, the i-th (in month order) under seed
    `seed * 1000 + i`."""
    chosen = sorted(set(representative_months(plans).values()))
    by_month = {p.month: p for p in plans}
    days: dict[str, DayFigures] = {}
    for i, month in enumerate(chosen):
        days[month] = represent(s, by_month[month], sample, seed * 1000 + i)
        if progress is not None:
            progress(i + 1, len(chosen))
    return days


def _spends_by_month(s: RolloutScenario) -> dict[str, int]:
    spends: dict[str, int] = {}
    for sp in s.spend:
        spends[sp.month] = spends.get(sp.month, 0) + sp.amount_fen
    return spends


def _month_row(
    s: RolloutScenario,
    index: int,
    plan: MonthPlan,
    before: MonthPlan | None,
    previous: MonthRow | None,
    day: DayFigures,
    spend_fen: int,
    coverage_share: float,
    representative_day: bool,
) -> tuple[MonthRow, int]:
    """Month number `index`: its day figures scaled by its cardholders and days, and its money.
    `before` and `previous` are the month before's plan and row (None for the first month).
    Returns the row and the month's gross clearing fees (before the acquirers' share)."""
    n, d = plan.cardholders, _days(plan.month)
    gross_fees_fen = round(day.fees_fen_per_holder * n * d)
    float_fen = round(day.float_fen_per_holder * n)
    spending_fen = round(day.purchases_fen_per_holder * n * d)
    # Over a month cardholders load what they spend plus what the float grows by (money is
    # conserved); one day's top-ups depend on that day's starting balances, so are not used.
    float_before_fen = previous.float_fen if previous is not None else 0
    loads_fen = max(0, spending_fen + float_fen - float_before_fen)
    money = month_money(s, index, plan, before, gross_fees_fen, float_fen, spend_fen)
    cash_before_fen = previous.cash_cumulative_fen if previous is not None else 0
    row = MonthRow(
        month=plan.month,
        phase=plan.phase,
        cardholders=n,
        cards_issued_in_month=plan.issued,
        issuance_limited_by=plan.limited_by,
        service_windows=plan.service_windows,
        recharge_points=plan.recharge_points,
        terminals=plan.terminals,
        terminals_by_kind=dict(plan.terminals_by_kind),
        sectors=plan.sectors,
        coverage_share=coverage_share,
        tx_per_day_by_sector={k: round(v * n) for k, v in day.taps_per_holder.items()},
        services_per_day={k: round(v * n) for k, v in day.services_per_holder.items()},
        card_spending_fen=spending_fen,
        loads_fen=loads_fen,
        float_fen=float_fen,
        fees_fen=money.fees_fen,
        float_income_fen=money.float_income_fen,
        revenue_fen=money.revenue_fen,
        investment_fen=money.investment_fen,
        opex_fen=money.opex_fen,
        cash_cumulative_fen=cash_before_fen + (money.revenue_fen - money.investment_fen - money.opex_fen),
        recharge_wait_s_mean=day.recharge_wait_s_mean,
        recharge_wait_s_p95=day.recharge_wait_s_p95,
        window_wait_s_mean=day.window_wait_s_mean,
        settlement_fen_by_participant={k: round(v * n * d) for k, v in day.positions_fen_per_holder.items()},
        representative_day=representative_day,
        applied=plan.applied,
        backlog=plan.backlog,
        backlog_wait_days=plan.backlog_wait_days,
        acceptance_share=plan.acceptance_share,
        recharge_points_limited_by=plan.recharge_points_limited_by,
        terminals_limited_by=plan.terminals_limited_by,
    )
    return row, gross_fees_fen


def _phases(s: RolloutScenario) -> tuple[Phase, ...]:
    """The scenario's phases in time order, cut at the span's end (an override may shorten it)."""
    end = s.rollout.end_month
    return tuple(
        Phase(p.name, p.start_month, min(p.end_month, end), p.sectors, p.source)
        for p in sorted(s.phase, key=lambda p: p.start_month)
        if p.start_month <= end
    )


def payback_month(rows: list[MonthRow]) -> str | None:
    """The first month the cumulative cash is back at or above zero after having gone below."""
    invested = False
    for r in rows:
        if r.cash_cumulative_fen < 0:
            invested = True
        elif invested:
            return r.month
    return None


def _notes(s: RolloutScenario, days: dict[str, DayFigures], sample: float) -> tuple[str, ...]:
    silent = sorted({x for p in s.phase for x in p.sectors if SECTORS[x] is None})
    notes = [
        f"representative days (twin runs at sample {sample}): {', '.join(sorted(days))}; a month "
        "takes the per-cardholder figures of its phase's representative days (linear between the two that "
        "bracket it, else the nearest), scaled by its own cardholders and days",
        f"twin days simulated {sum(d.citizens for d in days.values())} citizens' days in all",
        "revenue = clearing fees kept by the operator (the twin's T+1 settlement) + float interest + card "
        "sales + assumed value-added services; terminals and recharge points follow the milestones as fast "
        "as the installation crews and the year's capital allow (sim.rollout.install)",
        f"applications: generalised Bass (sim.rollout.adoption): p {s.adoption.innovation_p:g}, q "
        f"{s.adoption.imitation_q:g}, scaled by (1 - w) + w x acceptance with w "
        f"{s.adoption.acceptance_weight:g}; publicity {s.adoption.publicity_p_per_cny_per_person:g} per CNY "
        "per eligible person; eligibility by phase: "
        + ", ".join(f"{p.name} {p.eligible_persons:,} from {p.start_month}" for p in s.phase),
        f"coverage_share: residents within {s.deployment.walk_m:g} m walk along the streets of a recharge "
        f"point, points placed by sim.placement ({s.deployment.placement})",
    ]
    late = [t for t in s.target if t.due_month > s.rollout.end_month]
    if late:
        notes.append(
            f"{len(late)} target(s) due after end_month {s.rollout.end_month} not checked: "
            + ", ".join(f"{t.kpi} {t.due_month}" for t in late)
        )
    if silent:
        notes.append(
            f"sectors switched on but not simulated by the twin (no e-purse taps): {', '.join(silent)}"
        )
    fit = calibrate(s)
    if fit is not None:
        notes += calibration_lines(fit)
    return tuple(notes)
