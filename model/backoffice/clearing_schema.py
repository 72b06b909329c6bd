"""The clearing house's tables, and the unique indexes that make a double post impossible.

A record's identity is what its proof covers, so no terminal can forge a second one:

    purchases (05, 06, 09)   terminal ID + PSAM serial: the purchase TAC covers both (and the
                             amount and time) but not the card's counter, so a counter can be
                             re-encoded while the TAC still verifies; a serial cannot
    loads (01, 02)           card key ASN | family | online counter: the load TAC covers the counter
    account payments         their own 12-byte key

The `identity` column holds that identity (`record_identity`: 10 bytes for a purchase, 11 for
a load, 12 for an account payment, so the kinds never collide) under one unique index: even a
second writer that bypassed the writer lock (model.backoffice.writer_lock), with a memory that
misses the first writer's records, cannot insert a record twice; its group rolls back whole.
(Two partial unique indexes said the same, at three times the cost of the records' inserts:
SQLite evaluates a partial index's condition per row; `migrate` turns such a database into this
one.)
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
    posting_id INTEGER NOT NULL,
    identity BLOB NOT NULL,        -- what the record's proof covers: record_identity()
    moment BLOB,                   -- the card's date-time, BCD YYYYMMDDhhmmss (NULL: account payment)
    balance_after_fen INTEGER      -- the card's purse after it (NULL: account payment)
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

IDENTITY_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS records_identity ON records(identity)"
_OLD_INDEXES = ("records_purchase_identity", "records_card_identity")
PURCHASE_TYPES = (5, 6, 9)
_LATER_COLUMNS = (("moment", "BLOB"), ("balance_after_fen", "INTEGER"))


def record_identity(tx_type: int, key: bytes, terminal_id: bytes, serial: int) -> bytes:
    """A record's identity: terminal ID + PSAM serial for a purchase, its key otherwise."""
    return terminal_id + serial.to_bytes(4, "big") if tx_type in PURCHASE_TYPES else key


def ensure_schema(db: sqlite3.Connection, where: str) -> None:
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(records)")}
    for name, kind in _LATER_COLUMNS:
        if name not in columns:  # a database made before the column: older rows keep NULL
            db.execute(f"ALTER TABLE records ADD COLUMN {name} {kind}")
    try:
        if "identity" not in columns:
            _migrate(db)
        db.execute(IDENTITY_INDEX)
    except sqlite3.IntegrityError:
        raise ClearingError(
            f"{where}: records cleared twice already (same PSAM serial or card key): "
            "the database predates the identity rule; reconcile it before clearing more"
        ) from None


def _migrate(db: sqlite3.Connection) -> None:
    """A database made before the identity column: the column filled in, the old indexes gone.
    One transaction, O(records)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE records ADD COLUMN identity BLOB")
        rows = db.execute("SELECT id, tx_type, key, terminal_id, serial FROM records").fetchall()
        db.executemany(
            "UPDATE records SET identity = ? WHERE id = ?",
            [(record_identity(t, bytes(k), bytes(term), s), i) for i, t, k, term, s in rows],
        )
        for name in _OLD_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {name}")
        db.execute(IDENTITY_INDEX)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
