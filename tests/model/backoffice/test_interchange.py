"""Interchange between two clearing houses on records of real card transactions.

City A (issuer 3301..) and city B (3306..): A's card rides B's bus through B's interoperable
PSAM (a key ring of A's purchase keys); B routes the records to A, A clears them with its own
keys, acknowledges, settles T+1 and advises B, which cross-settles once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import (
    ClearingHouse,
    Ledger,
    Participant,
    Registry,
    Sector,
    Settlement,
    TacVerifier,
    TerminalEntry,
    open_database,
)
from model.backoffice.fees import DEFAULT_FEES, FeeSchedule, SectorFee
from model.backoffice.interchange import Inbox, Outbox, ix_bank, ix_participant
from model.backoffice.interchange_wire import InterchangeError, decode_file
from model.backoffice.load_host import LoadHost
from model.errors import CardTwinError
from model.records import NO_PSAM, parse_batch, write_batch
from model.security import IssuerKeyRing, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal import LoadTerminal, PurchaseTerminal

A_ISSUER, B_ISSUER = bytes.fromhex("3301000000000001"), bytes.fromhex("3306000000000001")
A, B = A_ISSUER[:4], B_ISSUER[:4]
KEYS_A, KEYS_B = generate_issuer_keys(1, A_ISSUER), generate_issuer_keys(1, B_ISSUER)
BUS_B = bytes.fromhex("33060a000001")  # B's bus, interoperable PSAM slot
KIOSK_A = bytes.fromhex("330109000001")
DAY = date(2013, 3, 4)
MOMENT = datetime(2013, 3, 4, 8, 0)
PSAM_USES = frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE})
FEES = dict(DEFAULT_FEES) | {Sector.INTERCHANGE: SectorFee(fee_bp=30), Sector.BUS: SectorFee(fee_bp=50)}


@dataclass
class House:
    ledger: Ledger
    registry: Registry
    clearing: ClearingHouse
    settlement: Settlement


def _house(
    path: Path, keys_issuer: bytes, participants: list[Participant], terminals: list[TerminalEntry]
) -> House:
    keys = KEYS_A if keys_issuer == A_ISSUER else KEYS_B
    ledger = Ledger(open_database(path))
    registry = Registry(participants, terminals)
    clearing = ClearingHouse(ledger, registry, TacVerifier(IssuerKeyStore(keys, frozenset({KeyUsage.TAC}))))
    return House(ledger, registry, clearing, Settlement(ledger, registry, FeeSchedule(FEES)))


@pytest.fixture
def houses(tmp_path: Path) -> tuple[House, House]:
    a = _house(tmp_path / "a.db", A_ISSUER, [Participant("kiosk-a", "A window", Sector.LOAD, "HZB")],
               [TerminalEntry(KIOSK_A, NO_PSAM, "kiosk-a")])  # fmt: skip
    b = _house(tmp_path / "b.db", B_ISSUER, [Participant("bus-b", "B buses", Sector.BUS, "ICBC")],
               [TerminalEntry(BUS_B, BUS_B, "bus-b")])  # fmt: skip
    return a, b


def _card(keys_asn_issuer: bytes, n: int) -> SimChannel:
    keys = KEYS_A if keys_asn_issuer == A_ISSUER else KEYS_B
    asn = keys_asn_issuer[:4] + n.to_bytes(4, "big")
    state = CardFactory(keys).personalise(
        CardProfile(asn=asn, start=date(2010, 1, 1), expiry=date(2030, 1, 1))
    )
    return SimChannel(CardOS(state))


def _bus() -> PurchaseTerminal:
    ring = IssuerKeyRing([IssuerKeyStore(KEYS_A, PSAM_USES), IssuerKeyStore(KEYS_B, PSAM_USES)])
    return PurchaseTerminal(SimChannel(Psam(BUS_B, ring)))


def test_a_key_ring_psam_charges_cards_of_each_issuer_it_holds_and_refuses_others() -> None:
    bus = _bus()
    card_a, card_b = _card(A_ISSUER, 1), _card(B_ISSUER, 1)
    for card in (card_a, card_b):
        LoadTerminal(bytes(6), LoadHost(IssuerKeyStore(KEYS_A if card is card_a else KEYS_B))).load(
            card, 1_000, MOMENT
        )
    ra = bus.purchase(card_a, 150, MOMENT)
    rb = bus.purchase(card_b, 150, MOMENT)
    assert (ra.terminal_serial, rb.terminal_serial) == (0, 1)
    # each TAC verifies with its own issuer's keys only
    va, vb = (TacVerifier(IssuerKeyStore(k, frozenset({KeyUsage.TAC}))) for k in (KEYS_A, KEYS_B))
    for record, good, bad in ((ra, va, vb), (rb, vb, va)):
        wire = parse_batch(write_batch(BUS_B, BUS_B, 1, MOMENT, [record])).records[0][2]
        assert good.verify(wire) and not bad.verify(wire)
    stranger = _card(bytes.fromhex("3302000000000001"), 1)  # no keys of issuer 3302 in the ring
    with pytest.raises(CardTwinError):
        bus.purchase(stranger, 150, MOMENT)


def _visiting_day(a: House, b: House, rides: int = 3) -> tuple[Outbox, Inbox, int, bytes]:
    card = _card(A_ISSUER, 7)
    kiosk = LoadTerminal(KIOSK_A, LoadHost(IssuerKeyStore(KEYS_A)))
    load = kiosk.load(card, 2_000, MOMENT)
    a.clearing.ingest_file(write_batch(KIOSK_A, NO_PSAM, 1, MOMENT, [load]), "kiosk-1", DAY)
    bus = _bus()
    records = [bus.purchase(card, 150, MOMENT + timedelta(hours=1, minutes=k)) for k in range(rides)]
    outbox = Outbox(b.ledger, b.registry, B, frozenset({A}))
    batch = write_batch(BUS_B, BUS_B, 1, MOMENT.replace(hour=23), records)
    routed = outbox.route(batch, "bus-1")
    assert routed.local is None and (routed.sent_records, routed.sent_fen) == (rides, 150 * rides)
    return outbox, Inbox(a.clearing, A), 150 * rides, batch


def test_a_visiting_day_clears_at_the_issuer_and_cross_settles_once(houses: tuple[House, House]) -> None:
    a, b = houses
    outbox, inbox, gross, _ = _visiting_day(a, b)
    raw = outbox.close_file(A, DAY)
    assert raw is not None and outbox.close_file(A, DAY) is None  # nothing left to file
    ack = inbox.receive(raw, "ix-1", DAY)
    assert inbox.receive(raw, "ix-1 again", DAY) == ack  # a duplicate gets the same answer, posts nothing
    assert outbox.apply_ack(ack, "ack").posted_fen == gross
    outbox.apply_ack(ack, "ack again")
    assert outbox.unacked(A) == [] and outbox.in_transit(A).acked_fen == gross
    pid = ix_participant(B, "bus-b")
    assert a.ledger.balance(f"payable:{pid}") == -gross and a.ledger.balance("float") == -(2_000 - gross)
    report = a.settlement.run(DAY + timedelta(days=1))
    fee = (gross * 30 + 5_000) // 10_000
    line = next(ln for ln in report.lines if ln.participant == pid)
    assert (line.gross_fen, line.fee_fen, line.position_fen) == (gross, fee, gross - fee)
    assert report.instructions[ix_bank(B)] == gross - fee
    advice = inbox.advice(report, B)
    outbox.apply_advice(advice, "advice", FeeSchedule(FEES))
    outbox.apply_advice(advice, "advice again", FeeSchedule(FEES))  # once only
    own_fee = (gross * 50 + 5_000) // 10_000
    assert b.ledger.balance("reserve") == (gross - fee) - (gross - own_fee)
    assert b.ledger.balance("interchange-fees") == fee and b.ledger.balance("fees") == -own_fee
    assert outbox.payouts_fen(A) == (gross, fee, own_fee, gross - own_fee)
    a.ledger.check()
    b.ledger.check()


def test_routing_a_batch_twice_sends_it_once(houses: tuple[House, House]) -> None:
    a, b = houses
    outbox, _, gross, batch = _visiting_day(a, b)
    again = outbox.route(batch, "bus-1 retry")  # the terminal's upload again, before the file closed
    assert (again.local, again.sent_records) == (None, 0)
    first = outbox.close_file(A, DAY)
    assert first is not None and decode_file(first, "f").purchase_fen == gross
    assert outbox.route(batch, "bus-1 third").sent_records == 0 and outbox.close_file(A, DAY) is None
    assert outbox.in_transit(A).unacked_fen == gross


def test_bad_files_are_refused_in_one_line_and_take_nothing(houses: tuple[House, House]) -> None:
    a, b = houses
    outbox, inbox, _, _ = _visiting_day(a, b)
    raw = outbox.close_file(A, DAY)
    assert raw is not None
    flipped = bytearray(raw)
    flipped[60] ^= 0x01
    with pytest.raises(InterchangeError, match="ix-bad: SHA-256 does not match"):
        inbox.receive(bytes(flipped), "ix-bad", DAY)
    with pytest.raises(InterchangeError, match="ix-short: SHA-256 does not match"):
        inbox.receive(raw[:-5], "ix-short", DAY)
    with pytest.raises(InterchangeError, match="addressed to 33010000, this house is 33060000"):
        Inbox(b.clearing, B).receive(raw, "ix-wrong", DAY)
    assert a.ledger.db.execute("SELECT COUNT(*) FROM ix_in").fetchone()[0] == 0
    assert a.ledger.balance("float") == -2_000  # only the load: nothing of the bad files posted
    ack = inbox.receive(raw, "ix-1", DAY)
    with pytest.raises(InterchangeError, match="acknowledges file 1 of 33010000 that was not sent"):
        Outbox(a.ledger, a.registry, A, frozenset({B})).apply_ack(ack, "ack")
    report = a.settlement.run(DAY + timedelta(days=1))
    advice = inbox.advice(report, B)
    outbox.apply_advice(advice, "advice", FeeSchedule(FEES))
    other = bytearray(advice)
    other[-40] ^= 0x01
    with pytest.raises(InterchangeError, match="SHA-256"):
        outbox.apply_advice(bytes(other), "advice forged", FeeSchedule(FEES))


def test_a_receive_interrupted_mid_file_leaves_nothing_and_goes_again(
    houses: tuple[House, House], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = houses
    outbox, inbox, gross, _ = _visiting_day(a, b)
    raw = outbox.close_file(A, DAY)
    assert raw is not None
    import model.backoffice.clearing as clearing_module

    real = clearing_module.ingest_batch

    def crash(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise sqlite3.OperationalError("interrupted")  # after the first batch of the file is staged

    monkeypatch.setattr(clearing_module, "ingest_batch", crash)
    with pytest.raises(sqlite3.OperationalError):
        inbox.receive(raw, "ix-1", DAY)
    monkeypatch.undo()
    assert a.ledger.db.execute("SELECT COUNT(*) FROM ix_in").fetchone()[0] == 0
    assert a.ledger.balance(f"payable:{ix_participant(B, 'bus-b')}") == 0
    inbox.receive(raw, "ix-1", DAY)
    assert a.ledger.balance(f"payable:{ix_participant(B, 'bus-b')}") == -gross


def test_a_key_ring_refuses_no_issuer_or_one_twice() -> None:
    from model.security import KeyStoreError

    with pytest.raises(KeyStoreError, match="key ring: 0 issuers"):
        IssuerKeyRing([])
    store = IssuerKeyStore(KEYS_A, PSAM_USES)
    with pytest.raises(KeyStoreError, match="issuer 3301000000000001 given twice"):
        IssuerKeyRing([store, IssuerKeyStore(KEYS_A, PSAM_USES)])
    ring = IssuerKeyRing([store, IssuerKeyStore(KEYS_B, PSAM_USES)])
    assert ring.issuer_ids == (A_ISSUER, B_ISSUER) and ring.home is store and ring.store(bytes(8)) is None
