"""One sample day of the bank-card city: every payment through the real bank card code.

The day's payments are drawn per channel that the month's phase switches on: a Poisson count
per cardholder of `tx_per_holder_per_day` x the channel's acceptance (the share of its
terminals deployed), at a uniform time between 06:00 and 22:00 (ASSUMPTION: no time-of-day
profile for bank cards is in the seeds), an exponential amount of `amount_fen_mean`. Then, in
time order, each one runs the kernel against the holder's simulated card, through the
acquirer and the switch to the issuing bank:

- `bank-pos`: an online purchase with the PIN at a bank POS of a merchant of the class;
- `contactless`: a qPBOC quick payment (`model.bankcard.QpbocReader`), offline on EC when the
  card allows, else online;
- `convenience`: an EC purchase at a convenience terminal of the third-party acquirer;
- `bills`: a utility bill looked up at the biller and paid online at a convenience terminal.

A card whose EC balance falls below its reset threshold `9F6D` is loaded (圈存) at its bank's
load point the same day (ASSUMPTION: the terminal prompts, the holder loads). At the day's end
the acquirers' files are cleared through the switch to the issuers and settled T+1 on a fresh
ledger; the money invariants are checked at both ends and any breach is returned by name.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from devices.bankcard_state import pin_block
from model.backoffice import Ledger, open_database
from model.bankcard import (
    BankPos,
    BankRecord,
    BankTerminalError,
    ConvenienceTerminal,
    EcLoadTerminal,
    QpbocReader,
    clear_day,
    settle,
)
from model.bankcard.kernel import get_amount, select_application
from model.bankcard.objects import TAG_EC_BALANCE
from model.card import CardChannel
from model.errors import LoadDeclinedError
from scenarios.bank_schema import BankCity, Channel
from scenarios.schema import ScenarioError
from sim.bankcity.world import BILLERS, MERCHANTS_PER_CLASS, PIN, BankWorld, build_world
from sim.rng import stream

DAY_START_H, DAY_END_H = 6.0, 22.0
AMOUNT_CAP_MEANS = 10  # an amount above ten means is redrawn as ten means: no CNY 10,000 bus fare
PAYMENTS_MAX = 2_000_000  # a day's payments in one sample: more is a scenario mistake


@dataclass(frozen=True, slots=True)
class BankDay:
    """One simulated day of the sample (counts and fen of the sample, not yet scaled)."""

    month: str
    seed: int
    holders: int
    tx_by_channel: dict[str, int]
    fen_by_channel: dict[str, int]
    ec_offline: int  # payments the card approved offline (EC TC)
    loads: int
    loads_fen: int
    declined: int
    fees_fen: dict[str, int]  # income per party, from the clearing
    settlement_fen: dict[str, int]  # T+1 net instruction per party (+ pays, - is paid)
    cards_by_bank: dict[str, int]
    apdus: int
    wall_s: float
    violations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Payment:
    at_s: float
    holder: int
    channel: Channel
    amount_fen: int


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


class _Tills:
    """The day's terminals, one per (role, acquirer), made when first used."""

    def __init__(self, world: BankWorld, seed: int) -> None:
        self.world, self.seed = world, seed
        self._pos: dict[str, BankPos] = {}
        self._qpboc: dict[str, QpbocReader] = {}
        self._conv: ConvenienceTerminal | None = None
        self._load: dict[str, EcLoadTerminal] = {}

    def pos(self, acquirer: str) -> BankPos:
        if acquirer not in self._pos:
            authoriser, ca = self.world.acquirers[acquirer], self.world.ca_keys
            self._pos[acquirer] = BankPos(f"POS-{acquirer}", authoriser, self.seed, ca)
        return self._pos[acquirer]

    def qpboc(self, acquirer: str) -> QpbocReader:
        if acquirer not in self._qpboc:
            authoriser, ca = self.world.acquirers[acquirer], self.world.ca_keys
            self._qpboc[acquirer] = QpbocReader(f"QP-{acquirer}", authoriser, self.seed, ca)
        return self._qpboc[acquirer]

    def convenience(self) -> ConvenienceTerminal:
        if self._conv is None:
            tp = self.world.third_party
            self._conv = ConvenienceTerminal(f"CONV-{tp}", self.world.acquirers[tp], self.seed)
            self._conv.pos.ca_keys = self.world.ca_keys
        return self._conv

    def load_point(self, bank: str) -> EcLoadTerminal:
        if bank not in self._load:
            self._load[bank] = EcLoadTerminal(f"EC-{bank}", self.world.acquirers[f"acq:{bank}"], self.seed)
        return self._load[bank]


class _DayRun:
    """The payments of one day through the real terminals; tallies what happened."""

    def __init__(self, city: BankCity, world: BankWorld, when: datetime, seed: int) -> None:
        self.city, self.world, self.when, self.seed = city, world, when, seed
        self.tills = _Tills(world, seed)
        self.rng = stream(seed, "bankcity/merchants")
        self.tx: Counter[str] = Counter()
        self.fen: Counter[str] = Counter()
        self.ec_offline = self.loads = self.loads_fen = self.declined = 0
        self.bills = 0
        self.pin = pin_block(PIN)

    def pay(self, p: Payment) -> None:
        now = self.when + timedelta(seconds=p.at_s)
        with self.world.with_card(p.holder, contactless=p.channel.channel == "contactless") as card:
            try:
                record = self._channel(card, p, now)
            except (LoadDeclinedError, BankTerminalError):
                self.declined += 1
                return
        self.tx[p.channel.channel] += 1
        self.fen[p.channel.channel] += p.amount_fen
        if record.kind == "ec-offline":
            self.ec_offline += 1
            with self.world.with_card(p.holder) as card:
                self._top_up(card, p.holder, now)

    def _acquirer(self, ch: Channel) -> str:
        if ch.acquirer == "third-party":
            return self.world.third_party
        banks = [b.name for b in self.city.bank]
        shares = np.array([b.card_share for b in self.city.bank])
        return f"acq:{banks[int(self.rng.choice(len(banks), p=shares))]}"

    def _merchant(self, ch: Channel) -> str:
        return f"{ch.merchant_class}-{int(self.rng.integers(MERCHANTS_PER_CLASS))}"

    def _channel(self, card: CardChannel, p: Payment, now: datetime) -> BankRecord:
        ch = p.channel
        if ch.channel == "bills":
            biller = self.world.billers[BILLERS[int(self.rng.integers(len(BILLERS)))]]
            self.bills += 1
            account = f"{biller.name}-{self.seed}-{self.bills}"
            biller.issue(account, p.amount_fen)
            return self.tills.convenience().pay_bill(card, biller, account, now)
        acquirer = self._acquirer(ch)
        if ch.channel == "bank-pos":
            record = self.tills.pos(acquirer).purchase_online(card, p.amount_fen, now, self.pin)
        elif ch.channel == "contactless":
            record = self.tills.qpboc(acquirer).purchase(card, p.amount_fen, now)
        else:
            record = self.tills.convenience().pos.purchase_ec(card, p.amount_fen, now)
        self.world.acquirers[acquirer].submit(record, self._merchant(ch), ch.merchant_class)
        return record

    def _top_up(self, card: CardChannel, holder: int, now: datetime) -> None:
        select_application(card)
        balance = get_amount(card, TAG_EC_BALANCE)
        if balance >= self.city.cards.ec_reset_threshold_fen:
            return
        bank = self.world.bank_of_holder[holder]
        try:
            self.tills.load_point(bank).load(card, self.city.cards.ec_load_fen, now)
        except (LoadDeclinedError, BankTerminalError):
            self.declined += 1
            return
        self.loads += 1
        self.loads_fen += self.city.cards.ec_load_fen


def run_day(
    city: BankCity, month: str, sectors: tuple[str, ...], acceptance: dict[str, float], seed: int
) -> BankDay:
    """One sample day of `month` with `sectors` on; cleared and settled; invariants checked."""
    started = time.perf_counter()
    world = build_world(city, seed)
    when = datetime(int(month[:4]), int(month[5:]), 15)
    run = _DayRun(city, world, when, seed)
    for payment in draw_payments(city, sectors, acceptance, seed):
        run.pay(payment)
    ledger = Ledger(open_database(":memory:"))
    day = when.year * 10_000 + when.month * 100 + when.day
    files = [acquirer.close_file() for acquirer in world.acquirers.values()]
    submitted = sum(len(f) for f in files)
    clearing = clear_day(ledger, day, world.switch, files, world.tariff, world.acquirers.values())
    settlement = settle(ledger, clearing)
    violations = violations_of(
        world, ledger, submitted, clearing.cleared, len(clearing.held) + len(clearing.carried)
    )
    return BankDay(
        month=month,
        seed=seed,
        holders=city.run.cardholders_simulated,
        tx_by_channel=dict(run.tx),
        fen_by_channel=dict(run.fen),
        ec_offline=run.ec_offline,
        loads=run.loads,
        loads_fen=run.loads_fen,
        declined=run.declined,
        fees_fen=clearing.fees_fen,
        settlement_fen={i.party: i.pay_fen for i in settlement.instructions},
        cards_by_bank=dict(Counter(world.bank_of_holder)),
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
