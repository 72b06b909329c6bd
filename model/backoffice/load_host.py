"""The load host: the back-office service that authorises loads (圈存) with MAC2.

A load is online: the card proves itself with MAC1 (made with its DLK), the host checks MAC1
with the DLK it re-derives from the issuer master key, and answers MAC2, which the card needs
to credit itself. The host tracks each authorisation until the terminal confirms that the card
committed (with the card's TAC) or cancels it (the card did not commit), so that the funding
of a load is never kept without a credit on the card, nor a credit made without funding.

Funding is pluggable (`Funding`): cash at a window needs none, a bank account is debited in two
phases (reserve at authorisation, capture on confirm, release on cancel) by the back office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from model.errors import LoadDeclinedError
from model.records import TransactionRecord
from model.security import (
    Algorithm,
    KeyStore,
    KeyStoreError,
    KeyUsage,
    load_mac1_data,
    load_mac2_data,
    load_session_seed,
    session_mac_key,
)
from model.timefmt import encode_datetime

AUTHORISATIONS_OPEN_MAX = 10_000


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """What the terminal sends the host after INITIALIZE FOR LOAD."""

    asn: bytes
    algorithm: Algorithm
    key_index: int
    balance_fen: int
    counter: int
    random4: bytes
    mac1: bytes
    amount_fen: int
    tx_type: int
    terminal_id: bytes
    moment: datetime


@dataclass(frozen=True, slots=True)
class LoadAuthorisation:
    mac2: bytes
    host_serial: int


class Funding(Protocol):
    """Where the money of a load comes from (cash drawer, bank account, online account)."""

    def reserve(self, host_serial: int, request: LoadRequest) -> None:
        """Hold the amount; raise LoadDeclinedError if it cannot be held."""

    def capture(self, host_serial: int) -> None: ...

    def release(self, host_serial: int) -> None: ...


class CashFunding:
    """Cash handed over at a window or kiosk: nothing to reserve."""

    def reserve(self, host_serial: int, request: LoadRequest) -> None:
        return None

    def capture(self, host_serial: int) -> None:
        return None

    def release(self, host_serial: int) -> None:
        return None


class HotlistView(Protocol):
    """The central hotlist as the host sees it: when a card's listing took effect (BCD
    YYYYMMDDhhmmss), or None. model.backoffice.lifecycle.Hotlist fits."""

    def effective(self, asn: bytes) -> bytes | None: ...


class LoadHost:
    """Authorises loads for one issuer; one instance per back office.

    The host is online, so it refuses a listed card from the moment its listing takes effect:
    a lost card must not be topped up from the account linked to it (terminals learn of the
    listing later, the host at once)."""

    def __init__(
        self, key_store: KeyStore, funding: Funding | None = None, hotlist: HotlistView | None = None
    ) -> None:
        self._keys = key_store
        self._funding = funding or CashFunding()
        self.hotlist = hotlist
        self._open: dict[int, LoadRequest] = {}
        self._next_serial = 1
        self.confirmed_fen = 0
        self.confirmed_count = 0

    @property
    def open_authorisations(self) -> int:
        return len(self._open)

    def authorise(self, request: LoadRequest) -> LoadAuthorisation:
        where = f"load for card {request.asn.hex()}"
        if len(self._open) >= AUTHORISATIONS_OPEN_MAX:
            raise LoadDeclinedError(f"{where}: {AUTHORISATIONS_OPEN_MAX} authorisations open")
        try:
            dlk = self._keys.card_key(KeyUsage.LOAD, request.algorithm, request.key_index, request.asn)
        except KeyStoreError as exc:
            raise LoadDeclinedError(f"{where}: {exc}") from None
        sk = session_mac_key(request.algorithm, dlk, load_session_seed(request.random4, request.counter))
        expected = sk.mac(
            load_mac1_data(request.balance_fen, request.amount_fen, request.tx_type, request.terminal_id)
        )
        if expected != request.mac1:
            raise LoadDeclinedError(f"{where}: MAC1 does not verify (not a genuine card?)")
        listed = self.hotlist.effective(request.asn) if self.hotlist is not None else None
        if listed is not None and listed <= encode_datetime(request.moment):
            raise LoadDeclinedError(f"{where}: the card is hotlisted (since {listed.hex()})")
        serial = self._next_serial
        self._funding.reserve(serial, request)
        self._next_serial += 1
        self._open[serial] = request
        mac2 = sk.mac(
            load_mac2_data(
                request.amount_fen, request.tx_type, request.terminal_id, encode_datetime(request.moment)
            )
        )
        return LoadAuthorisation(mac2=mac2, host_serial=serial)

    def confirm(self, host_serial: int, record: TransactionRecord) -> None:
        """The card committed: capture the funding. The TAC is the clearing house's to check;
        the card holds the money whatever the TAC says, so the funding is captured."""
        request = self._open.pop(host_serial, None)
        if request is None:
            raise LoadDeclinedError(f"load confirm: no open authorisation {host_serial}")
        assert record.amount_fen == request.amount_fen and record.asn == request.asn
        self._funding.capture(host_serial)
        self.confirmed_fen += record.amount_fen
        self.confirmed_count += 1

    def cancel(self, host_serial: int) -> None:
        """The card did not commit: release the funding."""
        if self._open.pop(host_serial, None) is None:
            raise LoadDeclinedError(f"load cancel: no open authorisation {host_serial}")
        self._funding.release(host_serial)
