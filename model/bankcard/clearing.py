"""The end of a bank card day: the acquirers' clearing files through the switch to the issuing
banks, each record's money split (`model.bankcard.fees`) and posted on the back office's
double-entry ledger.

`clear_day` first lets every acquirer send its queued advices, then the switch routes each line
of every file to the issuer of its BIN (one file per issuer, `route`). The issuer checks the
TC of each record (a torn EC purchase's too: the card's offline proof gave it back); a record
whose TC does not verify is held, never posted. A file for an issuer that is down (or every
file while the switch is down) is carried to the next day's clearing whole: T+1 becomes T+2 for
those records, nothing is lost or posted twice.

One posting per record, accounts `position:<role>:<name>` (debit = owes the network):

    position:issuer:<bank>     + amount - issuer's share   (the bank pays for its cardholder)
    position:switch            - switch's share
    position:acquirer:<name>   - acquirer's share (+ biller fee), less its partner's part
    position:partner:<name>    - the partner's part of an acquirer's income (revenue sharing)
    position:merchant:<name>   - what the merchant is paid
    position:biller:<name>     - what a biller (merchant class `utilities`) is paid

Positions net to zero by construction; `clear_day` asserts it at both ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from model.backoffice import Ledger
from model.bankcard.fees import BILLER_CLASS, Tariff
from model.bankcard.network import Acquirer, ClearingRecord, NetworkError, Switch
from model.bankcard.terminals import BankRecord

POSITION = "position:"
UNROUTABLE = ""  # route's key for lines whose BIN no issuer holds


@dataclass(frozen=True, slots=True)
class DayClearing:
    """What one day's clearing did."""

    day: int  # YYYYMMDD, the business day of the records
    cleared: int
    cleared_fen: int
    held: tuple[ClearingRecord, ...]  # TCs that did not verify: not posted
    carried: tuple[ClearingRecord, ...]  # for an issuer (or a switch) that was down: next day
    positions_fen: dict[str, int]  # `position:*` balances after the day (debit = owes)
    fees_fen: dict[str, int]  # income per party ("issuer:ICBC", "switch", "acquirer:X", ...)


def route(switch: Switch, files: Iterable[Sequence[ClearingRecord]]) -> dict[str, list[ClearingRecord]]:
    """The switch's work on the files: one list per issuing bank, in file order."""
    out: dict[str, list[ClearingRecord]] = {}
    for file in files:
        for line in file:
            try:
                bank = switch.bank_of(line.record.pan)
            except NetworkError:
                bank = UNROUTABLE  # no issuer holds the BIN: held, never posted
            out.setdefault(bank, []).append(line)
    return out


def clear_day(
    ledger: Ledger,
    day: int,
    switch: Switch,
    files: Iterable[Sequence[ClearingRecord]],
    tariff: Tariff | None = None,
    acquirers: Iterable[Acquirer] = (),
) -> DayClearing:
    """Every file through the switch to its issuers; one balanced posting per verified record."""
    tariff = tariff or Tariff()
    before = ledger.balances(POSITION)
    assert sum(before.values()) == 0, f"positions do not net to zero before day {day}: {before}"
    for acquirer in acquirers:
        acquirer.flush_advices()
    held: list[ClearingRecord] = []
    carried: list[ClearingRecord] = []
    fees: Counter[str] = Counter()
    cleared = cleared_fen = 0
    with ledger.transaction():
        for bank, lines in route(switch, files).items():
            if bank == UNROUTABLE:
                held += lines
                continue
            if switch.switch_down or bank in switch.down:
                carried += lines
                continue
            issuer = switch.issuers[bank]
            for line in lines:
                if not _verifies(switch, line.record):
                    held.append(line)
                    continue
                _post(ledger, day, bank, line, tariff, fees)
                record = line.record
                issuer.clear(record.pan, record.atc, record.kind, record.amount_fen)
                cleared += 1
                cleared_fen += record.amount_fen
    positions = ledger.balances(POSITION)
    assert sum(positions.values()) == 0, f"positions do not net to zero: {positions}"
    return DayClearing(day, cleared, cleared_fen, tuple(held), tuple(carried), positions, dict(fees))


def _verifies(switch: Switch, record: BankRecord) -> bool:
    issuer = switch.issuers[switch.bank_of(record.pan)]
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + record.iad[3:7]
    return issuer.tc_verifies(record.pan, record.pan_sequence, record.atc, record.cryptogram, data)


def _post(
    ledger: Ledger, day: int, bank: str, line: ClearingRecord, tariff: Tariff, fees: Counter[str]
) -> None:
    """The issuer pays the amount less its share; switch, acquirer (and its partner) take theirs;
    the merchant or biller is paid the rest."""
    amount = line.record.amount_fen
    f = tariff.fees(amount, line.merchant_class, line.acquirer)
    payee = "biller" if line.merchant_class == BILLER_CLASS else "merchant"
    lines = [
        (f"{POSITION}issuer:{bank}", amount - f.issuer_fen),
        (f"{POSITION}switch", -f.switch_fen),
        (f"{POSITION}acquirer:{line.acquirer}", -f.acquirer_fen),
        (f"{POSITION}{payee}:{line.merchant}", -f.payee_fen),
    ]
    share = tariff.shares.get(line.acquirer)
    if share is not None:
        lines.append((f"{POSITION}partner:{share.partner}", -f.partner_fen))
        fees[f"partner:{share.partner}"] += f.partner_fen
    fees[f"issuer:{bank}"] += f.issuer_fen
    fees["switch"] += f.switch_fen
    fees[f"acquirer:{line.acquirer}"] += f.acquirer_fen
    memo = f"{line.record.kind} {line.record.pan} ATC {line.record.atc} at {line.merchant}"
    ledger.post(day, memo, lines)
