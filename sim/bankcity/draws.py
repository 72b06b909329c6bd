"""What the cardholders of a sample day set out to do, drawn before the day runs (seeded).

Payments per channel that the month's phase switches on: a Poisson count per cardholder of
`tx_per_holder_per_day` x the channel's acceptance (the share of its terminals deployed), at a
uniform time between 06:00 and 22:00 (ASSUMPTION: no time-of-day profile for bank cards is in
the seeds), an exponential amount of `amount_fen_mean`. EC unloads (圈提): a Poisson count per
cardholder of `[cards] ec_unloads_per_holder_per_day` at a uniform time; the amount is the
card's EC balance when the holder reaches the load point. Each kind draws from its own named
stream, so adding one leaves the others' draws unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.bank_schema import BankCity, Channel
from scenarios.schema import ScenarioError
from sim.rng import stream

DAY_START_H, DAY_END_H = 6.0, 22.0
AMOUNT_CAP_MEANS = 10  # an amount above ten means is redrawn as ten means: no CNY 10,000 bus fare
PAYMENTS_MAX = 2_000_000  # a day's payments in one sample: more is a scenario mistake


@dataclass(frozen=True, slots=True)
class Payment:
    at_s: float
    holder: int
    channel: Channel
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Unload:
    """A holder who takes the card's electronic cash back to the account (圈提)."""

    at_s: float
    holder: int


def draw_payments(
    city: BankCity, sectors: tuple[str, ...], acceptance: dict[str, float], seed: int
) -> list[Payment]:
    """The day's payments of the sample, in time order (ties by draw order)."""
    n = city.run.cardholders_simulated
    out: list[Payment] = []
    for index, ch in enumerate(city.channel):
        if ch.sector not in sectors:
            continue
        rng = stream(seed, f"bankcity/channel/{index}")
        counts = rng.poisson(ch.tx_per_holder_per_day * acceptance[ch.acquirer], size=n)
        holders = np.repeat(np.arange(n), counts)
        at_s = rng.uniform(DAY_START_H * 3600, DAY_END_H * 3600, size=len(holders))
        amounts = np.minimum(
            rng.exponential(ch.amount_fen_mean, size=len(holders)), AMOUNT_CAP_MEANS * ch.amount_fen_mean
        )
        out += [
            Payment(float(t), int(h), ch, max(1, int(a)))
            for t, h, a in zip(at_s, holders, amounts, strict=True)
        ]
        if len(out) > PAYMENTS_MAX:
            raise ScenarioError(f"bank-card day: more than {PAYMENTS_MAX} payments in the sample")
    return sorted(out, key=lambda p: p.at_s)


def draw_unloads(city: BankCity, seed: int) -> list[Unload]:
    """The day's EC unloads of the sample, in time order."""
    rng = stream(seed, "bankcity/unloads")
    counts = rng.poisson(city.cards.ec_unloads_per_holder_per_day, size=city.run.cardholders_simulated)
    holders = np.repeat(np.arange(len(counts)), counts)
    at_s = rng.uniform(DAY_START_H * 3600, DAY_END_H * 3600, size=len(holders))
    return sorted(
        (Unload(float(t), int(h)) for t, h in zip(at_s, holders, strict=True)), key=lambda u: u.at_s
    )
