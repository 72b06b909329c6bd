"""Exactly once through any transport: files delivered in any order, repeated, their
acknowledgements lost, the rest resent; the issuer's books end with every routed fen once."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from model.backoffice import Participant, Sector, TerminalEntry
from model.backoffice.interchange import Inbox, Outbox, ix_participant
from model.backoffice.load_host import LoadHost
from model.records import write_batch
from model.security import IssuerKeyStore
from model.terminal import LoadTerminal
from tests.model.backoffice.test_interchange import (
    A_ISSUER,
    BUS_B,
    DAY,
    KEYS_A,
    MOMENT,
    A,
    B,
    _bus,
    _card,
    _house,
)

FILES = 4
RIDES_PER_FILE = 2
FARE = 150


def _batches() -> list[bytes]:
    """Four uploads of one interoperable bus, two rides of an A card each (made once: real crypto)."""
    card = _card(A_ISSUER, 9)
    LoadTerminal(bytes(6), LoadHost(IssuerKeyStore(KEYS_A))).load(card, 5_000, MOMENT)
    bus = _bus()
    out = []
    for n in range(FILES):
        rides = [
            bus.purchase(card, FARE, MOMENT + timedelta(minutes=10 * n + k)) for k in range(RIDES_PER_FILE)
        ]
        out.append(write_batch(BUS_B, BUS_B, n + 1, MOMENT.replace(hour=23), rides))
    return out


BATCHES = _batches()
Action = tuple[str, int]
actions = st.lists(
    st.tuples(st.sampled_from(["deliver", "twice", "drop-ack", "resend"]), st.integers(0, FILES - 1)),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(actions)
def test_any_delivery_order_clears_every_fen_once(steps: list[Action]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        a = _house(Path(folder) / "a.db", A_ISSUER, [Participant("w", "w", Sector.LOAD, "HZB")], [])
        b = _house(Path(folder) / "b.db", bytes(8), [Participant("bus-b", "B", Sector.BUS, "ICBC")],
                   [TerminalEntry(BUS_B, BUS_B, "bus-b")])  # fmt: skip
        outbox, inbox = Outbox(b.ledger, b.registry, B, frozenset({A})), Inbox(a.clearing, A)
        files = []
        for n, batch in enumerate(BATCHES):
            outbox.route(batch, f"bus-{n}")
            raw = outbox.close_file(A, DAY)
            assert raw is not None
            files.append(raw)

        def send(raw: bytes, ack: bool = True) -> None:
            answer = inbox.receive(raw, "ix", DAY)
            if ack:
                outbox.apply_ack(answer, "ack")

        for kind, i in steps:
            if kind == "resend":
                for raw in outbox.unacked(A):
                    send(raw)
            else:
                for _ in range(2 if kind == "twice" else 1):
                    send(files[i], ack=kind != "drop-ack")
        for raw in outbox.unacked(A):  # the next nights: whatever was not acknowledged goes again
            send(raw)
        total = FILES * RIDES_PER_FILE * FARE
        assert outbox.unacked(A) == [] and outbox.in_transit(A).acked_fen == total
        assert a.ledger.balance(f"payable:{ix_participant(B, 'bus-b')}") == -total
        assert a.clearing.held() == [] and inbox.missing(B) == []
        assert int(a.ledger.db.execute("SELECT COUNT(*) FROM ix_in").fetchone()[0]) == FILES
        a.ledger.check()
