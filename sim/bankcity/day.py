"""One sample day of the bank-card city in SimPy time: every payment through the real bank card code.

What each cardholder sets out to do is drawn first (`sim.bankcity.draws`: payments per channel
the month's phase switches on, EC unloads). Then each cardholder is a SimPy process that goes
through its day in time order: it queues at a till (`sim.bankcity.places`: tills are resources
sized by the sample), holds it for the service time, and when that is up the real terminal runs
the transaction against the holder's simulated card, through the acquirer and the switch to the
issuing bank:

- `bank-pos`: an online purchase with the PIN at a bank POS of a merchant of the class;
- `contactless`: a qPBOC quick payment (`model.bankcard.QpbocReader`), offline on EC when the
  card allows, else online;
- `convenience`: an EC purchase at a convenience terminal of the third-party acquirer;
- `bills`: a utility bill looked up at the biller and paid online at a convenience terminal;
- an EC unload (圈提): the card's whole EC balance back to its account at its bank's load point.

An online transaction then holds a line of its acquirer, the switch and the issuer for their
host times. A card whose EC balance falls below its reset threshold `9F6D` after an offline
payment is loaded (圈存) at its bank's load point the same day (ASSUMPTION: the terminal
prompts, the holder loads). When every cardholder is done, the acquirers' files are cleared
through the switch to the issuers and settled T+1 on a fresh ledger; the money invariants are
checked at both ends and any breach is returned by name.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import simpy

from devices.bankcard_state import pin_block
from model.backoffice import Ledger, open_database
from model.bankcard import BankRecord, BankTerminalError, clear_day, settle
from model.bankcard.kernel import get_amount, select_application
from model.bankcard.objects import TAG_EC_BALANCE
from model.card import CardChannel
from model.errors import LoadDeclinedError
from scenarios.bank_schema import BankCity, Channel
from sim.bankcity.draws import Payment, Unload, draw_payments, draw_unloads
from sim.bankcity.places import HOST_S, SERVICE_S, Places, Tills
from sim.bankcity.world import BILLERS, MERCHANTS_PER_CLASS, PIN, BankWorld, build_world
from sim.rng import stream

Steps = Generator[simpy.Event, object, None]


@dataclass(frozen=True, slots=True)
class BankDay:
    """One simulated day of the sample (counts and fen of the sample, not yet scaled)."""

    month: str
    seed: int
    holders: int
    tx_by_channel: dict[str, int]
    fen_by_channel: dict[str, int]
    tx_by_sector: dict[str, int]  # the plan's sectors (bank_cards, bus, ...) the payments were in
    ec_offline: int  # payments the card approved offline (EC TC)
    loads: int
    loads_fen: int
    unloads: int
    unloads_fen: int
    declined: int
    fees_fen: dict[str, int]  # income per party, from the clearing
    settlement_fen: dict[str, int]  # T+1 net instruction per party (+ pays, - is paid)
    cards_by_bank: dict[str, int]
    ec_float_fen: int  # EC money on the sample's cards at the day's end
    wait_s_mean_by_till: dict[str, float]  # queueing at the tills, by what the holder came for
    wait_s_p95_by_till: dict[str, float]
    apdus: int
    wall_s: float
    violations: tuple[str, ...]


class DayPlay:
    """The cardholders' processes and what they did (tallies of the sample)."""

    def __init__(self, env: simpy.Environment, city: BankCity, world: BankWorld, when: datetime, seed: int):
        self.env, self.city, self.world, self.when, self.seed = env, city, world, when, seed
        self.places, self.tills = Places(env, city), Tills(world, seed)
        self.rng = stream(seed, "bankcity/merchants")
        self.tx: Counter[str] = Counter()
        self.fen: Counter[str] = Counter()
        self.by_sector: Counter[str] = Counter()
        self.ec_offline = self.loads = self.loads_fen = self.unloads = self.unloads_fen = 0
        self.declined = self.bills = 0
        self.waits: defaultdict[str, list[float]] = defaultdict(list)
        self.pin = pin_block(PIN)

    def holder(self, plan: list[Payment | Unload]) -> Steps:
        """One cardholder's day: each errand at its time, or when the last one is done."""
        for item in plan:
            if item.at_s > self.env.now:
                yield self.env.timeout(item.at_s - self.env.now)
            if isinstance(item, Unload):
                yield from self._unload(item.holder)
            else:
                yield from self._pay(item)

    def _now(self) -> datetime:
        return self.when + timedelta(seconds=self.env.now)

    def _at_till(self, kind: str, acquirer: str) -> Steps:
        """Queue for a till and hold it for the service time; the caller transacts at its end."""
        with self.places.till(kind, acquirer).request() as turn:
            asked = self.env.now
            yield turn
            self.waits[kind].append(self.env.now - asked)
            yield self.env.timeout(SERVICE_S[kind])

    def _online(self, acquirer: str, holder: int) -> Steps:
        """The host time of one online message: acquirer, switch, issuer in turn."""
        bank = self.world.bank_of_holder[holder]
        for host, seconds in (
            (self.places.acquirer_host(acquirer), HOST_S["acquirer"]),
            (self.places.switch, HOST_S["switch"]),
            (self.places.issuer_host(bank), HOST_S["issuer"]),
        ):
            with host.request() as line:
                yield line
                yield self.env.timeout(seconds)

    def _pay(self, p: Payment) -> Steps:
        ch = p.channel
        acquirer = self._acquirer(ch)
        yield from self._at_till(ch.channel, acquirer)
        with self.world.with_card(p.holder, contactless=ch.channel == "contactless") as card:
            try:
                record = self._transact(card, p, acquirer)
            except (LoadDeclinedError, BankTerminalError):
                self.declined += 1
                return
        self.tx[ch.channel] += 1
        self.fen[ch.channel] += p.amount_fen
        self.by_sector[ch.sector] += 1
        if record.kind != "ec-offline":
            yield from self._online(acquirer, p.holder)
            return
        self.ec_offline += 1
        yield from self._top_up(p.holder)

    def _acquirer(self, ch: Channel) -> str:
        if ch.acquirer == "third-party" or ch.channel == "bills":
            return self.world.third_party
        banks = [b.name for b in self.city.bank]
        shares = np.array([b.card_share for b in self.city.bank])
        return f"acq:{banks[int(self.rng.choice(len(banks), p=shares))]}"

    def _transact(self, card: CardChannel, p: Payment, acquirer: str) -> BankRecord:
        ch, now = p.channel, self._now()
        if ch.channel == "bills":
            biller = self.world.billers[BILLERS[int(self.rng.integers(len(BILLERS)))]]
            self.bills += 1
            account = f"{biller.name}-{self.seed}-{self.bills}"
            biller.issue(account, p.amount_fen)
            return self.tills.convenience().pay_bill(card, biller, account, now)
        if ch.channel == "bank-pos":
            record = self.tills.pos(acquirer).purchase_online(card, p.amount_fen, now, self.pin)
        elif ch.channel == "contactless":
            record = self.tills.qpboc(acquirer).purchase(card, p.amount_fen, now)
        else:
            record = self.tills.convenience().pos.purchase_ec(card, p.amount_fen, now)
        merchant = f"{ch.merchant_class}-{int(self.rng.integers(MERCHANTS_PER_CLASS))}"
        self.world.acquirers[acquirer].submit(record, merchant, ch.merchant_class)
        return record

    def _ec_balance_fen(self, holder: int) -> int:
        with self.world.with_card(holder) as card:
            select_application(card)
            return get_amount(card, TAG_EC_BALANCE)

    def _top_up(self, holder: int) -> Steps:
        if self._ec_balance_fen(holder) >= self.city.cards.ec_reset_threshold_fen:
            return
        bank = self.world.bank_of_holder[holder]
        yield from self._at_till("load", f"acq:{bank}")
        with self.world.with_card(holder) as card:
            try:
                self.tills.load_point(bank).load(card, self.city.cards.ec_load_fen, self._now())
            except (LoadDeclinedError, BankTerminalError):
                self.declined += 1
                return
        self.loads += 1
        self.loads_fen += self.city.cards.ec_load_fen
        yield from self._online(f"acq:{bank}", holder)

    def _unload(self, holder: int) -> Steps:
        bank = self.world.bank_of_holder[holder]
        yield from self._at_till("unload", f"acq:{bank}")
        if self._ec_balance_fen(holder) == 0:
            return  # nothing on the card: the holder leaves (no transaction, no record)
        with self.world.with_card(holder) as card:
            try:
                record = self.tills.load_point(bank).unload(card, self._now())
            except (LoadDeclinedError, BankTerminalError):
                self.declined += 1
                return
        self.unloads += 1
        self.unloads_fen += record.amount_fen
        yield from self._online(f"acq:{bank}", holder)


def _plans(payments: list[Payment], unloads: list[Unload]) -> dict[int, list[Payment | Unload]]:
    """Each holder's errands in time order (a payment before an unload drawn at the same second)."""
    out: dict[int, list[Payment | Unload]] = defaultdict(list)
    errands: list[Payment | Unload] = [*payments, *unloads]
    for item in sorted(errands, key=lambda x: x.at_s):
        out[item.holder].append(item)
    return dict(sorted(out.items()))


def _wait_figures(waits: dict[str, list[float]]) -> tuple[dict[str, float], dict[str, float]]:
    means = {k: float(np.mean(v)) for k, v in sorted(waits.items()) if v}
    p95s = {k: float(np.percentile(v, 95)) for k, v in sorted(waits.items()) if v}
    return means, p95s


def play_day(
    city: BankCity,
    world: BankWorld,
    when: datetime,
    seed: int,
    payments: list[Payment],
    unloads: list[Unload],
) -> DayPlay:
    """Every holder's errands as SimPy processes on `world`, run until all are done (the
    day's records wait in the acquirers' files for the night)."""
    env = simpy.Environment()
    day = DayPlay(env, city, world, when, seed)
    for plan in _plans(payments, unloads).values():
        env.process(day.holder(plan))
    env.run()
    return day


def run_day(
    city: BankCity, month: str, sectors: tuple[str, ...], acceptance: dict[str, float], seed: int
) -> BankDay:
    """One sample day of `month` with `sectors` on; cleared and settled; invariants checked."""
    started = time.perf_counter()
    world = build_world(city, seed)
    when = datetime(int(month[:4]), int(month[5:]), 15)
    payments, unloads = draw_payments(city, sectors, acceptance, seed), draw_unloads(city, seed)
    day = play_day(city, world, when, seed, payments, unloads)
    ledger = Ledger(open_database(":memory:"))
    day_number = when.year * 10_000 + when.month * 100 + when.day
    files = [acquirer.close_file() for acquirer in world.acquirers.values()]
    submitted = sum(len(f) for f in files)
    clearing = clear_day(ledger, day_number, world.switch, files, world.tariff, world.acquirers.values())
    settlement = settle(ledger, clearing)
    violations = violations_of(
        world, ledger, submitted, clearing.cleared, len(clearing.held) + len(clearing.carried)
    )
    means, p95s = _wait_figures(day.waits)
    return BankDay(
        month=month,
        seed=seed,
        holders=city.run.cardholders_simulated,
        tx_by_channel=dict(day.tx),
        fen_by_channel=dict(day.fen),
        tx_by_sector=dict(day.by_sector),
        ec_offline=day.ec_offline,
        loads=day.loads,
        loads_fen=day.loads_fen,
        unloads=day.unloads,
        unloads_fen=day.unloads_fen,
        declined=day.declined,
        fees_fen=clearing.fees_fen,
        settlement_fen={i.party: i.pay_fen for i in settlement.instructions},
        cards_by_bank=dict(Counter(world.bank_of_holder)),
        ec_float_fen=sum(world.ec_on_cards_fen().values()),
        wait_s_mean_by_till=means,
        wait_s_p95_by_till=p95s,
        apdus=world.apdus,
        wall_s=time.perf_counter() - started,
        violations=violations,
    )


def violations_of(
    world: BankWorld, ledger: Ledger, submitted: int, cleared: int, left: int
) -> tuple[str, ...]:
    """The bank card world's invariants after a cleared and settled day, each breach by name."""
    out = []
    if world.money_fen() != world.initial_fen:
        out.append(f"money: {world.money_fen()} fen at the end, {world.initial_fen} at the start")
    if cleared != submitted or left:
        out.append(f"clearing: {submitted} records submitted, {cleared} cleared, {left} held or carried")
    if any(ledger.balances("position:").values()) or ledger.balance("settlement:account"):
        out.append("settlement: a position or the settlement account is not zero after T+1")
    on_cards = world.ec_on_cards_fen()
    for bank, issuer in world.issuers.items():
        if issuer.ec_float_fen != on_cards[bank] or issuer.holds or issuer.purchases_due_fen:
            out.append(
                f"issuer {bank}: EC float {issuer.ec_float_fen} vs {on_cards[bank]} on cards,"
                " or holds or dues left"
            )
    try:
        ledger.check()
    except Exception as exc:  # a broken ledger is a finding, reported by name
        out.append(f"ledger: {exc}")
    return tuple(out)
