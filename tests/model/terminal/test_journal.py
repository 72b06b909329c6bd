"""The terminal journal holds records in the upload format and gives back equal records, in
order, bounded; what it uploads is the batch file's body, byte for byte."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

import pytest

from model.records import HEADER_SIZE, NO_PSAM, RECORD_SIZE, write_batch
from model.records.batch import read_batch
from model.records.record import TransactionRecord, TxType
from model.security.crypto import Algorithm
from model.terminal.journal import Journal, JournalFullError


def _record(rng: random.Random, n: int) -> TransactionRecord:
    tx_type = rng.choice(list(TxType))
    amount = rng.randrange(0, 1 << 32)
    before = rng.randrange(-(1 << 20), 1 << 30)
    after = before + amount if tx_type.is_load else before - amount
    if not -(1 << 31) <= after < 1 << 31:
        after, amount = before, 0
    return TransactionRecord(
        asn=rng.randbytes(8),
        counter=rng.randrange(0, 1 << 16),
        amount_fen=amount,
        tx_type=tx_type,
        terminal_id=rng.randbytes(6),
        terminal_serial=rng.randrange(0, 1 << 32),
        moment=datetime(2009, 1, 1) + timedelta(days=rng.randrange(4000), seconds=rng.randrange(86400) + n),
        balance_before_fen=before,
        balance_after_fen=after,
        tac=rng.choice([b"", rng.randbytes(4)]),
        algorithm=rng.choice(list(Algorithm)),
        key_index=rng.randrange(256),
    )


def test_records_come_back_equal_and_in_order() -> None:
    rng = random.Random(3)
    journal = Journal()
    made = [_record(rng, n) for n in range(500)]
    for record in made:
        journal.append(record)
    assert len(journal) == 500 and journal.total_appended == 500
    assert journal.records() == tuple(made)
    assert journal.drain() == made
    assert len(journal) == 0 and journal.drain() == [] and journal.total_appended == 500


def test_an_upload_is_the_batch_files_body_and_reads_back_equal() -> None:
    rng = random.Random(5)
    terminal = rng.randbytes(6)
    made = [dataclasses.replace(_record(rng, n), terminal_id=terminal) for n in range(40)]
    journal = Journal()
    for record in made:
        journal.append(record)
    wire = journal.drain_wire()
    assert len(journal) == 0 and len(wire) == 40 * RECORD_SIZE
    raw = write_batch(terminal, NO_PSAM, 3, datetime(2009, 6, 1, 23), made)
    assert raw[HEADER_SIZE:] == wire
    assert read_batch(raw)[1] == made


def test_a_record_the_upload_cannot_carry_is_refused() -> None:
    rng = random.Random(6)
    journal = Journal()
    with pytest.raises(AssertionError, match="whole local seconds"):
        journal.append(dataclasses.replace(_record(rng, 0), moment=datetime(2009, 1, 1, 8, 0, 0, 500)))
    with pytest.raises(AssertionError, match="card sizes"):
        journal.append(dataclasses.replace(_record(rng, 1), tac=b"\x01\x02\x03"))
    assert len(journal) == 0 and journal.total_appended == 0


def test_a_full_journal_refuses_and_a_bad_record_leaves_it_unchanged() -> None:
    rng = random.Random(4)
    journal = Journal(limit=2)
    first = _record(rng, 0)
    journal.append(first)
    journal.check_room("bus 1")
    wrong = dataclasses.replace(_record(rng, 1), asn=b"\x01\x02")
    with pytest.raises(AssertionError, match="card sizes"):
        journal.append(wrong)
    assert journal.records() == (first,) and journal.total_appended == 1
    journal.append(_record(rng, 2))
    with pytest.raises(JournalFullError, match="bus 1: journal holds 2 records"):
        journal.check_room("bus 1")
