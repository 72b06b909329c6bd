"""The floor under the clearing house's night: the work no clearing of these records can skip.

For the same records, measured in the same run: each card's TAC key derived once (one ECB call
under the issuer master key, one cipher set-up under the card key), each record's TAC chain
(its CBC blocks, one `update` each), then the records inserted into a bare records table with
its one unique identity index, in one `executemany`. No parsing (the records are decoded before
the clock starts), no checks, no ledger. The night's CPU over this floor says what the clearing
house's own logic costs.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.records import WireRecord, parse_batch
from model.security import Algorithm, IssuerKeys, KeyUsage, load_tac_data, pad80, purchase_tac_data, tac_key

_LOAD_TYPES = (0x01, 0x02)
_ALL_ONES_64 = (1 << 64) - 1


def decoded_records(raws: list[bytes]) -> list[WireRecord]:
    return [record for raw in raws for _, _, record in parse_batch(raw).records]


def floor_cpu_s(records: list[WireRecord], keys: IssuerKeys) -> tuple[float, float, int]:
    """(TAC CPU s, insert CPU s, TACs that verified) for `records`."""
    start = time.process_time()
    verified = _tacs(records, keys)
    tac_s = time.process_time() - start
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(str(Path(folder) / "floor.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE records (id INTEGER PRIMARY KEY, key BLOB NOT NULL, amount_fen INTEGER NOT NULL, "
            "identity BLOB NOT NULL)"
        )
        db.execute("CREATE UNIQUE INDEX records_identity ON records(identity)")
        rows = [
            (
                r.asn + r.counter.to_bytes(2, "big"),
                r.amount_fen,
                r.asn + r.counter.to_bytes(2, "big")
                if r.tx_type in _LOAD_TYPES
                else r.terminal_id + r.terminal_serial.to_bytes(4, "big"),
            )
            for r in records
        ]
        start = time.process_time()
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR IGNORE INTO records(key, amount_fen, identity) VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
        insert_s = time.process_time() - start
        db.close()
    return tac_s, insert_s, verified


def _tacs(records: list[WireRecord], keys: IssuerKeys) -> int:
    masters: dict[tuple[int, int], Any] = {}
    cards: dict[bytes, tuple[Any, int]] = {}
    verified = 0
    for r in records:
        card = cards.get(r.asn)
        if card is None:
            card = cards[r.asn] = _card_cipher(r, keys, masters)
        encryptor, block = card
        if r.tx_type in _LOAD_TYPES:
            data = load_tac_data(
                r.balance_after_fen, r.counter, r.amount_fen, r.tx_type, r.terminal_id, r.date_time
            )
        else:
            data = purchase_tac_data(r.amount_fen, r.tx_type, r.terminal_id, r.terminal_serial, r.date_time)
        data = pad80(data, block)
        out = bytes(block)
        for at in range(0, len(data), block):
            mixed = int.from_bytes(out, "big") ^ int.from_bytes(data[at : at + block], "big")
            out = encryptor.update(mixed.to_bytes(block, "big"))
        verified += out[:4] == r.tac
    return verified


def _card_cipher(r: WireRecord, keys: IssuerKeys, masters: dict[tuple[int, int], Any]) -> tuple[Any, int]:
    algorithm = Algorithm(r.algorithm)
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
