"""The bank card's fault classes in `cardtwin verify`: a seed also runs a short bank card day of
the Huaibei bank-card city (`sim.bankcity`) with its faults injected where they happen, then
clears and settles it and checks its books (`sim.bankcity.day.violations_of`: money conserved,
no hold or due left, EC float equal to the EC on cards, every record cleared once, every
position zero after T+1).

- `bank-ec-load-tear`: the card leaves the EC load terminal at a random APDU of the load (before
  or after the card processed it), then is presented again: the terminal confirms or reverses
  from the card's EC balance and ATC, so the account debit is never lost nor the EC credited twice;
- `bank-network-outage`: an issuing bank, or the switch itself, is down for a stretch of
  transactions: authorisations fail before money moves, confirms and reversals are queued by
  the acquirer and sent again (at the latest before the night's clearing);
- `bank-reversal`: the answer to an online purchase's second GENERATE AC is lost (the card made
  or did not make its TC): the terminal reverses the issuer's hold.
Every class is injected at least once per seed, so a campaign that passes proves something.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from devices.bankcard_os import AFL_ODA
from devices.bankcard_state import pin_block
from devices.card_os import TearPhase
from model.backoffice import Ledger, open_database
from model.bankcard import (
    Acquirer,
    AuthorisationRequest,
    AuthorisationResponse,
    BankPos,
    BankRecord,
    Biller,
    ConvenienceTerminal,
    EcLoadTerminal,
    NetworkError,
    clear_day,
    settle,
)
from model.bankcard.terminals import BankTerminalError
from model.card import CardChannel
from model.errors import CardTwinError, LoadDeclinedError, TransactionTornError
from scenarios.bank_schema import BankCity, load_bank_city
from sim.bankcity.day import violations_of
from sim.bankcity.world import PIN, BankWorld, build_world
from sim.rng import stream
from sim.verify.bank_names import BANK_FAULTS
from sim.verify.report import SeedResult

HOLDERS = 24
OPERATIONS = 80
# APDUs of an EC load and of an online purchase with the PIN on the city's cards: selection (4:
# SELECT PSE, its two READ RECORDs, SELECT AID), GPO, the AFL's records, then GET DATA 9F79 and
# 9F77, GENERATE AC twice and PUT DATA; or VERIFY and GENERATE AC twice.
_RECORDS = sum(AFL_ODA[i + 2] - AFL_ODA[i + 1] + 1 for i in range(0, len(AFL_ODA), 4))
LOAD_APDUS, ONLINE_APDUS = 5 + _RECORDS + 5, 5 + _RECORDS + 3
TEAR_SHARE, OUTAGE_SHARE = 0.3, 0.08
OUTAGE_OPS = (2, 8)
DAY = datetime(2013, 6, 14, 9, 0)


@functools.cache
def _city() -> BankCity:
    return load_bank_city("huaibei-2011-2014", {"run.cardholders_simulated": HOLDERS})


@dataclass(slots=True)
class TearAt:
    """A tear hook: cuts the power at APDU `at` of the card's next transaction, in `phase`."""

    at: int
    phase: TearPhase
    seen: int = 0
    fired: bool = False

    def __call__(self, raw: bytes, phase: TearPhase) -> bool:
        if phase is TearPhase.BEFORE_COMMIT:
            self.seen += 1
        hit = not self.fired and self.seen - 1 == self.at and phase is self.phase
        self.fired |= hit
        return hit


class _DropsAfterApproval:
    """The acquirer's link as the POS sees it, for one purchase: the switch goes down right
    after the issuer approved, so the confirm or the reversal that follows must be queued."""

    def __init__(self, acquirer: Acquirer, run: BankRun) -> None:
        self.acquirer, self.run = acquirer, run

    def authorise(self, request: AuthorisationRequest) -> AuthorisationResponse:
        answer = self.acquirer.authorise(request)
        self.run.world.switch.switch_down = True
        self.run.outage_left = int(self.run.rng.integers(*OUTAGE_OPS))
        self.run.injected["bank-network-outage"] += 1
        return answer

    def confirm(self, pan: str, atc: int) -> None:
        self.acquirer.confirm(pan, atc)

    def reverse(self, pan: str, atc: int) -> None:
        self.acquirer.reverse(pan, atc)


class BankRun:
    """One seed's bank card transactions with the chosen faults."""

    def __init__(self, seed: int, faults: frozenset[str]) -> None:
        self.seed, self.faults = seed, faults
        self.world: BankWorld = build_world(_city(), seed)
        self.rng = stream(seed, "verify/bank")
        acquirers = self.world.acquirers
        self.kiosk = EcLoadTerminal("EC-VERIFY", acquirers["acq:ICBC"], seed)
        self.pos = BankPos("POS-VERIFY", acquirers["acq:CCB"], seed)
        self.conv = ConvenienceTerminal("CONV-VERIFY", acquirers[self.world.third_party], seed)
        self.water = Biller("water-verify")
        self.injected: Counter[str] = Counter()
        self.transactions = 0
        self.outage_left = 0

    def run(self) -> list[str]:
        for op in range(OPERATIONS):
            self._network(op)
            holder = int(self.rng.integers(HOLDERS))
            kind = ("ec-load", "online", "ec", "bill")[int(self.rng.integers(4))]
            if op == OPERATIONS // 2:  # every class fires at least once per seed
                kind = "ec-load" if "bank-ec-load-tear" in self.faults else "online"
            self._one(op, holder, kind)
        self.world.switch.down.clear()
        self.world.switch.switch_down = False
        return self._night()

    def _network(self, op: int) -> None:
        """Start or end an outage of one bank or of the switch."""
        switch = self.world.switch
        if self.outage_left:
            self.outage_left -= 1
            if not self.outage_left:
                switch.down.clear()
                switch.switch_down = False
            return
        if "bank-network-outage" not in self.faults:
            return
        if self.rng.random() < OUTAGE_SHARE or (op == 5 and not self.injected["bank-network-outage"]):
            banks = sorted(switch.issuers)
            pick = int(self.rng.integers(len(banks) + 1))
            if pick == len(banks):
                switch.switch_down = True
            else:
                switch.down.add(banks[pick])
            self.outage_left = int(self.rng.integers(*OUTAGE_OPS))
            self.injected["bank-network-outage"] += 1

    def _tear(self, fault: str, apdus: int, last_only: bool, forced: bool) -> TearAt | None:
        if fault not in self.faults or not (forced or self.rng.random() < TEAR_SHARE):
            return None
        # Half the load tears hit the second GENERATE AC or the PUT DATA script, where the
        # money is in flight between the issuer's hold and the card.
        in_flight = last_only or self.rng.random() < 0.5
        at = (
            apdus - 1 - int(self.rng.integers(1 if last_only else 2))
            if in_flight
            else int(self.rng.integers(apdus))
        )
        return TearAt(at, (TearPhase.BEFORE_COMMIT, TearPhase.AFTER_COMMIT)[int(self.rng.integers(2))])

    def _one(self, op: int, holder: int, kind: str) -> None:
        forced = op == OPERATIONS // 2
        fault = {"ec-load": "bank-ec-load-tear", "online": "bank-reversal"}.get(kind, "")
        hook = self._tear(fault, LOAD_APDUS if kind == "ec-load" else ONLINE_APDUS, kind == "online", forced)
        with self.world.with_card(holder, tear_hook=hook) as card:
            try:
                self.transactions += 1
                if kind == "ec-load":
                    self.kiosk.load(card, 5_000, DAY)
                elif kind == "online":
                    record = self._online(card)
                    self.world.acquirers["acq:CCB"].submit(record, "general-verify", "general")
                elif kind == "ec":
                    record = self.conv.pos.purchase_ec(card, 500, DAY)
                    self.world.acquirers[self.world.third_party].submit(
                        record, "supermarket-verify", "supermarket"
                    )
                else:
                    account = f"W-{self.seed}-{op}"
                    self.water.issue(account, 2_000)
                    self.conv.pay_bill(card, self.water, account, DAY)
            except TransactionTornError:
                card.insert()
                self._recover(card, kind)
            except (NetworkError, LoadDeclinedError, BankTerminalError):
                pass
            if hook is not None and hook.fired:
                self.injected[fault] += 1

    def _online(self, card: CardChannel) -> BankRecord:
        """An online purchase; now and then the switch drops between approval and the TC."""
        acquirer = self.world.acquirers["acq:CCB"]
        drop = "bank-network-outage" in self.faults and not self.outage_left and self.rng.random() < 0.3
        self.pos.authoriser = _DropsAfterApproval(acquirer, self) if drop else acquirer
        try:
            return self.pos.purchase_online(card, 3_000, DAY, _pin())
        finally:
            self.pos.authoriser = acquirer

    def _recover(self, card: object, kind: str) -> None:
        """The card presented again at the terminal that lost it."""
        try:
            if kind == "ec-load":
                self.kiosk.recover(card)  # type: ignore[arg-type]
            elif kind == "ec":
                record = self.conv.pos.recover(card)  # type: ignore[arg-type]
                if record is not None:
                    self.world.acquirers[self.world.third_party].submit(
                        record, "supermarket-verify", "supermarket"
                    )
        except (NetworkError, BankTerminalError):
            pass

    def _night(self) -> list[str]:
        ledger = Ledger(open_database(":memory:"))
        files = [a.close_file() for a in self.world.acquirers.values()]
        submitted = sum(len(f) for f in files)
        try:
            clearing = clear_day(
                ledger, 20130614, self.world.switch, files, self.world.tariff, self.world.acquirers.values()
            )
            settle(ledger, clearing)
        except (CardTwinError, AssertionError) as exc:
            return [f"bank: the night failed: {exc}"]
        out = list(
            violations_of(
                self.world, ledger, submitted, clearing.cleared, len(clearing.held) + len(clearing.carried)
            )
        )
        left = sum(len(a.advices) for a in self.world.acquirers.values())
        if left or self.kiosk.pending or self.pos.pending:
            out.append(f"{left} advices unsent or torn transactions unresolved at the night")
        return [f"bank: {v}" for v in out]


def _pin() -> bytes:
    return pin_block(PIN)


def with_bank_faults(result: SeedResult, faults: frozenset[str]) -> SeedResult:
    """The seed's result with the bank card day's faults, transactions and violations added."""
    chosen = faults & set(BANK_FAULTS)
    if not chosen:
        return result
    run = BankRun(result.seed, frozenset(chosen))
    try:
        violations = run.run()
    except Exception as exc:  # a crash is a finding: keep the seed, report what
        violations = [f"bank: crash: {type(exc).__name__}: {exc}"]
    counts = {**result.faults, **{name: run.injected[name] for name in BANK_FAULTS if name in chosen}}
    return replace(
        result,
        transactions=result.transactions + run.transactions,
        faults=counts,
        violations=result.violations + violations,
    )
