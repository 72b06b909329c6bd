"""What a rollout run hands to its readers: the report, `compare`, `sweep` and the dashboard.

A rollout advances a city month by month (issuance, deployment, sectors switched on by phase)
and runs representative days of the twin to measure volumes, queues and money. Its result is
plain, frozen data so that it pickles across Dask workers, caches in Streamlit and writes to
SQLite and CSV without adapters. Money is integer fen; counts are whole-city (already scaled
by the sampling weight); a month is the ISO string "YYYY-MM".

This module is the contract between the rollout engine (`sim/rollout/engine.py`), sweeps
(`sim/sweep/`) and the dashboard (`dashboard/`); the sites and the map come from the deployment
planner (`sim/placement/sites.py`). Add
fields with defaults; do not rename or remove one without changing every reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sim.placement import CityMap, Site

# The KPI names a target may name. Money KPIs are per calendar year, counts are at the due month.
KPI_COUNTS = ("cardholders", "recharge_points", "terminals")
KPI_MONEY_PER_YEAR = ("revenue_fen", "card_spending_fen")
KPIS = KPI_COUNTS + KPI_MONEY_PER_YEAR


@dataclass(frozen=True, slots=True)
class Phase:
    """A named span of months with the sectors switched on in it (seed plans' phases or stages)."""

    name: str
    start_month: str
    end_month: str
    sectors: tuple[str, ...]
    source: str = ""  # seed-facts section, or "ASSUMPTION: why"


@dataclass(frozen=True, slots=True)
class Target:
    """One figure a seed plan promises by a date: `low <= actual` meets it (`high` is informative)."""

    kpi: str  # one of KPIS
    due_month: str
    low: int
    high: int | None = None
    source: str = ""


# What a target's figure is: a plan input restated (a milestone or batch the scenario sets) is
# never an achievement; only a figure the model computes can meet or miss its target.
SOURCE_PLAN_INPUT = "plan input"
SOURCE_PREDICTION = "prediction"


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """A target against the run. `p_met` with its 95% interval and the predicted figure's 90%
    interval come from replications (`cardtwin rollout --replications N`); one run leaves them
    None."""

    target: Target
    actual: int
    met: bool
    gap: int  # actual - low: negative means missed by that much
    source: str = SOURCE_PREDICTION  # SOURCE_PLAN_INPUT or SOURCE_PREDICTION
    verdict: str = ""  # "met", "missed", "above range", "plan input"; empty: derive from `met`
    p_met: float | None = None
    p_met_low: float | None = None
    p_met_high: float | None = None
    why: str = ""  # a plan input: why the scenario sets the figure; a miss: what held it back
    # The predicted figure over the replications: median and the 90% interval (5% and 95%
    # quantiles); one run leaves them None, a plan input too (the scenario sets its figure).
    predicted_median: float | None = None
    predicted_low: float | None = None
    predicted_high: float | None = None
    replications: int = 0

    @property
    def gap_share(self) -> float:
        return self.gap / self.target.low if self.target.low else 0.0


@dataclass(frozen=True, slots=True)
class MonthRow:
    """The city at the end of one month. Day figures come from the nearest representative day."""

    month: str
    phase: str
    cardholders: int
    cards_issued_in_month: int
    issuance_limited_by: str  # "windows" (service capacity) or "demand" (adoption curve)
    service_windows: int
    recharge_points: int
    terminals: int
    terminals_by_kind: dict[str, int]
    sectors: tuple[str, ...]
    coverage_share: float  # citizens within walking distance of a recharge point, 0..1
    tx_per_day_by_sector: dict[str, int]
    card_spending_fen: int  # purchases in the month
    loads_fen: int  # loads in the month
    float_fen: int  # e-purse balances outstanding at month end (沉淀资金)
    fees_fen: int  # clearing fees earned by the operator in the month
    float_income_fen: int  # interest on the float in the month
    revenue_fen: int  # fees + float income + card sales in the month
    investment_fen: int  # capital spent in the month (platform, outlets, terminals)
    opex_fen: int
    cash_cumulative_fen: int  # sum of (revenue - investment - opex) so far
    recharge_wait_s_mean: float
    recharge_wait_s_p95: float
    window_wait_s_mean: float
    settlement_fen_by_participant: dict[str, int]  # net T+1 position, + receives, - pays
    representative_day: bool = False  # True when this month's day figures were simulated
    applied: int = 0  # cumulative applications for a card (>= cardholders)
    backlog: int = 0  # applications waiting at the service windows at month end
    backlog_wait_days: float = 0.0  # working days a new application waits for its card
    acceptance_share: float = 1.0  # terminals in place / the city's fleet: what adoption responds to
    recharge_points_limited_by: str = "plan"  # what held them back this month: plan, crews, capital
    terminals_limited_by: str = "plan"
    # With [services]: the services' figures of a day, city-wide (counts; money in fen), from
    # the representative days (sim.rollout.days.SERVICES_KEPT); empty without [services].
    services_per_day: dict[str, int] = field(default_factory=dict)


# The month's single-valued figures, in field order: one table column each (the dictionaries
# and tuples are laid out by each reader in its own way).
MONTH_SCALARS = tuple(
    f.name
    for f in fields(MonthRow)
    if f.name
    not in (
        "terminals_by_kind",
        "sectors",
        "tx_per_day_by_sector",
        "settlement_fen_by_participant",
        "services_per_day",
    )
)


@dataclass(frozen=True, slots=True)
class Flow:
    """Money settled from one participant to another over a period (T+1 instructions summed)."""

    payer: str
    payee: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class RolloutResult:
    scenario: str  # the scenario's name
    source: str  # the scenario file
    seed: int
    sample: float
    phases: tuple[Phase, ...]
    months: tuple[MonthRow, ...]
    targets: tuple[TargetCheck, ...]
    sites: tuple[Site, ...]
    city: CityMap
    flows: tuple[Flow, ...]
    payback_month: str | None  # first month with cash_cumulative_fen >= 0 after investing
    wall_s: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    budget_fen: int = 0  # investment the plan budgets up to budget_month (0: no budget given)
    budget_month: str = ""

    def month(self, month: str) -> MonthRow:
        for row in self.months:
            if row.month == month:
                return row
        raise KeyError(month)

    def phase_of(self, month: str) -> Phase:
        for phase in self.phases:
            if phase.start_month <= month <= phase.end_month:
                return phase
        raise KeyError(month)
