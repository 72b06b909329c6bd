"""Who applies for a card each month: a generalised Bass diffusion with acceptance and publicity.

Of the M persons eligible in the current phase (eligibility by phase: who may apply when), those
who have not applied (M - A) apply at the monthly hazard

    h = (p + p_pub) x + q (N / M) x,      x = (1 - w) + w a

(Bass, Krishnan and Jain 1994: the Bass hazard scaled by a "marketing mix" term x). Here:

- N/M is imitation: people follow those who already carry the card (N), not the applications
  still waiting at the windows;
- a is acceptance, the share of the city's payment places that take the card (terminals in place
  / the day city's buses, taxis, gates and merchants, at most 1): a card nobody takes is not worth
  applying for; w in [0, 1] is how much of the hazard needs it (w = 0: the plain Bass curve);
- p_pub is publicity: a stock G of publicity spending (fen), topped up by each month's publicity
  spends and kept at a rate d a month (the memory of a campaign), adds k G / (100 M) to the
  innovation rate, k being innovation per CNY spent per eligible person.

All of w, k and d are ASSUMPTION values in a scenario, with ranges drawn by replications; with
w = 0 and k = 0 the curve is the plain Bass one the earlier plans used. Pure functions.
"""

from __future__ import annotations

import math

from scenarios.rollout_schema import Adoption, RolloutScenario

FEN_PER_CNY = 100
HAZARD_MAX = 1.0  # a month's hazard is a share of those who have not applied


def fleet_of(s: RolloutScenario) -> int:
    """The payment places of the rollout's day city: buses, taxis, metro gates and merchants (the
    fleet a fully deployed plan equips)."""
    if s.city_day is None:
        return 0
    c = s.city_day.city
    gates = c.metro_lines * c.stations_per_metro_line * c.gates_per_station
    return c.buses + c.taxis + gates + c.merchants


def acceptance_share(terminals: int, fleet: int) -> float:
    """Share of the city's payment places that take the card (1 when no fleet is known)."""
    return min(1.0, terminals / fleet) if fleet > 0 else 1.0


def publicity_stock(stock_before_fen: float, spent_fen: int, kept_per_month: float) -> float:
    """The publicity stock after this month: what is left of the old one plus this month's spend."""
    assert spent_fen >= 0 and 0.0 <= kept_per_month <= 1.0, (spent_fen, kept_per_month)
    return stock_before_fen * kept_per_month + spent_fen


def hazard(a: Adoption, cardholders: int, eligible: int, acceptance: float, publicity_fen: float) -> float:
    """The month's application hazard of an eligible person who has not applied."""
    if eligible <= 0:
        return 0.0
    mix = (1.0 - a.acceptance_weight) + a.acceptance_weight * acceptance
    p_pub = a.publicity_p_per_cny_per_person * publicity_fen / FEN_PER_CNY / eligible
    return min(HAZARD_MAX, (a.innovation_p + p_pub + a.imitation_q * cardholders / eligible) * mix)


def applications(applied: int, eligible: int, h: float) -> int:
    """New applications this month from the eligible persons who have not applied."""
    if eligible <= applied:
        return 0
    return math.floor(h * (eligible - applied))
