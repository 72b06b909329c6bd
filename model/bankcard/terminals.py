"""The bank card's terminals: the bank POS (online purchase, EC offline purchase) and the EC load
terminal (圈存, and the unload 圈提), each over the abstract `CardChannel` with an `Authoriser`
behind it.

Torn transactions, DECIDE:
- Online purchase: once the issuer approved, a lost second GENERATE AC (no TC in hand) is a
  reversal at once; a declined or AAC answer reverses too. The card's EC money never moves in
  an online purchase, so nothing on the card needs recovery.
- EC offline purchase: the card debits its EC balance when it answers TC to the first GENERATE
  AC. If that answer is lost, the terminal keeps the pending purchase and `recover` reads the
  card's EC balance and ATC when the card is presented again: the same ATC with the balance
  lowered by the amount means the card committed, and the card's last offline proof (GET DATA
  `DF4D`: ATC, amount, TC, `9F10`) gives back the TC, so the record (`recovered` true) clears
  like any other, its TC checked by the issuer.
- EC load and unload: the issuer holds the money at authorisation (a load's account debit, an
  unload's credit to come). A torn second GENERATE AC or PUT DATA leaves it pending; `recover`
  reads `9F79` and `9F36`: same ATC and the new balance -> confirm; same ATC and the old
  balance -> reverse (the card's session and its script are gone: the cardholder tries again);
  another ATC -> it stays pending for the issuer's day-end (the card was used elsewhere).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, replace
from datetime import datetime

import model.bankcard.kernel as k
import model.bankcard.objects as t
from model.bankcard.bcd import decode_pan, encode_amount_fen
from model.bankcard.issuer import AuthorisationRequest, Authoriser, Kind
from model.bankcard.oda import OdaError, PublicKey
from model.bankcard.oda_terminal import TVR_ODA_FAILED, authenticate
from model.card import CardChannel
from model.card.tlv import find
from model.errors import CardRemovedError, CardTwinError, LoadDeclinedError, TransactionTornError

PENDING_MAX = 64  # torn transactions a terminal remembers


class BankTerminalError(CardTwinError):
    """A transaction that cannot go on (declined, card refused, recovery impossible)."""


@dataclass(frozen=True, slots=True)
class BankRecord:
    """One finished bank card transaction, for the acquirer's clearing file."""

    kind: str  # "online", "ec-offline", "ec-load", "ec-unload"
    terminal_id: str
    pan: str
    pan_sequence: int
    atc: int
    amount_fen: int
    cryptogram: bytes  # the TC (of a torn EC purchase: from the card's offline proof)
    dol_data: bytes
    aip: bytes
    iad: bytes
    when: datetime
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class _Pending:
    kind: str
    pan: str
    pan_sequence: int
    atc: int
    amount_fen: int
    balance_before_fen: int
    balance_after_fen: int
    when: datetime
    dol_data: bytes = b""  # EC purchase: the CDOL1 data its TC covers
    aip: bytes = b""


class _BankTerminal:
    """The opening shared by every bank terminal: seeded unpredictable numbers, pending table."""

    def __init__(
        self, terminal_id: str, authoriser: Authoriser, seed: int, ca_keys: dict[int, PublicKey] | None = None
    ) -> None:
        """`ca_keys`: the CA public keys by index `8F`; with them the terminal authenticates
        offline (`model.bankcard.oda_terminal`) before approving anything offline."""
        self.terminal_id = terminal_id
        self.authoriser = authoriser
        self._rng = random.Random(f"{terminal_id}/{seed}")
        self.pending: dict[str, _Pending] = {}
        self.ca_keys = ca_keys
        self.oda_failures = 0

    def _open(
        self, card: CardChannel, amount_fen: int, now: datetime, tx_type: int, ec: bool
    ) -> k.CardSession:
        if amount_fen <= 0:
            raise BankTerminalError(f"terminal {self.terminal_id}: amount {amount_fen} fen is not positive")
        data = k.terminal_data(amount_fen, now, tx_type, self._rng.randbytes(4), ec)
        return k.open_card(card, data)

    def _remember(self, pending: _Pending) -> None:
        if len(self.pending) >= PENDING_MAX and pending.pan not in self.pending:
            raise BankTerminalError(
                f"terminal {self.terminal_id}: {PENDING_MAX} torn transactions unresolved"
            )
        self.pending[pending.pan] = pending

    def _request(
        self, kind: Kind, session: k.CardSession, ac: k.AcAnswer, amount_fen: int
    ) -> AuthorisationRequest:
        return AuthorisationRequest(
            kind,
            session.pan,
            session.pan_sequence,
            ac.atc,
            ac.cryptogram,
            ac.dol_data,
            session.aip,
            ac.iad,
            amount_fen,
        )

    def _record(
        self, kind: str, session: k.CardSession, ac: k.AcAnswer, amount_fen: int, now: datetime
    ) -> BankRecord:
        return BankRecord(
            kind,
            self.terminal_id,
            session.pan,
            session.pan_sequence,
            ac.atc,
            amount_fen,
            ac.cryptogram,
            ac.dol_data,
            session.aip,
            ac.iad,
            now,
        )

    def _card_now(self, card: CardChannel) -> tuple[str, int, int]:
        """(PAN, ATC, EC balance) of a card presented again, without starting a transaction."""
        k.select_application(card)
        record = k.send(card, bytes.fromhex("00B2010C00"), "READ RECORD")
        pan_raw = find(record, t.TAG_PAN)
        if pan_raw is None:
            raise BankTerminalError(f"terminal {self.terminal_id}: record 1 has no PAN")
        return decode_pan(pan_raw), k.get_atc(card), k.get_amount(card, t.TAG_EC_BALANCE)


def _decline(card: CardChannel, session: k.CardSession, arpc: bytes, arc: bytes) -> None:
    """The card's AAC after the issuer declined; a card gone by then changes nothing (no hold
    was made, so the decline stands either way: found by the verify campaign)."""
    with contextlib.suppress(CardRemovedError):
        k.second_ac(card, session, k.AC_AAC, arpc, arc)


class BankPos(_BankTerminal):
    """A bank POS at a merchant: online purchase and EC offline purchase."""

    def purchase_online(
        self, card: CardChannel, amount_fen: int, now: datetime, pin_block: bytes = b""
    ) -> BankRecord:
        """ARQC -> issuer -> ARPC -> second GENERATE AC; TC confirms, anything else reverses."""
        try:
            session = self._open(card, amount_fen, now, k.TX_PURCHASE, ec=False)
            if pin_block:
                k.verify_pin(card, pin_block)
            ac1 = k.first_ac(card, session, k.AC_ARQC)
        except CardRemovedError as lost:  # the issuer has not been asked: nothing to undo
            raise TransactionTornError(f"purchase at {self.terminal_id}: {lost}; start again") from lost
        if ac1.cid != k.AC_ARQC:
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card answered {ac1.cid:02X} to an ARQC request"
            )
        return self._go_online(card, session, ac1, amount_fen, now)

    def _go_online(
        self, card: CardChannel, session: k.CardSession, ac1: k.AcAnswer, amount_fen: int, now: datetime
    ) -> BankRecord:
        response = self.authoriser.authorise(self._request(Kind.PURCHASE, session, ac1, amount_fen))
        if not response.approved:
            _decline(card, session, response.arpc, response.arc)
            raise LoadDeclinedError(f"purchase of {amount_fen} fen: issuer answered {response.arc.decode()}")
        try:
            ac2 = k.second_ac(card, session, k.AC_TC, response.arpc, response.arc)
        except CardRemovedError as lost:
            self.authoriser.reverse(session.pan, ac1.atc)  # the reversal of a lost second AC
            raise TransactionTornError(f"purchase at {self.terminal_id}: {lost}; reversed") from lost
        except CardTwinError:
            self.authoriser.reverse(session.pan, ac1.atc)
            raise
        if ac2.cid != k.AC_TC:
            self.authoriser.reverse(session.pan, ac1.atc)
            raise LoadDeclinedError(f"purchase of {amount_fen} fen: the card declined (AAC) after approval")
        self.authoriser.confirm(session.pan, ac1.atc)
        return self._record("online", session, ac2, amount_fen, now)

    def purchase_ec(self, card: CardChannel, amount_fen: int, now: datetime) -> BankRecord:
        """EC offline purchase: TC asked; a card that answers ARQC, or fails offline data
        authentication, is taken online."""
        try:
            session = self._open(card, amount_fen, now, k.TX_PURCHASE, ec=True)
            asked = self._offline_or_online(card, session, now)
            balance_before = k.get_amount(card, t.TAG_EC_BALANCE)
            atc = k.get_atc(card)
        except CardRemovedError as lost:  # nothing of the EC balance moved yet
            raise TransactionTornError(f"EC purchase at {self.terminal_id}: {lost}; start again") from lost
        if asked == k.AC_ARQC:
            return self._online_ec(card, session, amount_fen, now)
        self._remember(
            _Pending(
                "ec-offline",
                session.pan,
                session.pan_sequence,
                atc,
                amount_fen,
                balance_before,
                balance_before - amount_fen,
                now,
                k.cdol1_data(session),
                session.aip,
            )
        )
        try:
            ac1 = k.first_ac(card, session, k.AC_TC)
        except CardRemovedError as lost:
            raise TransactionTornError(
                f"EC purchase at {self.terminal_id}: {lost}; present the card again"
            ) from lost
        del self.pending[session.pan]
        if ac1.cid == k.AC_TC:
            return self._record("ec-offline", session, ac1, amount_fen, now)
        if ac1.cid == k.AC_ARQC:
            return self._go_online(card, session, ac1, amount_fen, now)
        raise LoadDeclinedError(f"EC purchase of {amount_fen} fen: the card declined (AAC)")

    def _offline_or_online(self, card: CardChannel, session: k.CardSession, now: datetime) -> int:
        """TC when the terminal authenticated the card offline (or holds no CA keys), else ARQC."""
        if self.ca_keys is None:
            return k.AC_TC
        try:
            authenticate(
                card, self.ca_keys, session.records, session.aip, session.pan, now, self._rng.randbytes(4)
            )
        except OdaError:
            self.oda_failures += 1
            session.terminal_data[t.TAG_TVR] = TVR_ODA_FAILED
            return k.AC_ARQC
        return k.AC_TC

    def _online_ec(
        self, card: CardChannel, session: k.CardSession, amount_fen: int, now: datetime
    ) -> BankRecord:
        try:
            ac1 = k.first_ac(card, session, k.AC_ARQC)
        except CardRemovedError as lost:  # the issuer has not been asked: nothing to undo
            raise TransactionTornError(f"purchase at {self.terminal_id}: {lost}; start again") from lost
        return self._go_online(card, session, ac1, amount_fen, now)

    def recover(self, card: CardChannel) -> BankRecord | None:
        """A card presented again after a torn EC purchase: the record if the card committed."""
        pan, atc, balance = self._card_now(card)
        pending = self.pending.get(pan)
        if pending is None:
            return None
        if atc != pending.atc:
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card {pan} moved from ATC {pending.atc} to {atc}"
            )
        if balance not in (pending.balance_after_fen, pending.balance_before_fen):
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card {pan} EC balance {balance} fen is neither"
            )
        if balance == pending.balance_before_fen:
            del self.pending[pan]
            return None
        proof = k.get_data(card, t.TAG_OFFLINE_PROOF)
        if len(proof) != 23 or proof[:8] != atc.to_bytes(2, "big") + encode_amount_fen(pending.amount_fen):
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card {pan} offline proof {proof.hex()} is not ours"
            )
        del self.pending[pan]
        cryptogram, iad = proof[8:16], proof[16:]
        return BankRecord(
            "ec-offline",
            self.terminal_id,
            pan,
            pending.pan_sequence,
            atc,
            pending.amount_fen,
            cryptogram,
            pending.dol_data,
            pending.aip,
            iad,
            pending.when,
            recovered=True,
        )


class EcLoadTerminal(_BankTerminal):
    """The EC load terminal (圈存 from the cardholder's bank account), two-phase with the issuer."""

    def load(self, card: CardChannel, amount_fen: int, now: datetime, pin_block: bytes = b"") -> BankRecord:
        """Online ARQC, the issuer holds the debit and answers ARPC + script, second AC, PUT DATA."""
        return self._scripted(card, Kind.EC_LOAD, amount_fen, now, pin_block)

    def unload(self, card: CardChannel, now: datetime, pin_block: bytes = b"") -> BankRecord:
        """圈提: the whole EC balance back to the account; the ARQC covers it (`9F02`), the script
        writes `9F79` := 0, the issuer credits the account when the card applied it."""
        try:
            k.select_application(card)
            balance_fen = k.get_amount(card, t.TAG_EC_BALANCE)
        except CardRemovedError as lost:
            raise TransactionTornError(f"EC unload at {self.terminal_id}: {lost}; start again") from lost
        if balance_fen == 0:
            raise BankTerminalError(
                f"terminal {self.terminal_id}: the card's EC balance is zero, nothing to unload"
            )
        return self._scripted(card, Kind.EC_UNLOAD, balance_fen, now, pin_block)

    def _scripted(
        self, card: CardChannel, kind: Kind, amount_fen: int, now: datetime, pin_block: bytes
    ) -> BankRecord:
        """The online transaction whose issuer script moves the EC balance, two-phase."""
        what, loading = kind.value, kind is Kind.EC_LOAD
        try:
            session = self._open(card, amount_fen, now, k.TX_EC_LOAD if loading else k.TX_EC_UNLOAD, ec=False)
            balance_before = k.get_amount(card, t.TAG_EC_BALANCE)
            limit = k.get_amount(card, t.TAG_EC_BALANCE_LIMIT)
            if pin_block:
                k.verify_pin(card, pin_block)
            ac1 = k.first_ac(card, session, k.AC_ARQC)
        except CardRemovedError as lost:  # the issuer has not been asked: nothing to undo
            raise TransactionTornError(f"{what} at {self.terminal_id}: {lost}; start again") from lost
        if ac1.cid != k.AC_ARQC:
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card answered {ac1.cid:02X} to an ARQC request"
            )
        request = replace(
            self._request(kind, session, ac1, amount_fen),
            ec_balance_fen=balance_before,
            ec_balance_limit_fen=limit,
        )
        response = self.authoriser.authorise(request)
        if not response.approved:
            _decline(card, session, response.arpc, response.arc)
            raise LoadDeclinedError(f"{what} of {amount_fen} fen: issuer answered {response.arc.decode()}")
        balance_after = balance_before + amount_fen if loading else 0
        pending = _Pending(
            what, session.pan, session.pan_sequence, ac1.atc, amount_fen, balance_before, balance_after, now
        )
        self._remember(pending)
        try:
            ac2 = k.second_ac(card, session, k.AC_TC, response.arpc, response.arc)
            if ac2.cid != k.AC_TC:
                raise BankTerminalError(f"terminal {self.terminal_id}: the card declined the {what} (AAC)")
            k.send(card, response.script, "PUT DATA 9F79")
        except CardRemovedError as lost:
            raise TransactionTornError(
                f"{what} at {self.terminal_id}: {lost}; present the card again"
            ) from lost
        except CardTwinError:
            del self.pending[session.pan]
            self.authoriser.reverse(session.pan, ac1.atc)
            raise
        self.authoriser.confirm(session.pan, ac1.atc)  # (if the issuer is unreachable, still pending)
        del self.pending[session.pan]
        return self._record(what, session, ac2, amount_fen, now)

    def recover(self, card: CardChannel) -> bool | None:
        """A card presented again after a torn load: True confirmed, False reversed, None nothing due.

        The card's EC balance and ATC decide (see the module docstring)."""
        pan, atc, balance = self._card_now(card)
        pending = self.pending.get(pan)
        if pending is None:
            return None
        if atc != pending.atc:
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card {pan} moved from ATC {pending.atc} to {atc}:"
                " the issuer's day-end decides"
            )
        if balance not in (pending.balance_after_fen, pending.balance_before_fen):
            raise BankTerminalError(
                f"terminal {self.terminal_id}: card {pan} EC balance {balance} fen is neither"
            )
        del self.pending[pan]
        if balance == pending.balance_after_fen:
            self.authoriser.confirm(pan, pending.atc)
            return True
        self.authoriser.reverse(pan, pending.atc)
        return False
