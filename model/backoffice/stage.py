"""The clearing house's writes of one group of files, held in memory and written together.

A night of 8-record files paid a dozen statements per file (the batch row, the posting and its
entries, the records, the quarantine, a SELECT for each new id) and five per gap release: most
of its time was SQLite's per-statement cost, not the work. Staged, each table gets one
`executemany` per group, at the end of the group's transaction (`flush`).

What does not change: every row is still written inside the group's one transaction, so a
kill at any point leaves the whole group or nothing of it; ids are reserved from the tables'
maxima read under the write lock (BEGIN IMMEDIATE), so they are the ids the rows get; a file
that fails part way is cut off the stage (`mark`, `truncate`) and leaves nothing. The unique
identity indexes still refuse a second post: at `flush`, where the caller rolls the group back
and replays it file by file (model.backoffice.clearing).

Bounded: a group holds at most GROUP_FILES_MAX files of GROUP_BYTES_MAX bytes in all
(model.backoffice.clearing), so the stage holds at most that many records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model.backoffice.ledger import balanced

BatchRow = tuple[int, bytes, str, bytes | None, int | None, int, int, int, bytes | None]
# One batch's cleared money on its way to its participant's posting of the group:
# (posting id, participant, debit account of the loads, batch id, file name, loads fen, purchases fen)
BatchMoney = tuple[int, str, str, int, str, int, int]
RecordRow = tuple[bytes, int, str, int, int, int, bytes, int, int, bytes, bytes, int]
QuarantineRow = tuple[int, int, int, str, str, bytes | None, bytes | None]


@dataclass(slots=True)
class Mark:
    """Where the stage stood when a file began: `truncate` goes back to it."""

    lengths: tuple[int, ...]
    ids: tuple[int, int, int]


@dataclass(slots=True)
class Stage:
    """Rows waiting for the group's flush, and the next id of each table that hands out ids."""

    batch_id_next: int = 1
    posting_id_next: int = 1
    quarantine_id_next: int = 1
    batches: list[BatchRow] = field(default_factory=list)
    postings: list[tuple[int, int, str]] = field(default_factory=list)
    entries: list[tuple[int, str, int]] = field(default_factory=list)
    records: list[RecordRow] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    releases: list[tuple[int, int | None, str]] = field(default_factory=list)
    rejections: list[tuple[int, str]] = field(default_factory=list)  # quarantine id, note
    alerts: list[tuple[int, str, str]] = field(default_factory=list)
    # Gap holds that this group's files closed, (quarantine id, record, participant, batch id):
    # posted together when the group's files are staged (holds.stage_gap_releases), one posting
    # per participant instead of one per file. Memory took them at once (holds._spend).
    gap_releases: list[tuple[int, Any, str, int]] = field(default_factory=list)
    # The batches' cleared money, posted at the group's end one posting per participant
    # (model.backoffice.posting.stage_group_postings); `posting_of` names each participant's
    # posting id, reserved by its first batch with money in the group.
    batch_money: list[BatchMoney] = field(default_factory=list)
    posting_of: dict[str, int] = field(default_factory=dict)
    digests: dict[bytes, int] = field(default_factory=dict)  # staged batch digest -> batch id

    def _tables(self) -> tuple[list[Any], ...]:
        return (
            self.batches,
            self.postings,
            self.entries,
            self.records,
            self.quarantine,
            self.releases,
            self.rejections,
            self.alerts,
            self.gap_releases,
            self.batch_money,
        )

    def open(self, db: sqlite3.Connection) -> None:
        """Empty, with ids after the tables' maxima: called under the write lock."""
        assert db.in_transaction, "ids are reserved under the write lock"
        assert not any(self._tables()), "a stage is flushed or dropped before it opens again"
        self.digests.clear()
        self.posting_of.clear()
        self.batch_id_next, self.posting_id_next, self.quarantine_id_next = (
            int(n)
            for n in db.execute(
                "SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM batches), "
                "(SELECT COALESCE(MAX(id), 0) + 1 FROM postings), "
                "(SELECT COALESCE(MAX(id), 0) + 1 FROM quarantine)"
            ).fetchone()
        )

    def drop(self) -> None:
        for table in self._tables():
            table.clear()
        self.digests.clear()
        self.posting_of.clear()

    def mark(self) -> Mark:
        return Mark(
            tuple(map(len, self._tables())),
            (self.batch_id_next, self.posting_id_next, self.quarantine_id_next),
        )

    def truncate(self, mark: Mark) -> None:
        """Forget what was staged since `mark` (a file that failed part way)."""
        for batch in self.batches[mark.lengths[0] :]:
            self.digests.pop(batch[1], None)
        for table, length in zip(self._tables(), mark.lengths, strict=True):
            del table[length:]
        self.batch_id_next, self.posting_id_next, self.quarantine_id_next = mark.ids
        self.posting_of = {money[1]: money[0] for money in self.batch_money}

    def batch_id(self) -> int:
        self.batch_id_next += 1
        return self.batch_id_next - 1

    def quarantine_ids(self, count: int) -> int:
        """The first of `count` consecutive quarantine ids."""
        first = self.quarantine_id_next
        self.quarantine_id_next += count
        return first

    def post(self, day: int, memo: str, lines: Sequence[tuple[str, int]]) -> int:
        """Stage one balanced posting (the ledger's own rule, `ledger.balanced`); its id."""
        posting_id = self.reserve_posting()
        self.post_reserved(posting_id, day, memo, lines)
        return posting_id

    def reserve_posting(self) -> int:
        """The id of a posting staged later (`post_reserved`), in this group."""
        self.posting_id_next += 1
        return self.posting_id_next - 1

    def post_reserved(self, posting_id: int, day: int, memo: str, lines: Sequence[tuple[str, int]]) -> None:
        """Stage one balanced posting under an id `reserve_posting` gave."""
        assert posting_id < self.posting_id_next, "a posting id is reserved before it is used"
        kept = balanced(memo, lines)
        self.postings.append((posting_id, day, memo))
        self.entries += [(posting_id, account, amount) for account, amount in kept]

    def flush(self, db: sqlite3.Connection) -> None:
        """Write everything staged, parents before children, then empty the stage.

        Raises sqlite3.IntegrityError when a record's identity is on the books already (the
        caller rolls back); the stage is emptied either way."""
        # Money and releases still waiting for the group's end would vanish unwritten.
        assert not self.batch_money and not self.gap_releases, "the group's end was not staged"
        try:
            _write(db, self)
        finally:
            self.drop()


def _write(db: sqlite3.Connection, stage: Stage) -> None:
    if stage.batches:
        db.executemany(
            "INSERT INTO batches(id, digest, name, terminal_id, batch_seq, clearing_day, declared_load_fen, "
            "declared_purchase_fen, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            stage.batches,
        )
    if stage.postings:
        db.executemany("INSERT INTO postings(id, day, memo) VALUES (?, ?, ?)", stage.postings)
        db.executemany("INSERT INTO entries(posting_id, account, amount_fen) VALUES (?, ?, ?)", stage.entries)
    if stage.records:
        db.executemany(
            "INSERT INTO records(key, batch_id, participant, tx_type, amount_fen, day, terminal_id, serial, "
            "posting_id, identity, moment, balance_after_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            stage.records,
        )
    if stage.quarantine:
        db.executemany(
            "INSERT INTO quarantine(id, batch_id, idx, reason, detail, raw, key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            stage.quarantine,
        )
    if stage.releases:
        db.executemany(
            "INSERT INTO releases(quarantine_id, posting_id, note) VALUES (?, ?, ?)", stage.releases
        )
    if stage.rejections:
        db.executemany("INSERT INTO rejections(quarantine_id, note) VALUES (?, ?)", stage.rejections)
    if stage.alerts:
        db.executemany("INSERT INTO alerts(batch_id, kind, detail) VALUES (?, ?, ?)", stage.alerts)
