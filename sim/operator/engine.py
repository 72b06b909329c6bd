"""The operator's business month by month, through five stages that start when their
conditions are reached (seed 000, the operating framework):

    1 launch             from the first month: cards issued to residents, bus and social
                         security first, the operator sells cards and takes fees
    2 value-added        when issuance saturates (cards issued reach `saturation_share` of the
                         eligible persons): value-added services earn, spending per card grows
    3 efficient ops      when the operating profit has been positive `profit_months` in a row
                         ("a stable profit model")
    4 capital operation  when the float passes `float_threshold_fen`: the float beyond the
                         reserve the policy requires is invested (before, all of it is reserve)
    5 diversified        when the operator's cash can fund a second city's platform: it takes
                         that city's card project (its cardholders pay a service fee) and the
                         card's media value is sold

Adoption is Bass diffusion of applications over the eligible persons, issued as fast as the
service windows produce cards (the backlog waits). Revenue streams are those the seed names:
card sales (price less cost), fees on spending, float income, value-added services and media
value, and the second city's fees; costs are the platform (month 0), the second city's
platform, and operating costs. Money is integer fen; the run is deterministic for its values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scenarios.framework_schema import FrameworkScenario
from sim.operator.policy import BP, FloatPolicy, Stress, month_income_fen, reserve_fen

STAGES = {
    1: "launch",
    2: "value-added services",
    3: "efficient operation",
    4: "capital operation",
    5: "diversified business",
}


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: int
    stage: int
    applied: int
    cardholders: int
    second_city_cardholders: int
    float_fen: int
    reserve_fen: int
    invested_fen: int
    revenue_fen: dict[str, int]
    cost_fen: int
    capex_fen: int
    cash_fen: int  # cumulative: revenue - cost - capex since the start

    @property
    def investment_income_fen(self) -> int:
        return self.revenue_fen["float income"]

    @property
    def profit_fen(self) -> int:
        return sum(self.revenue_fen.values()) - self.cost_fen


@dataclass(slots=True)
class FrameworkRun:
    scenario: str
    months: list[MonthRow] = field(default_factory=list)
    stage_start: dict[int, int] = field(default_factory=lambda: {1: 0})  # stage -> month index

    def at(self, month: int) -> MonthRow:
        return self.months[month]


def policy_of(s: FrameworkScenario) -> FloatPolicy:
    return FloatPolicy(
        s.v("float.reserve_confidence"),
        s.i("float.liquidity_horizon_days"),
        s.v("float.outflow_mean_share_per_day"),
        s.v("float.outflow_sd_share_per_day"),
        s.v("float.reserve_floor_share"),
        s.i("float.reserve_rate_bp"),
        s.i("float.yield_bp"),
        s.i("float.yield_sd_bp"),
    )


def stress_of(s: FrameworkScenario) -> Stress:
    return Stress(
        s.v("stress.refund_wave_share"),
        s.i("stress.refund_wave_days"),
        s.i("stress.yield_shock_bp"),
        s.i("stress.haircut_bp"),
    )


def _bass(applied: float, persons: int, p: float, q: float) -> float:
    return (p + q * applied / persons) * (persons - applied) if persons else 0.0


@dataclass(slots=True)
class _State:
    stage: int = 1
    applied: float = 0.0
    issued: int = 0
    second_applied: float = 0.0
    profit_run: int = 0
    cash_fen: int = 0


def _next_stage(st: _State, s: FrameworkScenario, row: MonthRow) -> bool:
    """Whether the month's figures meet the condition of the stage after the current one."""
    if st.stage == 1:
        return st.issued >= s.v("stages.saturation_share") * s.i("city.eligible_persons")
    if st.stage == 2:
        return st.profit_run >= s.i("stages.profit_months")
    if st.stage == 3:
        return row.float_fen >= s.i("stages.float_threshold_fen")
    if st.stage == 4:
        return s.i("city.second_city_persons") > 0 and st.cash_fen >= s.i("cost.second_city_fen")
    return False


def _month(st: _State, s: FrameworkScenario, m: int, yield_bp: int, policy: FloatPolicy) -> MonthRow:
    persons, p, q = s.i("city.eligible_persons"), s.v("adoption.innovation_p"), s.v("adoption.imitation_q")
    st.applied = min(float(persons), st.applied + _bass(st.applied, persons, p, q))
    capacity = (
        s.i("city.service_windows")
        * s.i("city.cards_per_window_per_day")
        * s.i("city.working_days_per_month")
    )
    new_cards = min(capacity, int(st.applied) - st.issued)
    st.issued += new_cards
    second = 0
    if st.stage >= 5:
        st.second_applied += _bass(st.second_applied, s.i("city.second_city_persons"), p, q)
        second = int(st.second_applied)
    spend = s.i("spending.spend_fen_per_cardholder_per_month")
    if st.stage >= 2:
        spend = int(spend * (1 + s.v("spending.spend_growth_stage2_share")))
    float_fen = st.issued * (s.i("spending.balance_fen_per_cardholder") + s.i("spending.deposit_fen"))
    reserve = float_fen if st.stage < 4 else reserve_fen(float_fen, policy)
    revenue = {
        "card sales": new_cards * (s.i("revenue.card_price_fen") - s.i("revenue.card_cost_fen")),
        "fees": st.issued * spend * s.i("revenue.fee_bp") // BP,
        "float income": month_income_fen(reserve, float_fen - reserve, policy.reserve_rate_bp, yield_bp),
        "value-added services": st.issued * s.i("revenue.vas_fen_per_cardholder_per_month")
        if st.stage >= 2
        else 0,
        "media value": st.issued * s.i("revenue.media_fen_per_cardholder_per_month") if st.stage >= 5 else 0,
        "second city": second * s.i("revenue.second_city_fee_fen_per_cardholder_per_month"),
    }
    cost = s.i("cost.opex_fen_per_month") + st.issued * s.i("cost.opex_fen_per_cardholder_per_month")
    capex = s.i("cost.platform_fen") if m == 0 else 0
    profit = sum(revenue.values()) - cost
    st.profit_run = st.profit_run + 1 if profit > 0 else 0
    st.cash_fen += profit - capex
    return MonthRow(
        m,
        st.stage,
        int(st.applied),
        st.issued,
        second,
        float_fen,
        reserve,
        float_fen - reserve,
        revenue,
        cost,
        capex,
        st.cash_fen,
    )


def run_framework(s: FrameworkScenario, yields_bp: list[int] | None = None) -> FrameworkRun:
    """Every month of the plan; `yields_bp` gives each year's yield (default: the scenario's)."""
    policy = policy_of(s)
    run = FrameworkRun(s.name)
    st = _State()
    for m in range(s.i("framework.months")):
        yield_bp = policy.yield_bp if yields_bp is None else yields_bp[m // 12]
        row = _month(st, s, m, yield_bp, policy)
        run.months.append(row)
        if st.stage < 5 and _next_stage(st, s, row):
            st.stage += 1
            run.stage_start[st.stage] = m + 1
            if st.stage == 5:
                st.cash_fen -= s.i("cost.second_city_fen")  # the second city's platform, paid on taking it
    return run
