"""The batch upload format: writer and strict parser, on records made by real card transactions."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from model.backoffice.registry import (
    Participant,
    Registry,
    RegistryError,
    Sector,
    TerminalEntry,
    load_registry,
)
from model.records.batch import (
    BATCH_RECORDS_MAX,
    HEADER_SIZE,
    NO_PSAM,
    RECORD_SIZE,
    BatchFault,
    BatchFormatError,
    parse_batch,
    read_batch,
    write_batch,
)
from model.records.record import TransactionRecord
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.conftest import MOMENT

CREATED = datetime(2026, 11, 23, 23, 0, 0)


@pytest.fixture
def records(
    make_card: Callable[..., tuple[CardOS, SimChannel]],
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
) -> tuple[list[TransactionRecord], list[TransactionRecord]]:
    """(load records, purchase records) from two real cards."""
    loads, purchases = [], []
    for n in (1, 2):
        _, channel = make_card(asn_int=n, seed=n)
        loads.append(load_terminal.load(channel, 5_000, MOMENT))
        for k in range(3):
            purchases.append(purchase_terminal.purchase(channel, 182 + k, MOMENT + timedelta(minutes=k + 1)))
    return loads, purchases


def _purchase_batch(purchase_terminal: PurchaseTerminal, purchases: list[TransactionRecord]) -> bytes:
    tid = purchase_terminal.terminal_id
    return write_batch(tid, tid, 1, CREATED, purchases)


def test_round_trip_keeps_every_field(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    loads, purchases = records
    raw = _purchase_batch(purchase_terminal, purchases)
    assert len(raw) == HEADER_SIZE + len(purchases) * RECORD_SIZE
    header, back = read_batch(raw)
    assert back == purchases
    assert header.record_count == len(purchases)
    assert header.purchase_total_fen == sum(r.amount_fen for r in purchases)
    assert header.load_total_fen == 0
    load_raw = write_batch(loads[0].terminal_id, NO_PSAM, 7, CREATED, loads)
    header, back = read_batch(load_raw)
    assert back == loads and header.batch_seq == 7 and header.load_total_fen == 10_000


def test_record_without_proof_round_trips_with_empty_tac(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    _, purchases = records
    no_proof = replace(purchases[0], tac=b"")
    _, back = read_batch(_purchase_batch(purchase_terminal, [no_proof]))
    assert back[0].tac == b""


def test_writer_refuses_a_foreign_record(
    records: tuple[list[TransactionRecord], list[TransactionRecord]],
) -> None:
    loads, purchases = records
    with pytest.raises(BatchFormatError, match="record of terminal"):
        write_batch(purchases[0].terminal_id, purchases[0].terminal_id, 1, CREATED, [*purchases, loads[0]])


def test_not_a_batch(purchase_terminal: PurchaseTerminal) -> None:
    parsed = parse_batch(b"hello, this is not a batch" * 4, "x.ctb")
    assert parsed.header is None
    assert parsed.batch_faults[0][0] is BatchFault.CORRUPT_BATCH
    with pytest.raises(BatchFormatError, match=r"x\.ctb: not a batch file"):
        read_batch(b"hello, this is not a batch" * 4, "x.ctb")
    with pytest.raises(BatchFormatError, match="shorter than"):
        read_batch(b"CTB1", "short.ctb")


def test_wrong_version_and_oversized_count(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    raw = bytearray(_purchase_batch(purchase_terminal, records[1]))
    raw[4] = 9
    with pytest.raises(BatchFormatError, match="format version 9"):
        read_batch(bytes(raw))
    raw = bytearray(_purchase_batch(purchase_terminal, records[1]))
    raw[28:32] = (BATCH_RECORDS_MAX + 1).to_bytes(4, "big")
    with pytest.raises(BatchFormatError, match="at most"):
        read_batch(bytes(raw))


def test_truncated_file_salvages_whole_records(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    purchases = records[1]
    raw = _purchase_batch(purchase_terminal, purchases)
    cut = raw[: len(raw) - RECORD_SIZE - 10]
    parsed = parse_batch(cut, "cut.ctb")
    faults = {fault for fault, _ in parsed.batch_faults}
    assert BatchFault.TRUNCATED in faults and BatchFault.BAD_CHECKSUM in faults
    assert [r.to_record() for _, _, r in parsed.records] == purchases[:-2]
    tail = [f for f in parsed.faults if f.fault is BatchFault.TRUNCATED]
    assert tail and tail[0].raw == cut[HEADER_SIZE + (len(purchases) - 2) * RECORD_SIZE :]
    with pytest.raises(BatchFormatError, match=r"checksum|record bytes"):
        read_batch(cut)


def test_flipped_bit_costs_only_its_record(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    purchases = records[1]
    raw = bytearray(_purchase_batch(purchase_terminal, purchases))
    raw[HEADER_SIZE + RECORD_SIZE + 12] ^= 0x01  # the second record's amount
    parsed = parse_batch(bytes(raw), "flip.ctb")
    assert [f for f, _ in parsed.batch_faults] == [BatchFault.BAD_CHECKSUM]
    assert [(f.index, f.fault) for f in parsed.faults] == [(1, BatchFault.CORRUPT_RECORD)]
    assert "record 1: record CRC does not match" in parsed.faults[0].detail
    assert len(parsed.records) == len(purchases) - 1


def test_totals_that_lie_are_reported(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    raw = bytearray(_purchase_batch(purchase_terminal, records[1]))
    raw[40:48] = (1).to_bytes(8, "big")
    # Recompute the checksum so only the totals are wrong.
    raw[52:56] = zlib.crc32(bytes(raw[HEADER_SIZE:]), zlib.crc32(bytes(raw[:52]))).to_bytes(4, "big")
    parsed = parse_batch(bytes(raw), "lie.ctb")
    assert [f for f, _ in parsed.batch_faults] == [BatchFault.TOTALS_MISMATCH]
    with pytest.raises(BatchFormatError, match="header says 0 / 1"):
        read_batch(bytes(raw), "lie.ctb")


def test_record_fields_out_of_range_are_corrupt_even_with_good_crcs(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    purchases = records[1]
    raw = bytearray(_purchase_batch(purchase_terminal, purchases))
    at = HEADER_SIZE  # first record
    raw[at + 14] = 0x07  # no such transaction type
    raw[at + 47 : at + 51] = zlib.crc32(bytes(raw[at : at + 47])).to_bytes(4, "big")
    raw[52:56] = zlib.crc32(bytes(raw[HEADER_SIZE:]), zlib.crc32(bytes(raw[:52]))).to_bytes(4, "big")
    parsed = parse_batch(bytes(raw), "bad.ctb")
    assert parsed.faults[0].fault is BatchFault.CORRUPT_RECORD
    assert "transaction type 07 unknown" in parsed.faults[0].detail


def test_a_bad_record_mid_file_costs_only_itself_on_the_proven_path(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    """A file whose checksum holds is read in one pass (`_proven_records`); a record that fails
    a field check there hands over to the record-by-record reading: the records before and
    after it are kept, in order, and it alone is held with decode_record's message."""
    purchases = records[1]
    raw = bytearray(_purchase_batch(purchase_terminal, purchases))
    at = HEADER_SIZE + 2 * RECORD_SIZE  # the third record of six
    raw[at + 14] = 0x07  # no such transaction type
    raw[at + 47 : at + 51] = zlib.crc32(bytes(raw[at : at + 47])).to_bytes(4, "big")
    raw[52:56] = zlib.crc32(bytes(raw[HEADER_SIZE:]), zlib.crc32(bytes(raw[:52]))).to_bytes(4, "big")
    parsed = parse_batch(bytes(raw), "mid.ctb")
    assert [(f.index, f.fault) for f in parsed.faults] == [(2, BatchFault.CORRUPT_RECORD)]
    assert parsed.faults[0].detail == "mid.ctb record 2: transaction type 07 unknown"
    assert [index for index, _, _ in parsed.records] == [0, 1, 3, 4, 5]
    clean = parse_batch(_purchase_batch(purchase_terminal, purchases), "clean.ctb")
    assert [r for i, _, r in parsed.records] == [r for i, _, r in clean.records if i != 2]
    assert [chunk for _, chunk, _ in parsed.records] == [
        bytes(raw[HEADER_SIZE + i * RECORD_SIZE : HEADER_SIZE + (i + 1) * RECORD_SIZE])
        for i in range(6)
        if i != 2
    ]


def test_record_of_another_terminal_inside_a_batch_is_corrupt(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    loads, purchases = records
    raw = bytearray(_purchase_batch(purchase_terminal, purchases))
    raw[2 * 0 + 5 : 11] = loads[0].terminal_id  # header now names the load terminal
    raw[52:56] = zlib.crc32(bytes(raw[HEADER_SIZE:]), zlib.crc32(bytes(raw[:52]))).to_bytes(4, "big")
    parsed = parse_batch(bytes(raw), "mixed.ctb")
    assert len(parsed.faults) == len(purchases)
    assert "differs from the header" in parsed.faults[0].detail


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3 * RECORD_SIZE + HEADER_SIZE))
def test_parser_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    parsed = parse_batch(raw, "fuzz.ctb")
    assert parsed.header is not None or parsed.batch_faults


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damage_never_turns_into_a_different_record(
    data: st.DataObject,
    records: tuple[list[TransactionRecord], list[TransactionRecord]],
    purchase_terminal: PurchaseTerminal,
) -> None:
    """Flip bytes or cut the file anywhere: what is salvaged is exactly some of the originals."""
    purchases = records[1]
    original = _purchase_batch(purchase_terminal, purchases)
    raw = bytearray(original)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(0, len(raw)))
    parsed = parse_batch(bytes(raw[:cut]), "damaged.ctb")
    salvaged = [r.to_record() for _, _, r in parsed.records]
    assert all(record in purchases for record in salvaged)
    if bytes(raw[:cut]) != original:  # two flips of one byte may cancel out
        assert parsed.faults or parsed.batch_faults


def test_registry_file_round_trip(tmp_path: Path) -> None:
    registry = Registry(
        [Participant('shop "1"', "Wulin \\ 武林", Sector.RETAIL, "ABC")],
        [TerminalEntry(b"\x01" * 6, b"\x02" * 6, 'shop "1"')],
    )
    path = tmp_path / "registry.toml"
    path.write_text(registry.to_toml(), encoding="utf-8")
    back = load_registry(path)
    assert back.participants == registry.participants and back.terminals == registry.terminals
    path.write_text('[[terminal]]\nid = "0101"\npsam = "000000000000"\nparticipant = "x"\n', encoding="utf-8")
    with pytest.raises(RegistryError, match="'id' has 2 bytes, expected 6"):
        load_registry(path)
    with pytest.raises(RegistryError, match="unknown participant"):
        Registry([], [TerminalEntry(b"\x01" * 6, b"\x02" * 6, "nobody")])


def test_dates_must_be_real_calendar_days(
    records: tuple[list[TransactionRecord], list[TransactionRecord]], purchase_terminal: PurchaseTerminal
) -> None:
    raw = bytearray(_purchase_batch(purchase_terminal, records[1][:1]))
    at = HEADER_SIZE + 25  # the record's BCD date
    raw[at : at + 4] = bytes.fromhex("20261131")  # 31 November
    raw[at + 22 : at + 26] = zlib.crc32(bytes(raw[HEADER_SIZE : HEADER_SIZE + 47])).to_bytes(4, "big")
    raw[52:56] = zlib.crc32(bytes(raw[HEADER_SIZE:]), zlib.crc32(bytes(raw[:52]))).to_bytes(4, "big")
    with pytest.raises(BatchFormatError, match="date/time 20261131"):
        read_batch(bytes(raw))
