"""Settlement flows and positions over a period the viewer picks, from the months' money.

`sim.rollout.sites.flows_of` builds the flows of any run of months; here the dashboard asks it
for the months shown (a month, or a range on the flows view) and nets them into positions,
the reserve included, so what the page shows adds up: into the reserve the period's loads,
out of it its spending, kept the float's growth, and every position nets to zero.
"""

from __future__ import annotations

from collections import defaultdict

from sim.rollout import Flow, RolloutResult
from sim.rollout.sites import ACQUIRER, OPERATOR, RESERVE, flows_of


def _fee_split(result: RolloutResult) -> tuple[int, int]:
    """(gross fees, the acquirer's cut) over the run: their ratio splits any period's fees."""
    gross = sum(f.amount_fen for f in result.flows if f.payer == RESERVE and f.payee == OPERATOR)
    acquirer = sum(f.amount_fen for f in result.flows if f.payer == OPERATOR and f.payee == ACQUIRER)
    return gross, acquirer


def period_flows(result: RolloutResult, first: int, last: int) -> tuple[Flow, ...]:
    """The flows of months `first` .. `last` (indices, inclusive)."""
    assert 0 <= first <= last < len(result.months), (first, last)
    return flows_of(result.months[first : last + 1], *_fee_split(result))


def positions(flows: tuple[Flow, ...]) -> dict[str, int]:
    """Net position of each participant (+ receives, - pays); they sum to zero."""
    net: dict[str, int] = defaultdict(int)
    for f in flows:
        net[f.payer] -= f.amount_fen
        net[f.payee] += f.amount_fen
    return dict(net)


def month_positions(result: RolloutResult, index: int) -> dict[str, int]:
    return positions(period_flows(result, index, index))


def reconciliation(result: RolloutResult, first: int, last: int) -> dict[str, int]:
    """The period's own figures beside what its flows move, for the page's check line."""
    rows = result.months[first : last + 1]
    flows = period_flows(result, first, last)
    return {
        "loads_fen": sum(r.loads_fen for r in rows),
        "into_reserve_fen": sum(f.amount_fen for f in flows if f.payee == RESERVE),
        "spending_fen": sum(r.card_spending_fen for r in rows),
        "out_of_reserve_fen": sum(f.amount_fen for f in flows if f.payer == RESERVE),
        "fees_fen": sum(r.fees_fen for r in rows),
        "reserve_kept_fen": positions(flows).get(RESERVE, 0),
    }
