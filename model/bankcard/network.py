"""The card network between terminals and issuing banks: acquirers, the switch that routes by BIN,
and the end-of-day clearing with the merchant discount split, on the back office's ledger.

- `Switch` is an `Authoriser`: it routes every authorisation, confirm and reverse to the issuer
  whose BIN (the longest matching PAN prefix) it holds; an issuer that is down answers nothing
  (`NetworkError`), so the terminal declines before touching any money.
- `Acquirer` is the `Authoriser` its terminals see (it forwards to the switch) and collects the
  finished `BankRecord`s of its merchants into the day's clearing file, each (PAN, ATC) once.
- `clear_day` takes the acquirers' files through the switch to the issuers: each issuer checks
  the TC of each record (a torn EC purchase's too: the card's offline proof gave it back), and
  the ledger gets one posting per record between the issuer, the switch, the acquirer and the
  merchant. Positions (`position:*` accounts, debit = owes) net to
  zero by construction and `clear_day` asserts it.

Merchant discount, ASSUMPTION (facts from outside the seeds, per the reference: China's bank
card fee rules before 2016): the rate by merchant class in basis points (`DISCOUNT_BP`), split
issuer : acquirer : switch = 7 : 2 : 1. Rounding: fee = floor(amount * bp / 10000); issuer
floor(fee * 7/10), switch floor(fee / 10), the acquirer the rest, so no fen is lost to rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from model.backoffice import Ledger
from model.bankcard.issuer import AuthorisationRequest, AuthorisationResponse, IssuerHost
from model.bankcard.terminals import BankRecord
from model.errors import CardTwinError

# ASSUMPTION: pre-2016 discount rates by merchant class (public services at zero).
DISCOUNT_BP: Mapping[str, int] = {
    "catering": 200,
    "general": 100,
    "supermarket": 50,
    "transport": 0,
    "utilities": 0,
    "public": 0,
}
SHARE_ISSUER_TENTHS, SHARE_SWITCH_TENTHS = 7, 1  # the acquirer: the remaining 2 and rounding
FILE_RECORDS_MAX = 1_000_000


class NetworkError(CardTwinError):
    """No route for a BIN, an issuer down, a record cleared twice, an unknown merchant class."""


@dataclass(frozen=True, slots=True)
class ClearingRecord:
    """One line of an acquirer's clearing file."""

    acquirer: str
    merchant: str
    merchant_class: str
    record: BankRecord


@dataclass(frozen=True, slots=True)
class DayClearing:
    """What one day's clearing did."""

    day: int
    cleared: int
    held: tuple[ClearingRecord, ...]  # TCs that did not verify: not posted
    positions_fen: dict[str, int]  # `position:*` balances after the day (debit = owes)


class Switch:
    """The card network's switch: BIN -> issuer for authorisation and for clearing."""

    def __init__(self, issuers: Mapping[str, IssuerHost], bins: Mapping[str, str]) -> None:
        for prefix, bank in bins.items():
            if bank not in issuers or not prefix.isdigit():
                raise NetworkError(f"switch: BIN {prefix!r} -> {bank!r}: no such issuer or not digits")
        self.issuers = dict(issuers)
        self._bins = sorted(bins.items(), key=lambda item: -len(item[0]))  # longest prefix first
        self.down: set[str] = set()  # issuers in an outage

    def bank_of(self, pan: str) -> str:
        for prefix, bank in self._bins:
            if pan.startswith(prefix):
                return bank
        raise NetworkError(f"switch: no issuer for PAN {pan[:6]}...")

    def _issuer(self, pan: str) -> IssuerHost:
        bank = self.bank_of(pan)
        if bank in self.down:
            raise NetworkError(f"switch: issuer {bank} is down")
        return self.issuers[bank]

    def authorise(self, request: AuthorisationRequest) -> AuthorisationResponse:
        return self._issuer(request.pan).authorise(request)

    def confirm(self, pan: str, atc: int) -> None:
        self._issuer(pan).confirm(pan, atc)

    def reverse(self, pan: str, atc: int) -> None:
        self._issuer(pan).reverse(pan, atc)


class Acquirer:
    """An acquirer (a bank, or the third party owning the convenience terminals)."""

    def __init__(self, name: str, switch: Switch) -> None:
        self.name = name
        self.switch = switch
        self._file: list[ClearingRecord] = []
        self._seen: set[tuple[str, int]] = set()

    def authorise(self, request: AuthorisationRequest) -> AuthorisationResponse:
        return self.switch.authorise(request)

    def confirm(self, pan: str, atc: int) -> None:
        self.switch.confirm(pan, atc)

    def reverse(self, pan: str, atc: int) -> None:
        self.switch.reverse(pan, atc)

    def submit(self, record: BankRecord, merchant: str, merchant_class: str) -> None:
        """A merchant's finished purchase into today's file (an EC load is no merchant's sale)."""
        if record.kind in ("ec-load", "ec-unload"):
            raise NetworkError(f"acquirer {self.name}: an {record.kind} is not cleared as a purchase")
        if merchant_class not in DISCOUNT_BP:
            raise NetworkError(f"acquirer {self.name}: merchant class {merchant_class!r} unknown")
        key = (record.pan, record.atc)
        if key in self._seen:
            raise NetworkError(f"acquirer {self.name}: PAN {record.pan} ATC {record.atc} submitted twice")
        if len(self._file) >= FILE_RECORDS_MAX:
            raise NetworkError(f"acquirer {self.name}: clearing file full at {FILE_RECORDS_MAX} records")
        self._seen.add(key)
        self._file.append(ClearingRecord(self.name, merchant, merchant_class, record))

    def close_file(self) -> tuple[ClearingRecord, ...]:
        """Today's clearing file; a new one starts."""
        out, self._file = tuple(self._file), []
        return out


def split_fee(amount_fen: int, merchant_class: str) -> tuple[int, int, int]:
    """(issuer, acquirer, switch) shares of the merchant discount on `amount_fen`."""
    fee = amount_fen * DISCOUNT_BP[merchant_class] // 10_000
    issuer = fee * SHARE_ISSUER_TENTHS // 10
    switch = fee * SHARE_SWITCH_TENTHS // 10
    return issuer, fee - issuer - switch, switch


def clear_day(
    ledger: Ledger, day: int, switch: Switch, files: Iterable[tuple[ClearingRecord, ...]]
) -> DayClearing:
    """Every file through the switch to its issuers; one balanced posting per verified record."""
    held: list[ClearingRecord] = []
    cleared = 0
    with ledger.transaction():
        for file in files:
            for line in file:
                if not _verifies(switch, line.record):
                    held.append(line)
                    continue
                _post(ledger, day, switch.bank_of(line.record.pan), line)
                switch.issuers[switch.bank_of(line.record.pan)].clear(
                    line.record.kind, line.record.amount_fen
                )
                cleared += 1
    positions = ledger.balances("position:")
    assert sum(positions.values()) == 0, f"positions do not net to zero: {positions}"
    return DayClearing(day, cleared, tuple(held), positions)


def _verifies(switch: Switch, record: BankRecord) -> bool:
    issuer = switch.issuers[switch.bank_of(record.pan)]
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + record.iad[3:7]
    return issuer.tc_verifies(record.pan, record.pan_sequence, record.atc, record.cryptogram, data)


def _post(ledger: Ledger, day: int, bank: str, line: ClearingRecord) -> None:
    """Issuer pays the amount less its share; the switch and the acquirer take theirs; the
    acquirer pays the merchant the amount less the whole discount."""
    amount = line.record.amount_fen
    issuer_fen, acquirer_fen, switch_fen = split_fee(amount, line.merchant_class)
    memo = f"{line.record.kind} {line.record.pan} ATC {line.record.atc} at {line.merchant}"
    ledger.post(
        day,
        memo,
        [
            (f"position:issuer:{bank}", amount - issuer_fen),
            ("position:switch", -switch_fen),
            (f"position:acquirer:{line.acquirer}", -acquirer_fen),
            (f"position:merchant:{line.merchant}", -(amount - issuer_fen - switch_fen - acquirer_fen)),
        ],
    )
