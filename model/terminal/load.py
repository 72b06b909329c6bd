"""The load terminal application: recharge kiosks, service windows, bank self-service (圈存).

INITIALIZE FOR LOAD on the card gives MAC1; the load host checks it and answers MAC2; CREDIT
FOR LOAD commits on the card and answers the TAC. The host's authorisation is confirmed when
the card committed and cancelled when it did not, including after a torn CREDIT, once the card
is presented again and GET TRANSACTION PROOF tells which.
"""

from __future__ import annotations

from datetime import datetime

from model.backoffice import LoadHost, LoadRequest
from model.card import CardChannel, algorithm_of, commands, exchange
from model.errors import CardTwinError
from model.records import TransactionRecord, TxType
from model.security import KEY_INDEX_DEFAULT
from model.terminal.acceptor import CardAcceptor
from model.terminal.journal import Journal
from model.terminal.recovery import PendingBook, PendingTransaction, Recovery, RecoveryOutcome
from model.timefmt import encode_datetime


class LoadTerminal(CardAcceptor):
    """A terminal that tops up cards online through the load host."""

    def __init__(
        self,
        terminal_id: bytes,
        host: LoadHost,
        key_index: int = KEY_INDEX_DEFAULT,
        journal: Journal | None = None,
        pending: PendingBook | None = None,
    ) -> None:
        super().__init__(terminal_id, journal, pending)
        self.host = host
        self.key_index = key_index

    def load(
        self,
        card: CardChannel,
        amount_fen: int,
        moment: datetime,
        purse: int = commands.PURSE_EP,
        pin: bytes | None = None,
    ) -> TransactionRecord:
        """Load `amount_fen` onto the card's EP, or its ED (which needs the holder's PIN)."""
        opened = self.open_purse(card, moment, amount_fen, purse, pin, (TxType.EP_LOAD, TxType.ED_LOAD))
        if opened.done is not None:
            return opened.done
        public, tx_type, moment = opened.public, opened.tx_type, opened.moment
        init = exchange(
            card,
            commands.initialize_for_load(purse, self.key_index, amount_fen, self.terminal_id),
            "INITIALIZE FOR LOAD",
            16,
        )
        balance = int.from_bytes(init[0:4], "big", signed=True)
        counter = int.from_bytes(init[4:6], "big")
        key_index, algorithm_id, random4, mac1 = init[6], init[7], init[8:12], init[12:16]
        algorithm = algorithm_of(algorithm_id, "INITIALIZE FOR LOAD")
        authorisation = self.host.authorise(
            LoadRequest(
                asn=public.asn,
                algorithm=algorithm,
                key_index=key_index,
                balance_fen=balance,
                counter=counter,
                random4=random4,
                mac1=mac1,
                amount_fen=amount_fen,
                tx_type=tx_type,
                terminal_id=self.terminal_id,
                moment=moment,
            )
        )
        pending = PendingTransaction(
            asn=public.asn,
            tx_type=tx_type,
            counter=counter,
            amount_fen=amount_fen,
            terminal_id=self.terminal_id,
            terminal_serial=authorisation.host_serial,
            moment=moment,
            balance_before_fen=balance,
            algorithm=algorithm,
            key_index=key_index,
        )
        # Any failure of CREDIT leaves the load pending (see `commit_or_tear`): the funding is
        # released or captured once recovery has read the card's log (`settle_recovery`).
        tac = self.commit_or_tear(
            card,
            commands.credit_for_load(encode_datetime(moment), authorisation.mac2),
            "CREDIT FOR LOAD",
            pending,
            4,
        )
        record = pending.to_record(tac)
        self.record_committed(pending, record)
        self.host.confirm(authorisation.host_serial, record)
        return record

    def settle_recovery(self, pending: PendingTransaction, recovery: Recovery) -> None:
        if recovery.outcome is RecoveryOutcome.NOT_COMMITTED:
            self.host.cancel(pending.terminal_serial)
        elif recovery.record is not None:
            self.host.confirm(pending.terminal_serial, recovery.record)
        else:  # pragma: no cover - UNKNOWN never reaches settle_recovery
            raise CardTwinError("recovery settled without an outcome")
