"""The rollout scenario: a city's card plan over years, as the tables of its TOML file.

A rollout scenario names a day scenario (the city's habits and fares, `scenarios/*.toml`)
and adds what changes month by month: phases that switch sectors on, an adoption curve and
the service windows that issue cards, deployment milestones for recharge points and
terminals, the money (investment, running costs, prices, float interest, a third-party
acquirer's share) and the targets the plan promises. Each table is a frozen dataclass whose
fields carry their unit, meaning and range (`param`), so the strict builder and the reference
documentation read the same declaration; units are in the key names. The rules across fields
are in `scenarios.rollout_checks`, and `scenarios.rollout_loader.load_rollout` reads a file
through both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarios.months import month_range
from scenarios.schema import Scenario
from scenarios.strict_tables import param
from scenarios.toml_source import Located

KPIS = ("cardholders", "recharge_points", "terminals", "revenue_fen", "card_spending_fen")
# Sectors a phase may switch on, and which of the twin's tap kinds carries each one's payments.
# Sectors mapped to None are switched on in the plan (medical insurance, social security) but
# make no e-purse taps, so the twin does not simulate them; the report lists them as such.
SECTORS: dict[str, str | None] = {
    "bus": "bus",
    "metro": "metro",
    "light_rail": "metro",
    "taxi": "taxi",
    "retail": "retail",
    "malls": "retail",
    "fuel": "retail",
    "parking": "retail",
    "utilities": "retail",
    "leisure": "retail",
    "expressway": "retail",
    "lottery": "retail",
    "small_payments": "retail",
    "schools": "retail",
    "bank_cards": "retail",
    "bike": None,
    "ferry": None,
    "medical": None,
    "social_security": None,
    "housing_fund": None,
    "government": None,
}
# How recharge points may be sited: sim.placement.deploy's plan and its baselines.
PLACEMENTS = ("greedy", "uniform", "random")


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutRun:
    name: str = param(unit="", doc="short name, used for results folders", low=None)
    title: str = param("", unit="", doc="one line saying what the scenario is", low=None)
    day_scenario: str = param(
        "../default.toml",
        unit="path",
        doc="day scenario (relative to this file) whose city each month maps onto",
    )
    start_month: str = param(unit="YYYY-MM", doc="first month simulated", kind="month")
    end_month: str = param(unit="YYYY-MM", doc="last month simulated (inclusive)", kind="month")
    seed: int = param(1, unit="", doc="seed of every random stream (same seed, same result)")
    sample: float = param(
        0.001,
        unit="share",
        doc="share of cardholders simulated in each representative day",
        high=1,
        allowed="> 0, <= 1",
    )
    source: str = param("", unit="", doc="seed-facts sections this scenario cites", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Adoption:
    """Applications: a generalised Bass diffusion (`sim.rollout.adoption`), issued by the windows."""

    innovation_p: float = param(0.01, unit="per month", doc="Bass innovation coefficient p", high=1)
    imitation_q: float = param(0.08, unit="per month", doc="Bass imitation coefficient q", high=1)
    initial_cardholders: int = param(0, unit="persons", doc="cards in hands before start_month")
    cards_per_window_per_day: int = param(
        150, unit="cards per window per working day", doc="issuance capacity of one service window"
    )
    working_days_per_month: int = param(22, unit="days", doc="days service windows open in a month", high=31)
    acceptance_weight: float = param(
        0.0,
        unit="share",
        doc="how much of the application hazard needs acceptance (terminals / the city's fleet); 0: Bass",
        high=1,
    )
    publicity_p_per_cny_per_person: float = param(
        0.0,
        unit="per month per CNY per eligible person",
        doc="innovation added by the publicity stock ([[spend]] whose `what` starts with publicity)",
        high=10,
    )
    publicity_kept_per_month: float = param(
        0.7, unit="share", doc="share of the publicity stock still working a month later", high=1
    )
    source: str = param("", unit="", doc="why these values", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """How counts become a day's terminals, and how far citizens walk to a recharge point."""

    bus_share: float = param(0.6, unit="share", doc="terminals that are bus validators", high=1)
    taxi_share: float = param(0.25, unit="share", doc="terminals that are taxi terminals", high=1)
    gate_share: float = param(0.0, unit="share", doc="terminals that are metro gates", high=1)
    pos_share: float = param(0.15, unit="share", doc="terminals that are merchant POS", high=1)
    walk_m: float = param(800.0, unit="m", doc="walking distance counted as covered by a recharge point")
    urban_area_km2: float = param(400.0, unit="km2", doc="area the recharge points serve", low=1)
    placement: str = param(
        "greedy",
        unit="",
        doc="how recharge points are sited: greedy max walking coverage, or a baseline",
        choices=PLACEMENTS,
    )
    points_per_site_max: int = param(4, unit="points", doc="recharge points one site may hold", low=1)
    recharge_points_factor: float = param(
        1.0, unit="x", doc="multiplies every milestone's recharge points (a sweep knob)", high=100
    )
    terminals_factor: float = param(1.0, unit="x", doc="multiplies every milestone's terminals", high=100)
    service_windows_factor: float = param(
        1.0, unit="x", doc="multiplies every milestone's service windows (at least one stays)", high=100
    )
    install_recharge_points_per_month: int = param(
        0, unit="points a month", doc="recharge points the installation crews can open a month (0: no limit)"
    )
    install_terminals_per_month: int = param(
        0, unit="terminals a month", doc="terminals the installation crews can install a month (0: no limit)"
    )
    install_capacity_factor: float = param(
        1.0, unit="x", doc="multiplies both installation capacities (a sweep knob)", high=100
    )
    source: str = param("", unit="", doc="why these values", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finance:
    platform_fen: int = param(0, unit="fen", doc="platform and data centre investment")
    platform_months: int = param(
        12, unit="months", doc="months from start_month over which it is spent", low=1
    )
    recharge_point_fen: int = param(0, unit="fen", doc="investment per recharge point opened")
    terminal_fen: int = param(0, unit="fen", doc="investment per terminal deployed")
    service_window_fen: int = param(0, unit="fen", doc="investment per service window opened")
    platform_opex_fen_per_month: int = param(0, unit="fen per month", doc="running the platform")
    recharge_point_opex_fen_per_month: int = param(0, unit="fen per month", doc="per recharge point")
    terminal_opex_fen_per_month: int = param(0, unit="fen per month", doc="per terminal (maintenance, lines)")
    service_window_opex_fen_per_month: int = param(0, unit="fen per month", doc="per window (staff)")
    card_price_fen: int = param(0, unit="fen", doc="operator revenue per card issued (sale or fee)")
    card_cost_fen: int = param(0, unit="fen", doc="cost of one card (chip, printing)")
    float_rate_bp: int = param(0, unit="bp per year", doc="interest earned on the float", high=10000)
    service_revenue_fen_per_cardholder_per_month: int = param(
        0, unit="fen per cardholder per month", doc="value-added services outside the e-purse (assumed)"
    )
    acquirer_terminal_share: float = param(
        0.0, unit="share", doc="terminals a third-party acquirer invests in (not the operator)", high=1
    )
    acquirer_fee_share: float = param(
        0.0, unit="share", doc="share of fees on acquirer terminals paid to the acquirer", high=1
    )
    budget_fen: int = param(0, unit="fen", doc="investment the plan budgets up to budget_month (0: none)")
    capital_fen_per_year: int = param(
        0,
        unit="fen per calendar year",
        doc="operator's capital for new recharge points and its own terminals (0: no limit; acquirer-funded "
        "terminals are outside it)",
    )
    budget_month: str = param(
        "", unit="YYYY-MM", doc="month by which budget_fen is to be spent (with budget_fen)", low=None
    )
    source: str = param("", unit="", doc="why these values", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhasePlan:
    name: str = param(unit="", doc="phase name", low=None)
    start_month: str = param(unit="YYYY-MM", doc="first month", kind="month")
    end_month: str = param(unit="YYYY-MM", doc="last month (inclusive)", kind="month")
    sectors: tuple[str, ...] = param(
        unit="sector names", doc="sectors switched on by the end of this phase", choices=tuple(SECTORS)
    )
    eligible_persons: int = param(unit="persons", doc="Bass market potential M while the phase runs")
    source: str = param("", unit="", doc="seed-facts section", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone:
    """Counts in place by a month; deployment is linear between milestones."""

    month: str = param(unit="YYYY-MM", doc="month by whose end the counts are in place", kind="month")
    recharge_points: int = param(unit="points", doc="recharge points in service")
    terminals: int = param(unit="terminals", doc="payment terminals (bus, taxi, gate, POS)")
    service_windows: int = param(unit="windows", doc="staffed windows issuing cards", low=1)
    source: str = param("", unit="", doc="seed-facts section", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetPlan:
    kpi: str = param(unit="", doc="what is promised (money per calendar year)", choices=KPIS)
    due_month: str = param(unit="YYYY-MM", doc="month by which it is due", kind="month")
    low: int = param(unit="the kpi's unit", doc="met when actual >= low")
    high: int | None = param(None, unit="the kpi's unit", doc="upper end of a range (informative)")
    source: str = param("", unit="", doc="seed-facts section", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """Cards issued in bulk (an employer, a benefit scheme), outside the window queue."""

    month: str = param(unit="YYYY-MM", doc="month issued", kind="month")
    cards: int = param(unit="cards", doc="cards issued at once")
    source: str = param("", unit="", doc="seed-facts section", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spend:
    """A one-off investment (publicity, a data centre extension) in a month."""

    month: str = param(unit="YYYY-MM", doc="month spent", kind="month")
    amount_fen: int = param(unit="fen", doc="amount")
    what: str = param("", unit="", doc="what it buys", low=None)
    source: str = param("", unit="", doc="seed-facts section", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssumptionRange:
    """An ASSUMPTION value's plausible range: `cardtwin rollout --replications N` draws it uniformly
    in [low, high] for each replication (rounded when the value is a whole number)."""

    key: str = param(
        unit="dotted name",
        doc="the value, named as `--set` names it (`adoption.imitation_q`, `phase.pilot.eligible_persons`)",
        low=None,
    )
    low: float = param(unit="the value's unit", doc="lowest plausible value", low=None)
    high: float = param(unit="the value's unit", doc="highest plausible value (> low)", low=None)
    fit: bool = param(
        False, unit="", doc="calibration fits this value to the [[observation]]s, inside the range"
    )
    source: str = param("", unit="", doc="why this range (ASSUMPTION: reason, or a source)", low=None)


OBSERVED = ("cardholders", "applied")


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """A dated figure the city reported: calibration fits the `fit` assumptions to these."""

    month: str = param(unit="YYYY-MM", doc="month by whose end the figure was reported", kind="month")
    kpi: str = param(unit="", doc="cards issued (cardholders) or cumulative applications", choices=OBSERVED)
    value: int = param(unit="cards or applications", doc="the reported figure")
    sigma: int = param(
        unit="the kpi's unit", doc="its uncertainty (one standard deviation: rounding, a '+')", low=1
    )
    source: str = param("", unit="", doc="seed-facts section", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutScenario:
    rollout: RolloutRun = param(unit="", doc="[rollout]: name, span, day scenario, sample")  # noqa: RUF009
    adoption: Adoption = param(Adoption(), unit="", doc="[adoption]: the adoption curve and issuance")  # noqa: RUF009
    deployment: Deployment = param(Deployment(), unit="", doc="[deployment]: terminal mix and coverage")  # noqa: RUF009
    finance: Finance = param(Finance(), unit="", doc="[finance]: investment, costs and revenue")  # noqa: RUF009
    phase: tuple[PhasePlan, ...] = param(unit="", doc="[[phase]]: consecutive phases covering the span")
    milestone: tuple[Milestone, ...] = param(unit="", doc="[[milestone]]: deployment plan")
    target: tuple[TargetPlan, ...] = param((), unit="", doc="[[target]]: promised figures")
    batch: tuple[Batch, ...] = param((), unit="", doc="[[batch]]: bulk issuance")
    spend: tuple[Spend, ...] = param((), unit="", doc="[[spend]]: one-off investments")
    assumption: tuple[AssumptionRange, ...] = param(
        (), unit="", doc="[[assumption]]: ranges of ASSUMPTION values drawn by replications"
    )
    observation: tuple[Observation, ...] = param(
        (), unit="", doc="[[observation]]: dated figures calibration fits to"
    )
    day: dict[str, Any] = param({}, unit="", doc="[day.<section>]: values replacing the day scenario's")  # noqa: RUF009
    source: str = "<memory>"
    located: Located | None = None
    city_day: Scenario | None = None  # the day scenario with [day] applied

    @property
    def name(self) -> str:
        return self.rollout.name

    def months(self) -> list[str]:
        return month_range(self.rollout.start_month, self.rollout.end_month)

    @property
    def day_scenario(self) -> Scenario:
        assert self.city_day is not None, "built by load_rollout"
        return self.city_day
