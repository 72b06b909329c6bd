"""The services in the city day: SimPy processes beside the purse's taps (`sim.day.twin`).

`start_services` builds the shard's services back office (`backend`), draws the day's events
(`draws`) and starts one process per service on the day's environment:

- medical visits: the card is read at the institution (real APDUs through a `SimChannel` on the
  citizen's card image, which is only read), the fund splits the cost, the citizen pays the own
  part from the citizen account (if that is the habit and the balance allows), by e-purse at the
  institution's cashier terminal (the twin's own purchase path, `PursePayment`: card OS, PSAM,
  terminal application, journal, upload, the night's clearing) or in cash; in the evening every
  institution claims its visits, and the attack drills send a forged claim and a replayed one,
  which the fund must refuse;
- the citizen account: a payer's batch credits accounts at 10:00 (and is sent twice: paid
  once), citizens pay online, vouchers expire at midnight;
- identity services: bike rentals (credit checked online or from the hourly list copy; a bike
  kept past the deadline lists the card), library loans, park entries with the annual card,
  elderly concessions, monthly-pass activations; cards reported lost go on the status list;
- the service centre and the data-exchange platform (`centre`), in shard 0 only.

Nothing here writes a card or moves purse money itself: the e-purse own payment is a tap the
twin runs (and its invariants check), and the services' close checks that the purse took
exactly the own payments the visits asked of it, record by record.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import date, timedelta
from typing import Any

import numpy as np
import simpy

from devices.card_os import CardOS
from devices.card_state import CardState
from devices.sim_channel import SimChannel
from model.backoffice.accounts import AccountError
from model.backoffice.terms import day_int
from model.card import CardType, PublicInfo
from model.errors import CardTwinError
from model.records import TransactionRecord
from model.services import (
    Claim,
    ClaimError,
    Listed,
    MedicalError,
    PayerBatch,
    read_identity,
    refused_reason,
    sign_claim,
)
from sim.city import Kind, Population, Terminal, World, asn_of
from sim.rng import stream
from sim.services.backend import (
    Backend,
    citizen_id,
    institution_id,
    merchant_id,
    open_backend,
    open_citizen_account,
    open_medical_account,
)
from sim.services.centre import ServiceCentre
from sim.services.checks import check_services
from sim.services.draws import DAYS_PER_YEAR, Events, Traits, draw, mine, traits
from sim.services.tally import ServicesTally

SWEEP_S = 900.0  # the bike system looks for overdue bikes every quarter hour
BATCH_H = 10.0  # ASSUMPTION: payers' batches arrive mid-morning
WALK_CHUNK = 64  # events a service's walk turns into Python numbers at a time (eight walks at once)
PARK_VALID_DAYS = 180  # ASSUMPTION: a holder's annual card has half a year left on the day

# The twin's purchase at a cashier terminal: (population row, terminal, amount) -> the signed
# record, or None when the purse was short or the terminal down (the citizen then pays cash).
PursePayment = Callable[[int, Terminal, int], TransactionRecord | None]


class ServicesDay:
    """One shard's services over one day's SimPy environment."""

    def __init__(self, env: simpy.Environment, world: World, purse: PursePayment | None = None) -> None:
        s = world.scenario
        assert s.services is not None
        self.env, self.w, self.sv = env, world, s.services
        self.purse = purse
        self.cashiers: list[Terminal] = world.fleet.by_kind.get(Kind.MEDICAL, [])
        self.purse_records: list[TransactionRecord] = []  # the own payments taken by e-purse
        self.day: date = s.run.day
        rows = world.population.index
        self.t: Traits
        self.t, opening = traits(s, rows)
        self.tally = ServicesTally()
        m = self.sv.medical
        expected_fund = int(
            self.t.insured.sum() * m.visits_per_insured_per_year / DAYS_PER_YEAR * m.visit_cost_fen_mean
        )
        self.b: Backend = open_backend(
            self.sv, s.run.seed, self.day, rows, self.t.insured[rows], self.t.funded[rows],
            opening.voucher, opening.medical_fen, opening.account_fen, expected_fund,
        )  # fmt: skip
        self._visit_ids: dict[str, list[tuple[int, int]]] = {}
        self._activate_holders(rows)
        self.centre = (
            ServiceCentre(env, self.sv.centre, s.city.service_windows, stream(s.run.seed, "services/centre"))
            if world.shard == 0
            else None
        )

    # -- starting ------------------------------------------------------------------------------

    def start(self) -> None:
        s, m, a, i = self.w.scenario, self.sv.medical, self.sv.account, self.sv.identity
        n = len(self.t.insured)
        ones = np.ones(n)
        visits, rng = draw(s, "medical", self.t.insured * m.visits_per_insured_per_year / DAYS_PER_YEAR)
        visits.a[:] = rng.integers(0, m.institutions, len(visits))
        visits.b[:] = np.maximum(1, np.round(rng.exponential(m.visit_cost_fen_mean, len(visits))))
        bikes, rng = draw(s, "bike", ones * i.bike_rentals_per_day)
        bikes.a[:] = np.maximum(60, np.round(rng.exponential(i.bike_ride_s_mean, len(bikes))))
        bikes.b[:] = rng.random(len(bikes)) < i.bike_not_returned_probability
        pays, rng = draw(s, "payment", self.t.funded * a.online_payments_per_day)
        pays.a[:] = rng.integers(0, a.merchants, len(pays))
        pays.b[:] = np.maximum(1, np.round(rng.exponential(a.payment_fen_mean, len(pays))))
        streams: list[tuple[Events, Callable[[int, int, int, int, int], None]]] = [
            (visits, self._visit),
            (bikes, self._bike),
            (pays, self._pay),
            (draw(s, "library", ones * i.library_loans_per_day)[0], self._library),
            (draw(s, "park", self.t.park_holder * i.park_entries_per_holder_per_day)[0], self._park),
            (draw(s, "elderly", ones * i.elderly_concessions_per_day)[0], self._elderly),
            (draw(s, "lost", ones * i.lost_card_probability)[0], self._lost),
            (draw(s, "pass", ones * i.pass_activations_per_day)[0], self._pass),
        ]
        for events, handler in streams:
            self.env.process(self._walk(mine(events, self.w.shard, self.w.shards), handler))
        self.env.process(self._at(BATCH_H * 3600, self._payer_batch))
        self.env.process(self._at(m.claim_h * 3600, self._claims))
        self.env.process(self._bike_upkeep())
        if self.centre is not None:
            self.centre.start()

    def _activate_holders(self, rows: np.ndarray) -> None:
        pop, e = self.w.population, self.b.entitlements
        valid_to = self.day + timedelta(days=PARK_VALID_DAYS)
        for row in np.flatnonzero(self.t.park_holder[rows]):
            e.activate_park(_asn(pop, int(row)), valid_to, self.day)
        for row in np.flatnonzero(pop.has_pass):
            e.activate_pass(_asn(pop, int(row)))

    def _walk(
        self, events: Events, handler: Callable[[int, int, int, int, int], None]
    ) -> Generator[simpy.Event, Any, None]:
        # Made Python numbers a chunk at a time: a whole day's events as lists of Python objects
        # would hold ~4x their arrays' bytes until the evening.
        columns = (events.t_s, events.citizen, events.a, events.b, events.key)
        for start in range(0, len(events), WALK_CHUNK):
            t_s, citizen, a, b, key = (c[start : start + WALK_CHUNK].tolist() for c in columns)
            for k in range(len(t_s)):
                if t_s[k] > self.env.now:
                    yield self.env.timeout(t_s[k] - self.env.now)
                handler((citizen[k] - self.w.shard) // self.w.shards, citizen[k], a[k], b[k], key[k])

    def _at(self, t_s: float, action: Callable[[], None]) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(t_s)
        action()

    # -- the card ------------------------------------------------------------------------------

    def _read(self, row: int, service: str) -> PublicInfo | None:
        """Read the citizen's card through its channel; a refusal is counted by reason."""
        card = SimChannel(CardOS(CardState.from_image(self.w.population.images[row])))
        try:
            return read_identity(card, self.day)
        except CardTwinError as exc:
            self.tally.refuse(service, refused_reason(exc))
            return None

    # -- medical -------------------------------------------------------------------------------

    def _visit(self, row: int, citizen: int, institution: int, cost_fen: int, key: int) -> None:
        self.tally.count("medical_visits")
        if self.day < date.fromisoformat(self.sv.medical.card_settlement_from):
            self.tally.count("medical_visits_old_card")  # the card is not yet the credential
            return
        info = self._read(row, "medical")
        if info is None or self.b.status.entries.get(info.asn) is Listed.LOST:
            if info is not None:
                self.tally.refuse("medical", "listed_lost")
            return
        inst, cid = institution_id(institution), citizen_id(citizen)
        open_medical_account(self.b, row)
        try:
            split = self.b.fund.settle_visit(inst, key, cid, cost_fen, self.day)
        except MedicalError as exc:
            self.tally.refuse("medical", type(exc).__name__)
            return
        self.tally.count("medical_visits_card")
        self.tally.add_fen("medical_cost_fen", split.cost_fen)
        self.tally.add_fen("medical_fund_fen", split.fund_fen)
        self.tally.add_fen("medical_account_fen", split.medical_account_fen)
        self._visit_ids.setdefault(inst, []).append((key, split.insured_fen))
        self._own_payment(row, citizen, institution, split.own_fen, info.asn)

    def _own_payment(self, row: int, citizen: int, institution: int, own_fen: int, asn: bytes) -> None:
        """The citizen account if that is the habit and it covers the part; else the e-purse at
        the cashier if that is the habit; cash when neither (or the purse is short)."""
        cid, inst = citizen_id(citizen), institution_id(institution)
        if own_fen and self.t.pays_from_account[row]:
            open_citizen_account(self.b, row)
        if own_fen and self.t.pays_from_account[row] and self.b.book.spendable_fen(cid, self.day) >= own_fen:
            self.b.book.spend(cid, inst, own_fen, self.day)
            self.tally.add_fen("medical_own_account_fen", own_fen)
            return
        if own_fen and self.t.pays_by_purse[row] and self.purse is not None and self.cashiers:
            record = self.purse(row, self.cashiers[institution % len(self.cashiers)], own_fen)
            if record is not None:
                assert record.asn == asn and record.amount_fen == own_fen, (
                    "the cashier charged another card or sum"
                )
                self.purse_records.append(record)
                self.tally.count("medical_own_purse_payments")
                self.tally.add_fen("medical_own_purse_fen", own_fen)
                return
            self.tally.count("medical_own_purse_refused")  # short or terminal down: paid in cash
        self.tally.add_fen("medical_own_cash_fen", own_fen)

    def _claims(self) -> None:
        """Each institution claims its day; drills send a forged and a replayed claim."""
        rng = stream(self.w.scenario.run.seed, "services/claims")
        drills = rng.random((self.sv.medical.institutions, 2))
        claim_id = day_int(self.day) * 100 + self.w.shard
        for inst in sorted(self._visit_ids, key=lambda name: int(name.split("-")[1])):
            number = int(inst.split("-")[1])
            visits = self.b.fund.unclaimed(inst)
            if not visits:
                continue
            claim = sign_claim(self.b.claim_keys[inst], inst, claim_id, self.day, visits)
            if drills[number, 0] < self.sv.medical.forged_claim_probability:
                (v, fen), rest = visits[0], visits[1:]
                forged = Claim(
                    inst, claim_id, self.day, ((v, fen + 100), *rest), claim.mac
                )  # raised after signing
                self._refused_claim(forged, "claims_forged_refused", inst)
            self.tally.add_fen("claims_paid_fen", self.b.fund.pay_claim(claim))
            self.tally.claimed(inst)
            if drills[number, 1] < self.sv.medical.replayed_claim_probability:
                self._refused_claim(claim, "claims_replayed_refused", inst)

    def _refused_claim(self, claim: Claim, what: str, inst: str) -> None:
        try:
            self.b.fund.pay_claim(claim)
        except ClaimError:
            self.tally.drill(what, inst)
            return
        raise AssertionError(f"{what}: the fund paid a claim it must refuse ({inst})")

    # -- the citizen account -----------------------------------------------------------------------

    def _payer_batch(self) -> None:
        rows = self.w.population.index
        rng = stream(self.w.scenario.run.seed, "services/batch")
        a = self.sv.account
        chosen = self.t.funded & (rng.random(len(self.t.funded)) < a.payer_batch_share)
        amounts = np.maximum(1, np.round(rng.exponential(a.allowance_fen_mean, len(chosen))))
        credits = tuple((citizen_id(int(c)), int(amounts[c])) for c in rows if chosen[c])
        if not credits:
            return
        batch = PayerBatch("gov-hz", 3, "allowance", credits)
        self.tally.add_fen("account_batch_fen", self.b.book.credit(batch, self.day))
        self.tally.count("account_batch_credits", len(credits))
        try:
            self.b.book.credit(batch, self.day)  # the payer's system sends it again
            raise AssertionError(f"payer batch {batch.payer}/{batch.batch_id} credited twice")
        except AccountError:
            self.tally.drill("batch_replays_refused", f"{batch.payer}/{batch.batch_id}")

    def _pay(self, row: int, citizen: int, merchant: int, amount_fen: int, _key: int) -> None:
        open_citizen_account(self.b, row)
        try:
            self.b.book.spend(citizen_id(citizen), merchant_id(merchant), amount_fen, self.day)
        except AccountError:
            self.tally.refuse("account", "insufficient")
            return
        self.tally.count("account_payments")
        self.tally.add_fen("account_payments_fen", amount_fen)

    # -- identity ------------------------------------------------------------------------------

    def _bike(self, row: int, _citizen: int, ride_s: int, kept: int, _key: int) -> None:
        info = self._read(row, "bike")
        if info is None:
            return
        try:
            self.b.bikes.lend(info.asn, self.env.now)
        except CardTwinError as exc:
            self.tally.refuse("bike", refused_reason(exc))
            return
        self.tally.count("bike_rentals")
        if not kept:
            self.env.process(self._ride(info.asn, ride_s))

    def _ride(self, asn: bytes, ride_s: int) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(ride_s)
        self.b.bikes.give_back(asn, self.env.now)
        self.tally.count("bike_returns")

    def _bike_upkeep(self) -> Generator[simpy.Event, Any, None]:
        refresh_s = self.sv.identity.list_refresh_s
        next_copy = refresh_s
        while self.env.now < 86_400 - SWEEP_S:
            yield self.env.timeout(SWEEP_S)
            self.b.bikes.sweep_overdue(self.env.now)
            if refresh_s and self.env.now >= next_copy:
                self.b.bikes.refresh_copy()
                next_copy += refresh_s

    def _library(self, row: int, *_: int) -> None:
        info = self._read(row, "library")
        if info is None:
            return
        try:
            self.b.library.lend(info.asn, self.env.now)
        except CardTwinError as exc:
            self.tally.refuse("library", refused_reason(exc))
            return
        self.tally.count("library_loans")

    def _park(self, row: int, *_: int) -> None:
        info = self._read(row, "park")
        if info is None:
            return
        try:
            self.b.entitlements.enter_park(info, self.day)
        except CardTwinError as exc:
            self.tally.refuse("park", refused_reason(exc))
            return
        self.tally.count("park_entries")

    def _elderly(self, row: int, *_: int) -> None:
        if self.w.population.card_type[row] != CardType.ELDERLY:
            return  # only the elderly ask for the concession
        info = self._read(row, "elderly")
        if info is None:
            return
        try:
            self.b.entitlements.elderly_concession(info)
        except CardTwinError as exc:
            self.tally.refuse("elderly", refused_reason(exc))
            return
        self.tally.count("elderly_concessions")

    def _pass(self, row: int, *_: int) -> None:
        if self.w.population.card_type[row] != CardType.ADULT:
            return  # the monthly pass is an adult card's function
        info = self._read(row, "pass")
        if info is None:
            return
        try:
            self.b.entitlements.activate_pass(info.asn)
        except CardTwinError as exc:
            self.tally.refuse("pass", refused_reason(exc))
            return
        self.tally.count("pass_activations")

    def _lost(self, row: int, *_: int) -> None:
        self.b.status.add(_asn(self.w.population, row), Listed.LOST)
        self.tally.count("cards_reported_lost")

    # -- the close -------------------------------------------------------------------------------

    def close(self) -> ServicesTally:
        """Midnight: vouchers expire; the money is checked; the day's figures handed over."""
        self.tally.add_fen("vouchers_expired_fen", self.b.book.expire(self.day + timedelta(days=1)))
        self.tally.count("bikes_not_returned", self.b.bikes.made - self.b.bikes.returned)
        self.tally.count("cards_listed_for_bikes", self.b.bikes.defaulted)
        self.tally.checks = check_services(self.b, self.tally, self.purse_records, self.cashiers)
        if self.centre is not None:
            self.tally.centre = self.centre.report
        return self.tally


def _asn(pop: Population, row: int) -> bytes:
    """The card's ASN, as its issue wrote it (not read from the image: a card not written today
    would be personalised again to be read)."""
    return asn_of(int(pop.index[row]))


def start_services(
    env: simpy.Environment, world: World, purse: PursePayment | None = None
) -> ServicesDay | None:
    """The services' processes on the day's environment, when the scenario has [services];
    `purse` is the twin's purchase at a cashier (without it own payments are never by e-purse)."""
    if world.scenario.services is None:
        return None
    day = ServicesDay(env, world, purse)
    day.start()
    return day
