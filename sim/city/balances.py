"""Opening balances in the steady state of the cardholders' top-up habit, by a warm-up.

A day that opens with balances drawn from an assumed distribution is a start-up transient:
with a gamma of mean CNY 30, a week's loads came to 1.98x its spending. The habit the twin
runs (`sim.day.twin`) is: pay, and if the balance is then under the threshold T, load A; a
payment refused for want of balance also sends the citizen to load A. Its stationary
balances are not a simple shape (the refusals load at any balance under a purchase), so they
are reached by running the habit itself: WARMUP_DAYS days of each citizen's payments, drawn
with the day's own rates and mean amounts, from a balance uniform over one tooth of the
sawtooth [T, T + A) (the stationary law without refusals). The warm-up is a numpy chain, not
the twin: it moves no money and runs no protocol; it only says where balances stand when the
simulated day begins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.card import CardType
from scenarios.schema import Scenario

WARMUP_DAYS = 60  # days of payments before the simulated one (the chain forgets its start in ~A / spend)
EVENTS_PER_DAY_MAX = 40  # a guard: no cardholder pays forty times a day


def _fares(s: Scenario, kind: np.ndarray, has_pass: np.ndarray) -> np.ndarray:
    """Each citizen's mean transit fare (bus or metro, with the e-purse rate and concessions)."""
    f = s.fares
    bus = f.bus_fare_fen * f.epurse_percent / 100
    mean = (1 - s.population.metro_share) * bus + s.population.metro_share * f.metro_base_fen
    share = np.ones(len(kind))
    share[kind == CardType.STUDENT] = f.student_percent / 100
    share[kind == CardType.ELDERLY] = f.elderly_percent / 100
    share[has_pass] *= f.monthly_pass_percent / 100
    return np.asarray(mean * share)


def warm_balances(
    s: Scenario,
    rng: np.random.Generator,
    columns: dict[str, np.ndarray],
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Opening balances (fen) after the warm-up, of the citizens `rows` (all when None); without
    a top-up habit (A = 0) the scenario's mean balance (a gamma of shape 2) stands in, as there
    is no steady state to reach."""
    p = s.population
    n = len(columns["card_type"])
    mine = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    threshold, amount = p.topup_threshold_fen, p.topup_amount_fen
    if amount <= 0:
        return np.asarray(rng.gamma(2.0, p.initial_balance_fen_mean / 2.0, n)[mine])
    balance = rng.uniform(threshold, threshold + amount, n)[mine]
    return pay_days(s, rng, columns, balance, WARMUP_DAYS, mine)[0]


HABIT_KINDS = ("transit", "taxi", "retail")  # the chain's payment kinds, in `HabitTally`'s order


@dataclass(slots=True)
class HabitTally:
    """What the chain's payments came to, by kind (HABIT_KINDS): tried, paid, and refused for
    want of balance (a refused payment is not retried: its owner goes to load)."""

    attempts: np.ndarray = field(default_factory=lambda: np.zeros(3, np.int64))
    refused: np.ndarray = field(default_factory=lambda: np.zeros(3, np.int64))
    attempted_fen: np.ndarray = field(default_factory=lambda: np.zeros(3))
    paid_fen: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def add(self, kind: np.ndarray, price: np.ndarray, short: np.ndarray) -> None:
        self.attempts += np.bincount(kind, minlength=3)
        self.refused += np.bincount(kind[short], minlength=3)
        self.attempted_fen += np.bincount(kind, weights=price, minlength=3)
        self.paid_fen += np.bincount(kind[~short], weights=price[~short], minlength=3)


def pay_days(
    s: Scenario,
    rng: np.random.Generator,
    columns: dict[str, np.ndarray],
    balance: np.ndarray,
    days: int,
    rows: np.ndarray | None = None,
    tally: HabitTally | None = None,
) -> tuple[np.ndarray, int]:
    """`days` days of the habit from `balance` (of the citizens `rows` of `columns`, all when
    None): the balances after them and the loads made (the warm-up's chain); `tally`, when
    given, adds up the payments by kind (it draws nothing: the chain is the same without it).

    Every citizen's numbers are drawn, in one order, whatever `rows` are (a Poisson or an
    exponential draw takes a varying count of the stream's numbers, so none can be skipped), so
    a row's balance is the same whichever rows are asked for; the chain's arithmetic runs only
    on the rows asked for, and each payment round only on those still paying that day."""
    p = s.population
    n = len(columns["card_type"])
    mine = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    assert len(balance) == len(mine)
    balance = np.array(balance, np.float64)
    threshold, amount = p.topup_threshold_fen, p.topup_amount_fen
    fare = _fares(s, columns["card_type"][mine], columns["has_pass"][mine])
    f = s.fares
    taxi = f.taxi_flag_fen + f.taxi_per_km_fen * max(0.0, f.taxi_trip_km_mean - f.taxi_flag_km)
    rates = np.stack([columns["trip_rate"], columns["taxi_rate"], columns["merchant_rate"]]).astype(
        np.float64
    )
    per_day = rates.sum(axis=0)  # every citizen's: the Poisson draws take each one's rate
    # a Poisson number of payments a day, each of a kind in proportion to its rate: the same law
    # as independent Poisson counts per kind
    cut_transit = rates[0, mine] / np.maximum(per_day[mine], 1e-12)
    cut_taxi = (rates[0, mine] + rates[1, mine]) / np.maximum(per_day[mine], 1e-12)
    del rates
    # Drawn into the same two buffers every round (a fresh array a round costs its page faults);
    # an exponential of scale m is m times a standard one, to the bit (numpy multiplies so).
    u_all, unit_all = np.empty(n), np.empty(n)
    loads = 0
    for _ in range(days):
        total_all = np.minimum(rng.poisson(per_day), EVENTS_PER_DAY_MAX)
        total = total_all[mine]
        for k in range(int(total_all.max(initial=0))):
            rng.random(out=u_all)
            rng.standard_exponential(out=unit_all)
            paying = np.flatnonzero(total > k)  # positions in `mine`
            if not len(paying):
                continue
            who = mine[paying]
            u, held = u_all[who], balance[paying]
            shop = p.merchant_spend_fen_mean * unit_all[who]
            price = np.where(
                u < cut_transit[paying], fare[paying], np.where(u < cut_taxi[paying], taxi, shop)
            )
            short = price > held
            if tally is not None:
                kind = (u >= cut_transit[paying]).astype(np.int64) + (u >= cut_taxi[paying])
                tally.add(kind, price, short)
            held = np.where(short, held, held - price)
            low = short | (held < threshold)
            loads += int(low.sum())
            balance[paying] = np.where(low, held + amount, held)
    return balance, loads
