"""The issuing bank's authorisation host: verifies ARQCs, holds and debits cardholder accounts,
answers ARC + ARPC, and for an EC load (圈存) writes the PUT DATA script that raises `9F79`.

Money is two-phase, as the e-purse bank load (`model.backoffice.bank`): `authorise` moves the
amount from the cardholder's account into a hold keyed by (PAN, ATC); `confirm` makes it final
(a purchase owed to the acquirer, or EC money now on the card: the issuer's EC float); `reverse`
puts it back. An EC unload (圈提) is the mirror: its hold takes nothing from the account, its
script writes `9F79` := 0, and `confirm` moves the amount from the EC float to the account. So
a lost answer never loses the debit nor applies it twice: the terminal confirms or reverses
once it knows what the card did. Every fen is in exactly one place, which `total_fen`
sums for the invariant.

The terminal reaches the host through `Authoriser` (a small interface: the acquirer and switch
stand between them in the network). ARC values (ISO 8583 response codes, ASCII): "00" approved,
"05" do not honour (the ARQC did not verify), "14" unknown card, "51" insufficient funds, "61"
the load would exceed the card's EC balance limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from model.bankcard.bcd import encode_amount_fen
from model.bankcard.crypto import (
    IssuerMasterKeys,
    application_cryptogram,
    arpc_method_1,
    card_key,
    cvr_of,
    script_mac,
    session_key,
)
from model.errors import CardTwinError

ARC_APPROVED, ARC_DECLINED, ARC_UNKNOWN_CARD, ARC_NO_FUNDS, ARC_OVER_LIMIT = b"00", b"05", b"14", b"51", b"61"
HOLDS_MAX = 100_000  # authorisations waiting for their confirm or reverse
EC_BALANCE_TAG = 0x9F79


class IssuerError(CardTwinError):
    """A confirm or reverse of no hold, an account opened twice, a limit reached."""


class Kind(Enum):
    PURCHASE = "purchase"
    EC_LOAD = "ec-load"
    EC_UNLOAD = "ec-unload"  # 圈提: the whole EC balance back to the account


@dataclass(frozen=True, slots=True)
class AuthorisationRequest:
    """What the terminal sends (through acquirer and switch) for an online cryptogram."""

    kind: Kind
    pan: str
    pan_sequence: int
    atc: int
    arqc: bytes
    dol_data: bytes  # the CDOL1 data the ARQC covers
    aip: bytes
    iad: bytes
    amount_fen: int
    ec_balance_fen: int = 0  # EC load only: the balance the terminal read (GET DATA 9F79)
    ec_balance_limit_fen: int = 0  # EC load only: 9F77


@dataclass(frozen=True, slots=True)
class AuthorisationResponse:
    arc: bytes
    arpc: bytes
    script: bytes = b""  # EC load: the PUT DATA 9F79 command with its MAC

    @property
    def approved(self) -> bool:
        return self.arc == ARC_APPROVED


class Authoriser(Protocol):
    """The issuer side as a terminal sees it (an issuer host, or the acquirer in front of one)."""

    def authorise(self, request: AuthorisationRequest) -> AuthorisationResponse: ...

    def confirm(self, pan: str, atc: int) -> None: ...

    def reverse(self, pan: str, atc: int) -> None: ...


@dataclass(slots=True)
class _Hold:
    kind: Kind
    amount_fen: int


class IssuerHost:
    """One issuing bank: master keys, cardholder accounts (fen), holds, and where money went."""

    def __init__(self, keys: IssuerMasterKeys) -> None:
        self.keys = keys
        self.accounts_fen: dict[str, int] = {}
        self.holds: dict[tuple[str, int], _Hold] = {}
        self.ec_float_fen = 0  # EC money the bank moved onto its cards
        self.purchases_due_fen = 0  # confirmed purchases it owes the acquirers (cleared later)
        self.cleared_fen = 0  # purchases cleared: paid into the network's settlement

    def open_account(self, pan: str, balance_fen: int) -> None:
        if pan in self.accounts_fen:
            raise IssuerError(f"issuer: account of {pan} already open")
        if balance_fen < 0:
            raise IssuerError(f"issuer: account of {pan} opened with {balance_fen} fen")
        self.accounts_fen[pan] = balance_fen

    def total_fen(self) -> int:
        """Every fen the bank answers for: accounts + holds + EC float + purchases due."""
        # An unload's hold is money still on the card (in the EC float): not counted twice.
        held = sum(hold.amount_fen for hold in self.holds.values() if hold.kind is not Kind.EC_UNLOAD)
        due = self.ec_float_fen + self.purchases_due_fen + self.cleared_fen
        return sum(self.accounts_fen.values()) + held + due

    def tc_verifies(self, pan: str, pan_sequence: int, atc: int, tc: bytes, data: bytes) -> bool:
        """A clearing record's TC, recomputed over `data` (DOL data || AIP || ATC || CVR)."""
        sk = session_key(card_key(self.keys.mk_ac, pan, pan_sequence), atc)
        return application_cryptogram(sk, data) == tc

    def clear(self, pan: str, atc: int, kind: str, amount_fen: int) -> None:
        """A purchase cleared through the switch: paid from the EC float or the confirmed purchases.

        DECIDE: the clearing record is the final word on an online purchase: a hold whose
        confirm advice has not arrived (the acquirer still queues it) is confirmed by its record."""
        if kind != "ec-offline" and (pan, atc) in self.holds:
            self.confirm(pan, atc)
        if kind == "ec-offline":
            if amount_fen > self.ec_float_fen:
                raise IssuerError(
                    f"issuer: EC purchase of {amount_fen} fen exceeds the EC float {self.ec_float_fen}"
                )
            self.ec_float_fen -= amount_fen
        else:
            if amount_fen > self.purchases_due_fen:
                raise IssuerError(
                    f"issuer: purchase of {amount_fen} fen exceeds those due {self.purchases_due_fen}"
                )
            self.purchases_due_fen -= amount_fen
        self.cleared_fen += amount_fen

    def arqc_verifies(self, request: AuthorisationRequest) -> bool:
        """Recompute the ARQC from the issuer's master key, the PAN and the counter."""
        sk = session_key(card_key(self.keys.mk_ac, request.pan, request.pan_sequence), request.atc)
        data = request.dol_data + request.aip + request.atc.to_bytes(2, "big") + cvr_of(request.iad)
        return application_cryptogram(sk, data) == request.arqc

    def authorise(self, request: AuthorisationRequest) -> AuthorisationResponse:
        """Verify, decide, hold the money when approving, and answer ARC + ARPC (+ script)."""
        sk = session_key(card_key(self.keys.mk_ac, request.pan, request.pan_sequence), request.atc)
        arc = self._decide(request)
        arpc = arpc_method_1(sk, request.arqc, arc)
        if arc != ARC_APPROVED:
            return AuthorisationResponse(arc, arpc)
        key = (request.pan, request.atc)
        if key in self.holds:  # the same cryptogram twice: a replay, never two holds
            return AuthorisationResponse(ARC_DECLINED, arpc_method_1(sk, request.arqc, ARC_DECLINED))
        if len(self.holds) >= HOLDS_MAX:
            raise IssuerError(f"issuer: {HOLDS_MAX} authorisations wait for their confirm or reverse")
        self.holds[key] = _Hold(request.kind, request.amount_fen)
        script = b""
        if request.kind is Kind.EC_UNLOAD:  # nothing leaves the account: it is credited at confirm
            script = self._ec_script(request, 0)
        else:
            self.accounts_fen[request.pan] -= request.amount_fen
        if request.kind is Kind.EC_LOAD:
            script = self._ec_script(request, request.ec_balance_fen + request.amount_fen)
        return AuthorisationResponse(arc, arpc, script)

    def _decide(self, request: AuthorisationRequest) -> bytes:
        balance = self.accounts_fen.get(request.pan)
        if balance is None:
            return ARC_UNKNOWN_CARD
        if not self.arqc_verifies(request) or request.amount_fen <= 0:
            return ARC_DECLINED
        if request.kind is Kind.EC_UNLOAD:
            # The ARQC covers 9F02 = the balance the terminal read; the script writes zero.
            fits = request.amount_fen == request.ec_balance_fen <= self.ec_float_fen
            return ARC_APPROVED if fits else ARC_DECLINED
        if request.amount_fen > balance:
            return ARC_NO_FUNDS
        over = request.ec_balance_fen + request.amount_fen > request.ec_balance_limit_fen
        if request.kind is Kind.EC_LOAD and over:
            return ARC_OVER_LIMIT
        return ARC_APPROVED

    def _ec_script(self, request: AuthorisationRequest, new_balance_fen: int) -> bytes:
        """PUT DATA 9F79 := new balance, MACed under the card's script session key of this ATC."""
        udk_smi = card_key(self.keys.mk_smi, request.pan, request.pan_sequence)
        value = encode_amount_fen(new_balance_fen, "EC load script")
        header = bytes((0x04, 0xDA, EC_BALANCE_TAG >> 8, EC_BALANCE_TAG & 0xFF, len(value) + 4))
        mac = script_mac(session_key(udk_smi, request.atc), header, request.atc, request.arqc, value)
        return header + value + mac

    def confirm(self, pan: str, atc: int) -> None:
        """The card committed: the held money is final."""
        hold = self.holds.pop((pan, atc), None)
        if hold is None:
            raise IssuerError(f"issuer: confirm of {pan} ATC {atc}: no such hold")
        if hold.kind is Kind.EC_LOAD:
            self.ec_float_fen += hold.amount_fen
        elif hold.kind is Kind.EC_UNLOAD:
            self.ec_float_fen -= hold.amount_fen
            self.accounts_fen[pan] += hold.amount_fen
        else:
            self.purchases_due_fen += hold.amount_fen

    def reverse(self, pan: str, atc: int) -> None:
        """The card did not commit (or the terminal cannot know it did): the money goes back."""
        hold = self.holds.pop((pan, atc), None)
        if hold is None:
            raise IssuerError(f"issuer: reverse of {pan} ATC {atc}: no such hold")
        if hold.kind is not Kind.EC_UNLOAD:  # an unload took nothing from the account
            self.accounts_fen[pan] += hold.amount_fen
