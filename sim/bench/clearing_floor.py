"""The floor under the clearing house's night: the work no clearing of these records can skip.

For the same files, measured in the same run, three parts, each done the fastest way known:

    parse    each file read by `model.records.parse_batch` (header, checksum, every field
             checked): a clearing house cannot trust a byte it has not read
    tac      each card's TAC key derived once (one ECB call under the issuer master key, one
             cipher set-up under the card key), each record's TAC chain: a 3DES purchase as
             three ECB blocks straight from its wire bytes, as the clearing house does it
             (model.backoffice.tac_verifier), any other record from its TAC input
    insert   each file's batch row and each record's row, with the clearing house's own
             columns, into tables with its unique identity indexes, one `executemany` each
             and one commit

No duplicate, gap or hotlist checks, no holds, no ledger, no settlement. The night's CPU over
this floor says what the clearing house's own logic costs. (Until this session the floor
skipped parsing, ran the TAC chain slower than the night does, and inserted 3-column rows:
it claimed a floor the night could not be compared with.)
"""

from __future__ import annotations

import sqlite3
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.backoffice.gc_pause import paused_gc
from model.records import ParsedBatch, WireRecord, parse_batch
from model.security import Algorithm, IssuerKeys, KeyUsage, load_tac_data, pad80, purchase_tac_data, tac_key

_LOAD_TYPES = (0x01, 0x02)
_ALL_ONES_64 = (1 << 64) - 1
_ALGORITHMS = {int(a): a for a in Algorithm}  # the enum's lookup without its call
_THREE_BLOCKS = struct.Struct(">QQQ")
_LAST_MASK, _LAST_PAD = 0xFFFF_FFFF_FFFF_0000, 0x8000  # the purchase's third block, padded
_FLOOR_SCHEMA = """
CREATE TABLE batches (id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, name TEXT NOT NULL,
    terminal_id BLOB, batch_seq INTEGER, clearing_day INTEGER NOT NULL,
    declared_load_fen INTEGER NOT NULL, declared_purchase_fen INTEGER NOT NULL, raw BLOB);
CREATE TABLE records (id INTEGER PRIMARY KEY, key BLOB NOT NULL, batch_id INTEGER NOT NULL,
    participant TEXT NOT NULL, tx_type INTEGER NOT NULL, amount_fen INTEGER NOT NULL,
    day INTEGER NOT NULL, terminal_id BLOB NOT NULL, serial INTEGER NOT NULL,
    posting_id INTEGER NOT NULL, identity BLOB NOT NULL, moment BLOB, balance_after_fen INTEGER);
CREATE UNIQUE INDEX records_identity ON records(identity);
"""


def decoded_records(raws: list[bytes]) -> list[WireRecord]:
    return [record for raw in raws for _, _, record in parse_batch(raw).records]


def floor_cpu_s(raws: list[bytes], keys: IssuerKeys) -> tuple[float, float, float, int]:
    """(parse CPU s, TAC CPU s, insert CPU s, TACs that verified) for the files `raws`, with the
    cycle collector paused as the night pauses it (model.backoffice.gc_pause)."""
    with paused_gc():
        return _floor_cpu_s(raws, keys)


def _floor_cpu_s(raws: list[bytes], keys: IssuerKeys) -> tuple[float, float, float, int]:
    start = time.process_time()
    parsed = [parse_batch(raw) for raw in raws]
    parse_s = time.process_time() - start
    start = time.process_time()
    verified = _tacs(parsed, keys)
    tac_s = time.process_time() - start
    insert_s = _insert_cpu_s(parsed)
    return parse_s, tac_s, insert_s, verified


def _insert_cpu_s(parsed: list[ParsedBatch]) -> float:
    batches, rows = [], []
    for batch_id, batch in enumerate(parsed, 1):
        h = batch.header
        assert h is not None, "the twin's own uploads have readable headers"
        batches.append(
            (
                batch_id,
                batch_id.to_bytes(32, "big"),
                f"b{batch_id}",
                h.terminal_id,
                h.batch_seq,
                20261124,
                0,
                0,
            )
        )
        for _, _, r in batch.records:
            key = r.asn + bytes((1 if r.tx_type in _LOAD_TYPES else 2,)) + r.counter.to_bytes(2, "big")
            identity = (
                key if r.tx_type in _LOAD_TYPES else r.terminal_id + r.terminal_serial.to_bytes(4, "big")
            )
            where = (r.terminal_id, r.terminal_serial, batch_id, identity, r.date_time, r.balance_after_fen)
            rows.append((key, batch_id, "p", r.tx_type, r.amount_fen, 20261124, *where))
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(str(Path(folder) / "floor.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_FLOOR_SCHEMA)
        start = time.process_time()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO batches(id, digest, name, terminal_id, batch_seq, clearing_day, declared_load_fen, "
            "declared_purchase_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            batches,
        )
        db.executemany(
            "INSERT OR IGNORE INTO records(key, batch_id, participant, tx_type, amount_fen, day, "
            "terminal_id, serial, posting_id, identity, moment, balance_after_fen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute("COMMIT")
        insert_s = time.process_time() - start
        db.close()
    return insert_s


def _tacs(parsed: list[ParsedBatch], keys: IssuerKeys) -> int:
    masters: dict[tuple[int, int], Any] = {}
    cards: dict[bytes, tuple[Any, int]] = {}
    verified = 0
    for batch in parsed:
        for _, wire, r in batch.records:
            card = cards.get(r.asn)
            if card is None:
                card = cards[r.asn] = _card_cipher(r, keys, masters)
            encryptor, block = card
            update = encryptor.update
            if block == 8 and r.tx_type not in _LOAD_TYPES:
                _, b1, b2 = _THREE_BLOCKS.unpack_from(wire, 10)
                out = update(wire[10:18])
                out = update((int.from_bytes(out, "big") ^ b1).to_bytes(8, "big"))
                out = update((int.from_bytes(out, "big") ^ (b2 & _LAST_MASK | _LAST_PAD)).to_bytes(8, "big"))
                verified += out[:4] == r.tac
                continue
            if r.tx_type in _LOAD_TYPES:
                data = load_tac_data(
                    r.balance_after_fen, r.counter, r.amount_fen, r.tx_type, r.terminal_id, r.date_time
                )
            else:
                data = purchase_tac_data(
                    r.amount_fen, r.tx_type, r.terminal_id, r.terminal_serial, r.date_time
                )
            data = pad80(data, block)
            out = bytes(block)
            for at in range(0, len(data), block):
                mixed = int.from_bytes(out, "big") ^ int.from_bytes(data[at : at + block], "big")
                out = update(mixed.to_bytes(block, "big"))
            verified += out[:4] == r.tac
    return verified


def _card_cipher(r: WireRecord, keys: IssuerKeys, masters: dict[tuple[int, int], Any]) -> tuple[Any, int]:
    algorithm = _ALGORITHMS[r.algorithm]
    master = masters.get((r.algorithm, r.key_index))
    if master is None:
        key = keys.master(KeyUsage.TAC, algorithm, r.key_index)
        cipher = algorithms.SM4(key) if algorithm is Algorithm.SM4 else TripleDES(key + key[:8])
        master = masters[(r.algorithm, r.key_index)] = Cipher(cipher, modes.ECB()).encryptor()
    inverted = (int.from_bytes(r.asn, "big") ^ _ALL_ONES_64).to_bytes(8, "big")
    dtk = bytes(master.update(r.asn + inverted))
    tk = tac_key(algorithm, dtk)
    if algorithm is Algorithm.SM4:
        return Cipher(algorithms.SM4(tk), modes.ECB()).encryptor(), 16
    return Cipher(TripleDES(tk * 3), modes.ECB()).encryptor(), 8
