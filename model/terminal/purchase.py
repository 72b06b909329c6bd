"""The purchase terminal application: bus validators, metro gates, taxi terminals, shop POS.

It charges a card with its PSAM: INITIALIZE FOR PURCHASE on the card, INIT SAM FOR PURCHASE
on the PSAM (which returns MAC1 and the terminal serial), DEBIT FOR PURCHASE on the card
(which commits and answers TAC and MAC2), CREDIT SAM FOR PURCHASE to check the card's MAC2.

Composite (CAPP) purchases carry a trip across two taps: the metro entry writes the entry
station into the card's CAPP record with an amount of 0 (or the fare of an unfinished earlier
trip); the exit reads the entry back and charges the fare for the distance.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import datetime

from model.card import (
    CAPP_ID_METRO,
    SFI_CAPP,
    SW,
    CappRecord,
    CardChannel,
    PublicInfo,
    algorithm_of,
    commands,
    exchange,
    parse_response,
    read_capp,
)
from model.errors import CardAuthenticationError, HotlistedCardError, NoOpenTripError
from model.records import TransactionRecord, TxType
from model.security import KEY_INDEX_DEFAULT, Algorithm
from model.terminal.acceptor import CardAcceptor
from model.terminal.journal import Journal
from model.terminal.recovery import PendingBook, PendingTransaction, Recovery
from model.timefmt import card_time, encode_datetime

Fare = Callable[[CappRecord, int, datetime], int]
"""A distance fare: (entry record, exit station, exit time) -> fen."""


class PurchaseTerminal(CardAcceptor):
    """A PSAM-equipped terminal charging e-purse cards."""

    def __init__(
        self,
        psam: CardChannel,
        hotlist: Container[bytes] = frozenset(),
        key_index: int = KEY_INDEX_DEFAULT,
        journal: Journal | None = None,
        pending: PendingBook | None = None,
    ) -> None:
        terminal_id = exchange(psam, commands.psam_read_terminal_id(), "PSAM READ BINARY 16", 6)
        exchange(psam, commands.psam_select(), "PSAM SELECT 1001")
        super().__init__(terminal_id, journal, pending)
        self.psam = psam
        self.hotlist = hotlist
        self.key_index = key_index
        self.authentication_failures = 0

    # -- the flows ------------------------------------------------------------------------

    def purchase(
        self,
        card: CardChannel,
        amount_fen: int,
        moment: datetime,
        purse: int = commands.PURSE_EP,
        pin: bytes | None = None,
    ) -> TransactionRecord:
        """Charge `amount_fen` to the card's EP, or its ED (which needs the holder's PIN)."""
        opened = self.open_purse(
            card, moment, amount_fen, purse, pin, (TxType.EP_PURCHASE, TxType.ED_PURCHASE)
        )
        if opened.done is not None:
            return opened.done
        init = commands.initialize_for_purchase(purse, self.key_index, amount_fen, self.terminal_id)
        return self._debit(card, opened.public, amount_fen, opened.tx_type, opened.moment, init, None)

    def composite_entry(
        self,
        card: CardChannel,
        station_id: int,
        moment: datetime,
        open_trip_fare_fen: int = 0,
        record_id: int = CAPP_ID_METRO,
    ) -> TransactionRecord:
        """Metro entry: open a trip in the CAPP record. An earlier trip left open (no exit tap)
        is charged `open_trip_fare_fen` now, as the operator's fare rules say."""
        moment = card_time(moment)
        public, recoveries = self.open_card(card, moment)
        previous = read_capp(card, record_id)
        done = _recovered_trip_step(recoveries, previous, self.terminal_id, trip_open=True)
        if done is not None:
            return done
        amount = open_trip_fare_fen if previous is not None and previous.trip_open else 0
        record = CappRecord(record_id, True, station_id, self.terminal_id, moment)
        init = commands.initialize_for_capp_purchase(self.key_index, amount, self.terminal_id)
        return self._debit(card, public, amount, TxType.CAPP_PURCHASE, moment, init, record)

    def composite_exit(
        self,
        card: CardChannel,
        station_id: int,
        moment: datetime,
        fare: Fare,
        record_id: int = CAPP_ID_METRO,
    ) -> TransactionRecord:
        """Metro exit: read the entry back, charge the distance fare, close the trip."""
        moment = card_time(moment)
        public, recoveries = self.open_card(card, moment)
        entry = read_capp(card, record_id)
        done = _recovered_trip_step(recoveries, entry, self.terminal_id, trip_open=False)
        if done is not None:
            return done
        if entry is None or not entry.trip_open:
            raise NoOpenTripError(f"card {public.asn.hex()}: no open trip to exit at {station_id}")
        amount = fare(entry, station_id, moment)
        closed = CappRecord(
            record_id,
            False,
            entry.entry_station,
            entry.entry_terminal,
            entry.entry_time,
            station_id,
            self.terminal_id,
            moment,
            amount,
        )
        init = commands.initialize_for_capp_purchase(self.key_index, amount, self.terminal_id)
        return self._debit(card, public, amount, TxType.CAPP_PURCHASE, moment, init, closed)

    # -- steps ----------------------------------------------------------------------------

    def open_card(self, card: CardChannel, moment: datetime) -> tuple[PublicInfo, list[Recovery]]:
        """As every acceptor, and a hotlisted card is blocked on the spot."""
        public, recoveries = super().open_card(card, moment)
        if public.asn in self.hotlist:
            self._block(card, public)
        return public, recoveries

    def _block(self, card: CardChannel, public: PublicInfo) -> None:
        """Block a hotlisted card's application with a MAC from the PSAM."""
        challenge = exchange(card, commands.get_challenge(), "GET CHALLENGE", 4)
        # The card's algorithm is only known after INITIALIZE; a hotlisted card is blocked
        # with each algorithm's MAC in turn until one verifies.
        for algorithm in Algorithm:
            mac4 = exchange(
                self.psam,
                commands.psam_block_mac(self.key_index, algorithm, public.asn, challenge),
                "PSAM CIPHER DATA",
                4,
            )
            _, sw = parse_response(card.transmit(commands.application_block(mac4)))
            if sw == SW.OK:
                raise HotlistedCardError(f"card {public.asn.hex()} is hotlisted: application blocked")
            challenge = exchange(card, commands.get_challenge(), "GET CHALLENGE", 4)
        raise HotlistedCardError(f"card {public.asn.hex()} is hotlisted: refused (block failed)")

    def _debit(
        self,
        card: CardChannel,
        public: PublicInfo,
        amount_fen: int,
        tx_type: TxType,
        moment: datetime,
        init_command: bytes,
        capp: CappRecord | None,
    ) -> TransactionRecord:
        init = exchange(card, init_command, f"INITIALIZE FOR {'CAPP ' if capp else ''}PURCHASE", 15)
        balance = int.from_bytes(init[0:4], "big", signed=True)
        counter = int.from_bytes(init[4:6], "big")
        key_index, algorithm_id, random4 = init[9], init[10], init[11:15]
        algorithm = algorithm_of(algorithm_id, "INITIALIZE FOR PURCHASE")
        date_time = encode_datetime(moment)
        sam = exchange(
            self.psam,
            commands.init_sam_for_purchase(
                random4,
                counter,
                amount_fen,
                tx_type,
                date_time,
                key_index,
                algorithm_id,
                public.asn,
                public.issuer_id,
            ),
            "INIT SAM FOR PURCHASE",
            8,
        )
        serial, mac1 = int.from_bytes(sam[0:4], "big"), sam[4:8]
        if capp is not None:
            exchange(
                card,
                commands.update_capp_data_cache(SFI_CAPP, capp.record_id, capp.encode()),
                "UPDATE CAPP DATA CACHE",
            )
        pending = PendingTransaction(
            asn=public.asn,
            tx_type=tx_type,
            counter=counter,
            amount_fen=amount_fen,
            terminal_id=self.terminal_id,
            terminal_serial=serial,
            moment=moment,
            balance_before_fen=balance,
            algorithm=algorithm,
            key_index=key_index,
        )
        response = self.commit_or_tear(
            card,
            commands.debit_for_purchase(serial, date_time, mac1),
            "DEBIT FOR PURCHASE",
            pending,
            8,
        )
        record = pending.to_record(response[0:4])
        self.record_committed(pending, record)
        _, sw = parse_response(self.psam.transmit(commands.credit_sam_for_purchase(response[4:8])))
        if sw != SW.OK:
            self.authentication_failures += 1
            raise CardAuthenticationError(
                f"card {public.asn.hex()}: MAC2 rejected by the PSAM ({sw:04X}); record kept", record
            )
        return record


def _recovered_trip_step(
    recoveries: list[Recovery], capp: CappRecord | None, terminal_id: bytes, trip_open: bool
) -> TransactionRecord | None:
    """The recovered composite record that wrote the card's CAPP record as this step would
    (an open trip for an entry, a closed one for an exit), if a torn attempt already did it."""
    if capp is None or capp.trip_open is not trip_open:
        return None
    stamp = (capp.entry_terminal, capp.entry_time) if trip_open else (capp.exit_terminal, capp.exit_time)
    for recovery in recoveries:
        record = recovery.record
        if (
            record is not None
            and record.tx_type == TxType.CAPP_PURCHASE
            and stamp == (terminal_id, record.moment)
        ):
            return record
    return None
