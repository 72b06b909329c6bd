"""The clearing house's tables, and the unique indexes that make a double post impossible.

A record's identity is what its proof covers, so no terminal can forge a second one:

    purchases (05, 06, 09)   terminal ID + PSAM serial: the purchase TAC covers both (and the
                             amount and time) but not the card's counter, so a counter can be
                             re-encoded while the TAC still verifies; a serial cannot
    loads (01, 02)           card key ASN | family | online counter: the load TAC covers the counter
    account payments         their own 12-byte key

Two partial unique indexes hold those identities in the database itself: even a second writer
that bypassed the writer lock (model.backoffice.writer_lock), with a memory that misses the
first writer's records, cannot insert a record twice; its batch rolls back whole.
"""

from __future__ import annotations

import sqlite3

from model.backoffice.terms import ClearingError

PURCHASE_TYPES_SQL = "(5, 6, 9)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    terminal_id BLOB,
    batch_seq INTEGER,
    clearing_day INTEGER NOT NULL,
    declared_load_fen INTEGER NOT NULL,
    declared_purchase_fen INTEGER NOT NULL,
    raw BLOB                       -- the file's bytes, kept when any part of it is quarantined
);
CREATE INDEX IF NOT EXISTS batches_terminal ON batches(terminal_id, batch_seq);
CREATE TABLE IF NOT EXISTS records (
    -- Appended in ingest order. A purchase's identity index is in terminal then serial order,
    -- which is nearly the upload order (a batch is one terminal's serials): cheap to keep.
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL,             -- ASN(8) | family(1) | counter(2); 12 bytes for account payments
    batch_id INTEGER NOT NULL,
    participant TEXT NOT NULL,
    tx_type INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL,
    day INTEGER NOT NULL,          -- the transaction's day, YYYYMMDD
    terminal_id BLOB NOT NULL,
    serial INTEGER NOT NULL,
    posting_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,          -- record index in the batch; -1 for the whole batch or its tail
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw BLOB,                      -- the record's bytes (the batch's are in batches.raw)
    key BLOB
);
CREATE TABLE IF NOT EXISTS releases (
    quarantine_id INTEGER PRIMARY KEY REFERENCES quarantine(id),
    posting_id INTEGER,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    quarantine_id INTEGER PRIMARY KEY REFERENCES quarantine(id),
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

IDENTITY_INDEXES = f"""
CREATE UNIQUE INDEX IF NOT EXISTS records_purchase_identity
    ON records(terminal_id, serial) WHERE tx_type IN {PURCHASE_TYPES_SQL};
CREATE UNIQUE INDEX IF NOT EXISTS records_card_identity
    ON records(key) WHERE tx_type NOT IN {PURCHASE_TYPES_SQL};
"""


def ensure_schema(db: sqlite3.Connection, where: str) -> None:
    db.executescript(SCHEMA)
    try:
        db.executescript(IDENTITY_INDEXES)
    except sqlite3.IntegrityError:
        raise ClearingError(
            f"{where}: records cleared twice already (same PSAM serial or card key): "
            "the database predates the identity rule; reconcile it before clearing more"
        ) from None
