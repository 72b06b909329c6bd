"""The card network between terminals and issuing banks: acquirers and the switch that routes by
BIN. The end of the day (clearing files, fees, positions) is `model.bankcard.clearing`; the T+1
settlement between the parties is `model.bankcard.settlement`.

- `Switch` is an `Authoriser`: it routes every authorisation, confirm and reverse to the issuer
  whose BIN (the longest matching PAN prefix) it holds; an issuer that is down, or the switch
  itself down, answers nothing (`NetworkError`), so the terminal declines before touching any
  money.
- `Acquirer` is the `Authoriser` its terminals see (it forwards to the switch) and collects the
  finished `BankRecord`s of its merchants into the day's clearing file, each (PAN, ATC) once.
  DECIDE, store and forward: a confirm or a reversal (the advice after a lost second GENERATE
  AC) that cannot reach the issuer is queued in `advices` and sent again by `flush_advices`
  (ISO 8583 repeats a reversal advice until it is acknowledged), so an outage never leaves a
  hold the terminal meant to undo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from model.bankcard.fees import DISCOUNT_BP
from model.bankcard.issuer import AuthorisationRequest, AuthorisationResponse, IssuerHost
from model.bankcard.terminals import BankRecord
from model.errors import CardTwinError

FILE_RECORDS_MAX = 1_000_000
ADVICES_MAX = 100_000  # confirms and reversals waiting for the issuer to come back


class NetworkError(CardTwinError):
    """No route for a BIN, an issuer down, a record cleared twice, an unknown merchant class."""


@dataclass(frozen=True, slots=True)
class ClearingRecord:
    """One line of an acquirer's clearing file."""

    acquirer: str
    merchant: str
    merchant_class: str
    record: BankRecord


class Switch:
    """The card network's switch: BIN -> issuer for authorisation and for clearing."""

    def __init__(self, issuers: Mapping[str, IssuerHost], bins: Mapping[str, str]) -> None:
        for prefix, bank in bins.items():
            if bank not in issuers or not prefix.isdigit():
                raise NetworkError(f"switch: BIN {prefix!r} -> {bank!r}: no such issuer or not digits")
        self.issuers = dict(issuers)
        self._bins = sorted(bins.items(), key=lambda item: -len(item[0]))  # longest prefix first
        self.down: set[str] = set()  # issuers in an outage
        self.switch_down = False  # the switch itself in an outage: nothing is routed

    def bank_of(self, pan: str) -> str:
        for prefix, bank in self._bins:
            if pan.startswith(prefix):
                return bank
        raise NetworkError(f"switch: no issuer for PAN {pan[:6]}...")

    def _issuer(self, pan: str) -> IssuerHost:
        if self.switch_down:
            raise NetworkError("switch: down")
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
        self.advices: list[tuple[str, str, int]] = []  # ("confirm" | "reverse", PAN, ATC) unsent
        self.advices_queued = 0  # how many were ever queued (a fault's count)

    def authorise(self, request: AuthorisationRequest) -> AuthorisationResponse:
        return self.switch.authorise(request)

    def confirm(self, pan: str, atc: int) -> None:
        self._advise("confirm", pan, atc)

    def reverse(self, pan: str, atc: int) -> None:
        self._advise("reverse", pan, atc)

    def _advise(self, what: str, pan: str, atc: int) -> None:
        try:
            self._send(what, pan, atc)
        except NetworkError:
            if len(self.advices) >= ADVICES_MAX:
                raise NetworkError(f"acquirer {self.name}: {ADVICES_MAX} advices unsent") from None
            self.advices.append((what, pan, atc))
            self.advices_queued += 1

    def _send(self, what: str, pan: str, atc: int) -> None:
        if what == "confirm":
            self.switch.confirm(pan, atc)
        else:
            self.switch.reverse(pan, atc)

    def flush_advices(self) -> int:
        """Send the queued advices again; those that still cannot go stay queued. Returns sent."""
        waiting, self.advices = self.advices, []
        sent = 0
        for what, pan, atc in waiting:
            try:
                self._send(what, pan, atc)
                sent += 1
            except NetworkError:
                self.advices.append((what, pan, atc))
        return sent

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
