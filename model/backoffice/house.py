"""What every room of the clearing house works on: its database, keys, registry and memory.

The clearing house (model.backoffice.clearing) is cut into rooms that each do one thing to one
`House`: reading a batch file (`batch_ingest`), proving each record (`record_checks`), holding
and releasing records (`holds`), posting a batch (`posting`) and the operator's review
(`review`). They share this state and nothing else:

    memory   identities spent, gaps held, shadow balances (`identity.Spent`), each terminal's
             highest batch, the quarantine's size: rebuilt from committed rows by `load_state`
             whenever a unit of work rolls back, so memory never disagrees with the database
    stage    the rows of the group in flight (`stage.Stage`), written at its end
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from model.backoffice.clearing_schema import ensure_schema
from model.backoffice.gc_pause import paused_gc
from model.backoffice.identity import Spent
from model.backoffice.ledger import Ledger
from model.backoffice.registry import Registry
from model.backoffice.stage import Stage
from model.backoffice.tac_verifier import TacVerifier
from model.backoffice.terms import HotlistLookup, NoHotlist

CUTOFF_DAYS_DEFAULT = 7


class House:
    """The clearing house's state over one clearing database (see the module docstring)."""

    def __init__(
        self,
        ledger: Ledger,
        registry: Registry,
        verifier: TacVerifier,
        hotlist: HotlistLookup | None = None,
        cutoff_days: int = CUTOFF_DAYS_DEFAULT,
    ) -> None:
        self.ledger = ledger
        self.db: sqlite3.Connection = ledger.db
        self.registry = registry
        self.verifier = verifier
        self.hotlist: HotlistLookup = hotlist if hotlist is not None else NoHotlist()
        self.cutoff_days = cutoff_days
        self.stage = Stage()
        ensure_schema(self.db, "clearing database")
        self.spent = Spent()
        self.batch_seqs: dict[bytes, int] = {}
        self.quarantine_rows = 0
        self.load_state()

    def load_state(self) -> None:
        """Memory is whatever the committed rows say: after a crash or a rolled-back batch too.
        O(records + quarantine)."""
        self.stage.drop()
        with paused_gc():
            self.spent = Spent.load(self.db, self.registry)
        self.batch_seqs = {
            bytes(terminal): int(seq)
            for terminal, seq in self.db.execute(
                "SELECT terminal_id, MAX(batch_seq) FROM batches "
                "WHERE batch_seq IS NOT NULL GROUP BY terminal_id"
            )
        }
        self.quarantine_rows = int(self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])

    @contextmanager
    def staged(self, durable: bool = True) -> Iterator[None]:
        """One transaction whose rows go through the stage: ids reserved under the write lock,
        everything flushed just before the commit; on any failure the transaction rolls back
        and memory is rebuilt from what is committed."""
        try:
            with paused_gc(), self.ledger.transaction(durable):
                self.stage.open(self.db)
                yield
                self.stage.flush(self.db)
        except BaseException:
            self.load_state()
            raise
