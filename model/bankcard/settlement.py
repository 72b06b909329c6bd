"""T+1 settlement between the parties of the bank card network, from the day's clearing.

The morning after a clearing day (the value day, T+1), every party's net position
(`position:*`, debit = owes) becomes one settlement instruction: a party with a debit position
pays that much into the settlement account, one with a credit position is paid out of it.
DECIDE: one net instruction per party (multilateral netting through the switch's settlement
bank, as CUP settles), not one per counterparty; the merchants and billers are paid in the same
run (the acquirer's payout to them is folded into the network's, since the twin has no separate
acquirer-to-merchant bank). The settlement is two postings, the pay-ins into `settlement:account` and
the payouts out of it, so that account nets to zero; after it every position is zero, and the
settlement asserts both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from model.backoffice import Ledger
from model.bankcard.clearing import POSITION, DayClearing
from model.errors import CardTwinError

SETTLEMENT_ACCOUNT = "settlement:account"


class SettlementError(CardTwinError):
    """A settlement that cannot run: positions that do not net, a day settled twice."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One party's net payment on the value day: positive pays in, negative is paid out."""

    party: str  # "issuer:ICBC", "switch", "acquirer:X", "merchant:Y", "biller:Z", "partner:P"
    pay_fen: int


@dataclass(frozen=True, slots=True)
class Settlement:
    day: int  # the business day cleared
    value_day: int  # T+1, YYYYMMDD
    instructions: tuple[Instruction, ...]

    @property
    def paid_in_fen(self) -> int:
        return sum(i.pay_fen for i in self.instructions if i.pay_fen > 0)


def value_day(day: int) -> int:
    """T+1 of a YYYYMMDD day (DECIDE: calendar days; the network settles every day)."""
    d = date(day // 10_000, day // 100 % 100, day % 100) + timedelta(days=1)
    return d.year * 10_000 + d.month * 100 + d.day


def settle(ledger: Ledger, clearing: DayClearing) -> Settlement:
    """Close every position of the ledger (the cleared day's) on its value day T+1."""
    positions = {a: b for a, b in ledger.balances(POSITION).items() if b != 0}
    if sum(positions.values()) != 0:
        raise SettlementError(f"day {clearing.day}: positions net to {sum(positions.values())} fen, not 0")
    when = value_day(clearing.day)
    instructions = tuple(Instruction(a.removeprefix(POSITION), b) for a, b in sorted(positions.items()))
    if instructions:
        pay_in = [(a, -b) for a, b in sorted(positions.items()) if b > 0]
        pay_out = [(a, -b) for a, b in sorted(positions.items()) if b < 0]
        total = sum(b for b in positions.values() if b > 0)
        with ledger.transaction():
            ledger.post(when, f"T+1 pay-ins of day {clearing.day}", [*pay_in, (SETTLEMENT_ACCOUNT, total)])
            ledger.post(when, f"T+1 payouts of day {clearing.day}", [*pay_out, (SETTLEMENT_ACCOUNT, -total)])
    left = {a: b for a, b in ledger.balances(POSITION).items() if b != 0}
    assert not left and ledger.balance(SETTLEMENT_ACCOUNT) == 0, f"settlement left {left}"
    return Settlement(clearing.day, when, instructions)
