"""The day's service events, drawn per citizen so that a citizen's day does not depend on the
sharding: every draw is made for the whole sampled population from a named stream, and a shard
keeps its own citizens' events (citizens are dealt to shards round-robin, as in `sim.city`).

Hours of each service (ASSUMPTION, opening hours of the late 2000s, not in the seeds): clinics
08-17, bike stations 06-21, libraries 09-20, parks 06-18, elderly concessions 08-18, online
payments all day, lost cards noticed 07-22, pass activations in the centre's hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.schema import Scenario
from sim.city.population import sampled_citizens
from sim.rng import stream

HOURS = {
    "medical": (8.0, 17.0),
    "bike": (6.0, 21.0),
    "library": (9.0, 20.0),
    "park": (6.0, 18.0),
    "elderly": (8.0, 18.0),
    "payment": (0.0, 24.0),
    "lost": (7.0, 22.0),
    "pass": (8.5, 17.0),
}
EVENTS_PER_CITIZEN_MAX = 20  # Poisson counts are capped: no one makes 20 bike rentals a day
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class Events:
    """One service's events of this shard, time-sorted: citizen is the global index."""

    t_s: np.ndarray
    citizen: np.ndarray
    a: np.ndarray
    b: np.ndarray
    key: np.ndarray  # the event's number among the day's events of its service (any shard)

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True, slots=True)
class Traits:
    """Per-citizen facts the day keeps. The three that set a service's rate are of the whole
    sampled population (index = citizen: every citizen's events are drawn, whatever the shard);
    the payment habits only of this shard's citizens (index = the shard's row)."""

    insured: np.ndarray
    funded: np.ndarray
    park_holder: np.ndarray
    pays_from_account: np.ndarray  # by row
    pays_by_purse: np.ndarray  # by row; of those who do not pay from the account: the e-purse habit


@dataclass(frozen=True, slots=True)
class OpeningTraits:
    """This shard's citizens' opening positions (index = the shard's row), used once, to open
    the back office: not kept over the day."""

    voucher: np.ndarray
    medical_fen: np.ndarray
    account_fen: np.ndarray


def traits(s: Scenario, rows: np.ndarray) -> tuple[Traits, OpeningTraits]:
    """The traits, drawn for the whole sampled population (so a citizen's do not depend on the
    sharding), kept for the shard's citizens `rows` where the day needs no more."""
    assert s.services is not None
    n = sampled_citizens(s)
    rng = stream(s.run.seed, "services/traits")
    m, a, i = s.services.medical, s.services.account, s.services.identity
    funded = rng.random(n) < a.holder_share
    insured = rng.random(n) < m.insured_share
    voucher = funded & (rng.random(n) < a.voucher_share)
    park_holder = rng.random(n) < i.park_card_share
    pays_from_account = funded & (rng.random(n) < m.own_from_account_share)
    medical_fen = np.round(rng.exponential(max(1, m.medical_account_fen_mean), n)).astype(np.int64)
    account_fen = np.round(rng.exponential(max(1, a.opening_fen_mean), n)).astype(np.int64)
    # Drawn last, from its own stream, so the other traits are those of a day without it.
    purse = stream(s.run.seed, "services/traits/purse").random(n) < m.own_from_purse_share
    kept = Traits(
        insured=insured,
        funded=funded,
        park_holder=park_holder,
        pays_from_account=pays_from_account[rows],
        pays_by_purse=(~pays_from_account & purse)[rows],
    )
    return kept, OpeningTraits(voucher[rows], medical_fen[rows], account_fen[rows])


def draw(s: Scenario, name: str, rate: np.ndarray) -> tuple[Events, np.random.Generator]:
    """Poisson events of `rate` per citizen in the service's hours; the stream is handed back
    so the caller draws each event's own values from it (in the same order whatever the shard)."""
    rng = stream(s.run.seed, f"services/{name}")
    counts = np.minimum(rng.poisson(rate), EVENTS_PER_CITIZEN_MAX)
    citizen = np.repeat(np.arange(len(rate)), counts)
    start_h, end_h = HOURS[name]
    t_s = rng.uniform(start_h * 3600, end_h * 3600, len(citizen))
    zeros = np.zeros(len(citizen), np.int64)
    return Events(t_s, citizen, zeros, zeros.copy(), np.arange(len(citizen), dtype=np.int64)), rng


def mine(e: Events, shard: int, shards: int) -> Events:
    """This shard's events, in time order (ties by citizen, so the order is the same in any shard)."""
    keep = e.citizen % shards == shard
    order = np.lexsort((e.citizen[keep], e.t_s[keep]))
    return Events(*(column[keep][order] for column in (e.t_s, e.citizen, e.a, e.b, e.key)))
